package com.maddatum.worker.runner;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
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
        // The blob cache's default home: not a run, however old, and not counted as one.
        Path cache = Files.createDirectories(work.resolve(".cache"));
        Files.setLastModifiedTime(cache, FileTime.fromMillis(1));
        assertThat(new WorkDirJanitor(work, 3).prune()).isEqualTo(2);
        try (Stream<Path> left = Files.list(work)) {
            assertThat(left.map(p -> p.getFileName().toString())).containsExactlyInAnyOrder("run-2", "run-3", "run-4",
                    ".cache");
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

    /**
     * A script can make a tree deeper than any path can name (here 20 levels of 250 characters, built
     * bottom-up by renames as {@code os.chdir} and {@code os.makedirs} would). A walk by path fails on
     * it with "File name too long", even as root, and that failure used to escape prune().
     */
    @Test
    void aTreeDeeperThanAPathCanNameIsRemovedAndPruneNeverThrows() throws Exception {
        Path old = Files.createDirectories(work.resolve("old-run"));
        Path dir = old;
        List<Path> chain = new ArrayList<>();
        for (int i = 0; i < 20; i++) {
            dir = Files.createDirectory(dir.resolve("d"));
            chain.add(dir);
        }
        Files.writeString(dir.resolve("model.pt"), "weights");
        for (int i = chain.size() - 1; i >= 0; i--) {
            Files.move(chain.get(i), chain.get(i).resolveSibling("x".repeat(250)));
        }
        Files.setLastModifiedTime(old, FileTime.fromMillis(1_000L));
        Files.setLastModifiedTime(Files.createDirectories(work.resolve("new-run")), FileTime.fromMillis(9_000_000L));

        assertThat(new WorkDirJanitor(work, 1).prune()).isEqualTo(1);
        try (Stream<Path> left = Files.list(work)) {
            assertThat(left.map(p -> p.getFileName().toString())).containsExactly("new-run");
        }
    }

    /** {@code os.makedirs(p, 0o300)}: the owner may not list it. (Root ignores the bits; other users do not.) */
    @Test
    void aDirectoryTheScriptLockedIsUnlockedAndRemoved() throws Exception {
        Path old = Files.createDirectories(work.resolve("old-run"));
        Path locked = Files.createDirectories(old.resolve("out/locked"));
        Files.writeString(locked.resolve("secret"), "x");
        Files.setPosixFilePermissions(locked, PosixFilePermissions.fromString("-wx------"));
        Files.setPosixFilePermissions(old.resolve("out"), PosixFilePermissions.fromString("r-x------"));
        Files.setLastModifiedTime(old, FileTime.fromMillis(1_000L));
        Files.setLastModifiedTime(Files.createDirectories(work.resolve("new-run")), FileTime.fromMillis(9_000_000L));

        assertThat(new WorkDirJanitor(work, 1).prune()).isEqualTo(1);
        assertThat(old).doesNotExist();
    }

    @Test
    void aSymbolicLinkInARunIsRemovedNotFollowed() throws Exception {
        Path precious = Files.writeString(Files.createDirectories(work.resolveSibling(work.getFileName() + "-keep"))
                .resolve("data.csv"), "a,b");
        Path old = Files.createDirectories(work.resolve("old-run"));
        Files.createSymbolicLink(old.resolve("data"), precious.getParent());
        Files.setLastModifiedTime(old, FileTime.fromMillis(1_000L));
        Files.setLastModifiedTime(Files.createDirectories(work.resolve("new-run")), FileTime.fromMillis(9_000_000L));

        assertThat(new WorkDirJanitor(work, 1).prune()).isEqualTo(1);
        assertThat(old).doesNotExist();
        assertThat(precious).hasContent("a,b");
    }
}
