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

    @Test
    void aRunningJobsDirectoryIsNeverPrunedHoweverOld() throws Exception {
        WorkDirJanitor janitor = new WorkDirJanitor(work, 2);
        janitor.use("long-run");
        Path longRun = Files.createDirectories(work.resolve("long-run"));
        Files.writeString(longRun.resolve("stdout.log"), "epoch 1");
        Files.setLastModifiedTime(longRun, FileTime.fromMillis(1_000L)); // started long before the others
        for (int i = 0; i < 5; i++) {
            Path run = Files.createDirectories(work.resolve("short-" + i));
            Files.setLastModifiedTime(run, FileTime.fromMillis(1_000_000L * (i + 1)));
        }
        janitor.prune();
        try (Stream<Path> left = Files.list(work)) {
            // The running one counts towards keep-runs, so one finished run is kept beside it.
            assertThat(left.map(p -> p.getFileName().toString())).containsExactlyInAnyOrder("long-run", "short-4");
        }
        assertThat(longRun.resolve("stdout.log")).exists();

        // Once it has ended it is pruned by age like any other.
        janitor.release("long-run");
        Files.setLastModifiedTime(Files.createDirectories(work.resolve("short-5")), FileTime.fromMillis(9_000_000L));
        janitor.prune();
        try (Stream<Path> left = Files.list(work)) {
            assertThat(left.map(p -> p.getFileName().toString())).containsExactlyInAnyOrder("short-4", "short-5");
        }
    }
}
