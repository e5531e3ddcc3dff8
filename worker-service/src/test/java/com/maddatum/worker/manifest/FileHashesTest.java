package com.maddatum.worker.manifest;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.FileTime;
import java.security.MessageDigest;
import java.time.Instant;
import java.util.HexFormat;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** SHA-256 of files, read once while a file stays the same. */
class FileHashesTest {

    /** SHA-256("abc") and SHA-256("abd"), from FIPS 180-2 and sha256sum. */
    private static final String ABC = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
    private static final String ABD = "a52d159f262b2c6ddb724a61840befc36eb30c88877a4030b65cbe86298449c9";

    @TempDir
    Path dir;

    private final FileHashes hashes = new FileHashes();

    @Test
    void hashesAFileOnceWhileItsSizeTimeAndInodeStayTheSame() throws Exception {
        Path data = Files.writeString(dir.resolve("data.csv"), "abc");
        assertThat(hashes.sha256(data)).isEqualTo(ABC);
        assertThat(hashes.sha256(data)).isEqualTo(ABC);
        assertThat(hashes.sha256(dir.resolve(".").resolve("data.csv"))).as("the same file by another path").isEqualTo(ABC);
        assertThat(hashes.computed()).isEqualTo(1);
    }

    @Test
    void aFileRewrittenInPlaceIsHashedAgainWhenItsTimeChanges() throws Exception {
        Path data = Files.writeString(dir.resolve("data.csv"), "abc");
        Files.setLastModifiedTime(data, FileTime.from(Instant.parse("2026-01-01T00:00:00Z")));
        hashes.sha256(data);
        Files.writeString(data, "abd"); // same size
        Files.setLastModifiedTime(data, FileTime.from(Instant.parse("2026-01-01T00:00:01Z")));
        assertThat(hashes.sha256(data)).isEqualTo(ABD);
        assertThat(hashes.computed()).isEqualTo(2);
    }

    @Test
    void aFileReplacedByRenameIsHashedAgainEvenWithTheSameSizeAndTime() throws Exception {
        FileTime time = FileTime.from(Instant.parse("2026-01-01T00:00:00Z"));
        Path data = Files.writeString(dir.resolve("data.csv"), "abc");
        Files.setLastModifiedTime(data, time);
        hashes.sha256(data);
        Path replacement = Files.writeString(dir.resolve("data.csv.new"), "abd");
        Files.setLastModifiedTime(replacement, time);
        Files.move(replacement, data, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        assertThat(hashes.sha256(data)).isEqualTo(ABD);
    }

    /** Two runs beginning together on the same data: one read, both wait for it. */
    @Test
    void concurrentCallsForTheSameVersionOfAFileReadItOnce() throws Exception {
        Path data = Files.writeString(dir.resolve("data.csv"), "abc");
        CountDownLatch entered = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        FileHashes held = new FileHashes() {
            @Override
            protected String digest(Path file) throws IOException {
                entered.countDown();
                try {
                    release.await();
                } catch (InterruptedException e) {
                    throw new IOException(e);
                }
                return super.digest(file);
            }
        };
        ExecutorService threads = Executors.newFixedThreadPool(2);
        try {
            Future<String> first = threads.submit(() -> held.sha256(data));
            assertThat(entered.await(10, TimeUnit.SECONDS)).isTrue();
            Thread[] second = new Thread[1];
            CountDownLatch started = new CountDownLatch(1);
            Future<String> other = threads.submit(() -> {
                second[0] = Thread.currentThread();
                started.countDown();
                return held.sha256(dir.resolve(".").resolve("data.csv"));
            });
            assertThat(started.await(10, TimeUnit.SECONDS)).isTrue();
            // Parked either on the first read's future (shared) or, were it not shared, in a read of its own.
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (second[0].getState() != Thread.State.WAITING && System.nanoTime() < deadline) {
                Thread.onSpinWait();
            }
            release.countDown();
            assertThat(first.get(10, TimeUnit.SECONDS)).isEqualTo(ABC);
            assertThat(other.get(10, TimeUnit.SECONDS)).isEqualTo(ABC);
            assertThat(held.computed()).isEqualTo(1);
        } finally {
            release.countDown();
            threads.shutdownNow();
        }
    }

    @Test
    void theScriptsFolderHashIsThatOfSha256sumsListingOfItsPythonFiles() throws Exception {
        Files.writeString(dir.resolve("b.py"), "abd");
        Files.writeString(dir.resolve("a.py"), "abc");
        Files.writeString(dir.resolve("notes.txt"), "not python");
        Files.createDirectories(dir.resolve("tests")).resolve("t.py").toFile().createNewFile();
        String listing = ABC + "  a.py\n" + ABD + "  b.py\n";
        assertThat(hashes.pythonFilesSha256(dir)).isEqualTo(HexFormat.of().formatHex(
                MessageDigest.getInstance("SHA-256").digest(listing.getBytes(StandardCharsets.UTF_8))));
        hashes.pythonFilesSha256(dir);
        assertThat(hashes.computed()).as("each file read once while it stays the same").isEqualTo(2);
    }
}
