package com.maddatum.boss.blob;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;

import com.maddatum.boss.support.TestProperties;
import com.maddatum.testsupport.MutableClock;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Review: races between a put of bytes already stored and the collector's delete. */
class ReviewBlobRaceTest {

    @TempDir
    Path dir;

    private static final byte[] MODEL = "the same model.pt a re-run makes again".getBytes(StandardCharsets.UTF_8);

    /**
     * Round lists X as old; a Worker then uploads X again (200, "stored"); the outcome that names X is not
     * accepted yet when the round asks for references; the round deletes X. The Worker was told X is stored.
     */
    @Test
    void aReuploadDuringACollectionRoundIsDeletedAfterItWasAcknowledged() throws IOException {
        MutableClock clock = MutableClock.stopped();
        DiskBlobStore store = new DiskBlobStore(dir.resolve("blobs"), clock);
        String sha = store.put(new ByteArrayInputStream(MODEL), null, Long.MAX_VALUE, null).sha256();
        // stored (by the disk's clock) at the test clock's now; then it was pruned long ago and is old
        Files.setLastModifiedTime(dir.resolve("blobs").resolve(sha), java.nio.file.attribute.FileTime.from(clock.instant()));
        clock.advance(Duration.ofHours(3));
        BlobStore.Blob[] acknowledged = new BlobStore.Blob[1];
        BlobReferences workerUploadsMeanwhile = () -> {
            try {
                // POST /blobs?sha256=X answered 200 while the round runs
                acknowledged[0] = store.put(new ByteArrayInputStream(MODEL), sha, Long.MAX_VALUE, null);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            return Set.of(); // the outcome naming X arrives a moment later
        };
        BlobCollector collector = new BlobCollector(store, List.of(workerUploadsMeanwhile), clock,
                TestProperties.with(Map.of("boss.blob-collection.grace", "1h")));

        collector.collect();

        assertThat(acknowledged[0]).isNotNull();
        assertThat(acknowledged[0].storedAt()).isEqualTo(clock.instant()); // the put said: young again
        assertThat(store.find(sha)).as("a blob the Boss just acknowledged is still stored").isPresent();
    }

    /** A put of stored bytes whose blob is deleted between its exists() and its setLastModifiedTime(). */
    @Test
    void aPutOfStoredBytesRacingADeleteFailsInsteadOfStoringThem() throws IOException {
        Path blobs = dir.resolve("blobs2");
        DeletingClock clock = new DeletingClock();
        DiskBlobStore store = new DiskBlobStore(blobs, clock);
        String sha = store.put(new ByteArrayInputStream(MODEL), null, Long.MAX_VALUE, null).sha256();
        clock.deleteOnNextInstant = blobs.resolve(sha); // the collector's delete lands right then
        assertThatCode(() -> store.put(new ByteArrayInputStream(MODEL), sha, Long.MAX_VALUE, null))
                .as("the put has the bytes in hand and should store them").doesNotThrowAnyException();
        assertThat(store.find(sha)).isPresent();
    }

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
            return ZoneId.of("UTC");
        }

        @Override
        public Clock withZone(ZoneId zone) {
            return this;
        }
    }
}
