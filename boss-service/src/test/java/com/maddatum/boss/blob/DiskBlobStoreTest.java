package com.maddatum.boss.blob;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The blob store contract on disk, and what only the disk store does. */
class DiskBlobStoreTest extends BlobStoreContract {

    @TempDir
    Path dir;

    @Override
    protected BlobStore store() {
        return new DiskBlobStore(dir.resolve("blobs"), clock);
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

    @Test
    void aStartCountsTheBytesStoredBefore() throws IOException {
        BlobStore first = store();
        first.put(new ByteArrayInputStream(bytes(1000, 23)), null, Long.MAX_VALUE, null);
        first.put(new ByteArrayInputStream(bytes(234, 24)), null, Long.MAX_VALUE, null);
        assertThat(store().totalBytes()).isEqualTo(1234);
    }

    /** The collector's delete lands between a put of stored bytes finding them and answering. */
    @Test
    void aPutOfStoredBytesRacingADeleteStoresThem() throws IOException {
        Path blobs = dir.resolve("racing");
        DeletingClock deleting = new DeletingClock();
        DiskBlobStore store = new DiskBlobStore(blobs, deleting);
        byte[] model = bytes(5000, 25);
        String sha = store.put(new ByteArrayInputStream(model), null, Long.MAX_VALUE, null).sha256();
        deleting.deleteOnNextInstant = blobs.resolve(sha);

        assertThatCode(() -> store.put(new ByteArrayInputStream(model), sha, Long.MAX_VALUE, null))
                .as("the put has the bytes in hand and stores them").doesNotThrowAnyException();
        assertThat(deleting.deleteOnNextInstant).as("the delete ran").isNull();
        assertThat(Files.readAllBytes(blobs.resolve(sha))).isEqualTo(model);
    }

    /** A clock whose next reading deletes a file first, as a collector's delete landing right then would. */
    private static final class DeletingClock extends Clock {
        volatile Path deleteOnNextInstant;

        @Override
        public Instant instant() {
            Path victim = deleteOnNextInstant;
            if (victim != null) {
                deleteOnNextInstant = null;
                try {
                    Files.deleteIfExists(victim);
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            }
            return Instant.parse("2026-01-01T00:00:00Z");
        }

        @Override
        public ZoneId getZone() {
            return ZoneOffset.UTC;
        }

        @Override
        public Clock withZone(ZoneId zone) {
            return this;
        }
    }
}
