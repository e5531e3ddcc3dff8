package com.maddatum.worker.runner;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class WorkDirJanitorTest {

    @TempDir
    Path work;

    @Test
    void keepsTheNewestRunsAndRemovesTheRestWithTheirFiles() throws Exception {
        for (int i = 0; i < 5; i++) {
            Path run = Files.createDirectories(work.resolve("run-" + i));
            Files.writeString(run.resolve("stdout.log"), "output " + i);
            Files.setLastModifiedTime(run, FileTime.fromMillis(1_000_000L * (i + 1)));
        }
        assertThat(new WorkDirJanitor(work, 3).prune()).isEqualTo(2);
        try (Stream<Path> left = Files.list(work)) {
            assertThat(left.map(p -> p.getFileName().toString())).containsExactlyInAnyOrder("run-2", "run-3", "run-4");
        }
        assertThat(new WorkDirJanitor(work, 3).prune()).isZero();
    }
}
