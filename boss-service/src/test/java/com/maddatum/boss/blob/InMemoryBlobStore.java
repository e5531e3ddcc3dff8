package com.maddatum.boss.blob;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Clock;
import java.time.Instant;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;

/**
 * A {@link BlobStore} in memory, for tests of what builds on blobs (artifacts, collection), not of the
 * stores themselves. Its clock stamps {@code storedAt}, so a test can age a blob; {@link #putAt} stores one
 * with any age.
 */
public final class InMemoryBlobStore implements BlobStore {

    private record Stored(byte[] bytes, Instant storedAt) {}

    private final Map<String, Stored> blobs = new ConcurrentHashMap<>();
    private final Clock clock;

    public InMemoryBlobStore(Clock clock) {
        this.clock = clock;
    }

    public static String sha256(byte[] bytes) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Stores {@code bytes} as if uploaded at {@code at}; returns the hash. */
    public String putAt(byte[] bytes, Instant at) {
        String sha = sha256(bytes);
        blobs.put(sha, new Stored(bytes.clone(), at));
        return sha;
    }

    @Override
    public Blob put(InputStream in, String expectedSha256, long maxBytes, Consumer<ChunkView> onChunk)
            throws IOException {
        MessageDigest digest;
        try {
            digest = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
        ByteArrayOutputStream copy = new ByteArrayOutputStream();
        try (DigestInputStream hashing = new DigestInputStream(in, digest)) {
            byte[] buffer = new byte[8192];
            for (int n; (n = hashing.read(buffer)) > 0; ) {
                if (copy.size() + n > maxBytes) {
                    throw new TooLarge(maxBytes);
                }
                copy.write(buffer, 0, n);
                if (onChunk != null) {
                    onChunk.accept(new ChunkView(buffer, 0, n));
                }
            }
        }
        String sha = HexFormat.of().formatHex(digest.digest());
        if (expectedSha256 != null && !expectedSha256.equals(sha)) {
            throw new HashMismatch(expectedSha256, sha);
        }
        Stored stored = blobs.computeIfAbsent(sha, s -> new Stored(copy.toByteArray(), clock.instant()));
        return new Blob(sha, stored.bytes().length, stored.storedAt());
    }

    @Override
    public Optional<Blob> find(String sha256) {
        Stored stored = blobs.get(sha256);
        return stored == null ? Optional.empty() : Optional.of(new Blob(sha256, stored.bytes().length, stored.storedAt()));
    }

    @Override
    public InputStream open(String sha256, long offset) throws IOException {
        Stored stored = blobs.get(sha256);
        if (stored == null) {
            throw new Missing(sha256);
        }
        ByteArrayInputStream in = new ByteArrayInputStream(stored.bytes());
        in.skipNBytes(offset);
        return in;
    }

    @Override
    public boolean delete(String sha256) {
        return blobs.remove(sha256) != null;
    }

    @Override
    public Iterable<Blob> all() {
        return List.copyOf(blobs.keySet()).stream().map(this::find).flatMap(Optional::stream).toList();
    }
}
