package com.maddatum.worker.manifest;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.FileTime;
import java.time.Instant;
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
}
