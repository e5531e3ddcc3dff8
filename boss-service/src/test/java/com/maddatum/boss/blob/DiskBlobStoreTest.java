package com.maddatum.boss.blob;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The blob store contract on disk, and what only the disk store does. */
class DiskBlobStoreTest extends BlobStoreContract {

    @TempDir
    Path dir;

    @Override
    protected BlobStore store() {
        return new DiskBlobStore(dir.resolve("blobs"), Clock.systemUTC());
    }

    @Override
    protected int leftovers() {
        try (Stream<Path> files = Files.list(dir.resolve("blobs").resolve("tmp"))) {
            return (int) files.count();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Test
    void aBlobIsAFileNamedByItsHash() throws IOException {
        byte[] data = bytes(3000, 20);
        String sha = store().put(new ByteArrayInputStream(data), null, Long.MAX_VALUE, null).sha256();
        assertThat(Files.readAllBytes(dir.resolve("blobs").resolve(sha))).isEqualTo(data);
    }

    @Test
    void aStartRemovesWhatDeadPutsLeftAndKeepsTheBlobs() throws IOException {
        BlobStore first = store();
        String sha = first.put(new ByteArrayInputStream(bytes(10, 21)), null, Long.MAX_VALUE, null).sha256();
        Files.write(dir.resolve("blobs/tmp/put-123.part"), bytes(500, 22)); // a Boss killed mid-put
        BlobStore restarted = store();
        assertThat(leftovers()).isZero();
        assertThat(restarted.find(sha)).isPresent();
    }

    @Test
    void filesThatAreNoBlobsAreNotListed() throws IOException {
        BlobStore store = store();
        Files.writeString(dir.resolve("blobs/README"), "not a blob");
        assertThat(store.all()).isEmpty();
    }
}
