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
 *
 * <p>A blob's {@code storedAt} is when it was last stored or {@linkplain #touch touched}: the blob collector
 * spares blobs younger than its grace, and deletes only {@linkplain #delete(String, Instant) conditionally} on
 * that time, so bytes a client was just told are stored cannot be deleted by a round that listed them as old
 * a moment before.
 */
public interface BlobStore {

    /** A stored blob. */
    record Blob(String sha256, long size, Instant storedAt) {}

    /**
     * What one put may take: at most {@code maxBytes} from the stream, and, when its bytes are new, no more
     * than {@code quotaBytes} stored in all once they are (bytes already stored take nothing more).
     */
    record Limits(long maxBytes, long quotaBytes) {

        public static final Limits NONE = new Limits(Long.MAX_VALUE, Long.MAX_VALUE);
    }

    /**
     * Streams {@code in} to storage while hashing it. When {@code expectedSha256} is not null and the
     * bytes hash otherwise, nothing is stored and {@link HashMismatch} is thrown. More than
     * {@code limits.maxBytes()} bytes: nothing is stored, {@link TooLarge}. New bytes that would take the
     * store past {@code limits.quotaBytes()}: nothing is stored, {@link OverQuota}. Bytes already stored are
     * not stored twice: the existing blob is returned, made young again. {@code onChunk} (may be null) sees
     * each chunk as it passes, so a caller can learn more from the stream (a CSV's header and rows) without
     * reading it twice. A store whose disk is full throws {@link StoreFull}.
     */
    Blob put(InputStream in, String expectedSha256, Limits limits, Consumer<ChunkView> onChunk) throws IOException;

    /** As {@link #put(InputStream, String, Limits, Consumer)} with no quota. */
    default Blob put(InputStream in, String expectedSha256, long maxBytes, Consumer<ChunkView> onChunk)
            throws IOException {
        return put(in, expectedSha256, new Limits(maxBytes, Long.MAX_VALUE), onChunk);
    }

    Optional<Blob> find(String sha256);

    /**
     * Makes a stored blob young again ({@code storedAt} now), as a put of its bytes would, and returns it;
     * empty when there is none (a collector deleted it meanwhile). Atomic with respect to
     * {@link #delete(String, Instant)}: once this answers, a delete with an earlier cutoff leaves the blob.
     */
    Optional<Blob> touch(String sha256) throws IOException;

    /**
     * The blob's bytes from {@code offset} on (for a resumed download), reached by seeking, not by reading
     * what comes before; {@link Missing} when there is none.
     */
    InputStream open(String sha256, long offset) throws IOException;

    /**
     * Removes the blob if it was stored (or last touched) before {@code storedBefore}, in one step with that
     * check: a blob stored again or touched after the caller decided it was old stays. True when removed.
     */
    boolean delete(String sha256, Instant storedBefore) throws IOException;

    /** Every stored blob, for collection; an implementation may stream it. */
    Iterable<Blob> all();

    /**
     * The bytes of every stored blob (never of puts still streaming), for the quota: a running total or a
     * sum the database makes, never a walk of every blob.
     */
    long totalBytes();

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

    /** New bytes that would take the store past its quota; nothing was stored. */
    final class OverQuota extends IOException {
        private final long quota;
        private final long stored;
        private final long size;

        public OverQuota(long quota, long stored, long size) {
            super(size + " new bytes would take the " + stored + " bytes stored past the quota of " + quota);
            this.quota = quota;
            this.stored = stored;
            this.size = size;
        }

        public long quota() {
            return quota;
        }

        public long stored() {
            return stored;
        }

        public long size() {
            return size;
        }
    }

    /** The storage under the store is full (no space left on the disk); nothing was stored. */
    final class StoreFull extends IOException {
        public StoreFull(IOException cause) {
            super("no space left to store the blob: " + cause.getMessage(), cause);
        }

        /**
         * A store's write that failed: {@link StoreFull} when the operating system said the disk (or the user's
         * disk quota) is full, which Java reports only in the message, else the failure as it was.
         */
        static IOException translate(IOException e) {
            String message = e.getMessage();
            boolean full = message != null && (message.contains("No space left on device")
                    || message.contains("Disk quota exceeded") || message.contains("There is not enough space"));
            return full ? new StoreFull(e) : e;
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
