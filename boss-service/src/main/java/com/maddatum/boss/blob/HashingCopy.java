package com.maddatum.boss.blob;

import com.maddatum.boss.web.Names;
import java.io.IOException;
import java.io.InputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.function.Consumer;

/**
 * The streaming half of every put, whatever the store: reads the bytes a chunk at a time, hashes and
 * counts them, shows each chunk to the caller's observer and hands it to the store's sink. One buffer of
 * {@link #CHUNK} bytes is all it holds, so a put of many GiB costs the same memory as one of a few bytes.
 */
final class HashingCopy {

    /** 1 MiB: large enough that a disk or a GridFS chunk write per chunk costs little, small enough to keep. */
    static final int CHUNK = 1 << 20;

    /** Where a store writes the chunks. */
    interface Sink {
        void write(byte[] bytes, int offset, int length) throws IOException;
    }

    record Copied(String sha256, long size) {}

    /** A sink that keeps nothing: for bytes that are only hashed, to check them. */
    static final Sink DISCARD = (bytes, offset, length) -> { };

    private HashingCopy() {}

    /**
     * Copies {@code in} to {@code sink}. More than {@code maxBytes}: {@link BlobStore.TooLarge}, thrown
     * before the chunk that crosses the limit reaches the sink. Each chunk is full ({@link #CHUNK} bytes)
     * but the last, so an observer sees at least the first MiB in its first call.
     */
    static Copied copy(InputStream in, long maxBytes, Consumer<BlobStore.ChunkView> onChunk, Sink sink)
            throws IOException {
        MessageDigest digest = sha256();
        byte[] buffer = new byte[CHUNK];
        long total = 0;
        int read;
        while ((read = in.readNBytes(buffer, 0, CHUNK)) > 0) {
            total += read;
            if (total > maxBytes) {
                throw new BlobStore.TooLarge(maxBytes);
            }
            digest.update(buffer, 0, read);
            if (onChunk != null) {
                onChunk.accept(new BlobStore.ChunkView(buffer, 0, read));
            }
            sink.write(buffer, 0, read);
        }
        return new Copied(HexFormat.of().formatHex(digest.digest()), total);
    }

    static void checkExpected(String expected, String actual) throws BlobStore.HashMismatch {
        if (expected != null && !expected.equalsIgnoreCase(actual)) {
            throw new BlobStore.HashMismatch(expected, actual);
        }
    }

    /** A blob's name: the SHA-256 of its bytes, lower-case hex. Anything else names no blob (and no file). */
    static boolean isSha256(String value) {
        return Names.isStoredSha256(value);
    }

    static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every Java runtime has SHA-256", e);
        }
    }
}
