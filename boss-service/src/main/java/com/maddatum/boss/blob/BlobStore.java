package com.maddatum.boss.blob;

import java.io.IOException;
import java.io.InputStream;
import java.time.Instant;
import java.util.Optional;
import java.util.function.Consumer;

/**
 * Bytes stored once under their SHA-256 (lower-case hex). Nothing is ever stored under a hash that was
 * not computed from the bytes themselves, and a put streams: neither implementation holds a whole blob
 * in memory.
 */
public interface BlobStore {

    /** A stored blob. */
    record Blob(String sha256, long size, Instant storedAt) {}

    /**
     * Streams {@code in} to storage while hashing it. When {@code expectedSha256} is not null and the
     * bytes hash otherwise, nothing is stored and {@link HashMismatch} is thrown. More than
     * {@code maxBytes} bytes: nothing is stored, {@link TooLarge}. Bytes already stored are not stored
     * twice: the existing blob is returned. {@code onChunk} (may be null) sees each chunk as it passes,
     * so a caller can learn more from the stream (a CSV's header and rows) without reading it twice.
     */
    Blob put(InputStream in, String expectedSha256, long maxBytes, Consumer<ChunkView> onChunk) throws IOException;

    Optional<Blob> find(String sha256);

    /** The blob's bytes from {@code offset} on (for a resumed download); {@link Missing} when there is none. */
    InputStream open(String sha256, long offset) throws IOException;

    /** Removes the blob; false when there was none. */
    boolean delete(String sha256) throws IOException;

    /** Every stored blob, for collection and quotas; an implementation may stream it. */
    Iterable<Blob> all();

    /** A chunk of a put's bytes, valid only during the callback. */
    record ChunkView(byte[] bytes, int offset, int length) {}

    final class TooLarge extends IOException {
        private final long limit;

        public TooLarge(long limit) {
            super("more than " + limit + " bytes");
            this.limit = limit;
        }

        public long limit() {
            return limit;
        }
    }

    final class HashMismatch extends IOException {
        private final String expected;
        private final String actual;

        public HashMismatch(String expected, String actual) {
            super("expected sha256 " + expected + " but the bytes hash to " + actual);
            this.expected = expected;
            this.actual = actual;
        }

        public String expected() {
            return expected;
        }

        public String actual() {
            return actual;
        }
    }

    final class Missing extends IOException {
        public Missing(String sha256) {
            super("no blob " + sha256);
        }
    }
}
