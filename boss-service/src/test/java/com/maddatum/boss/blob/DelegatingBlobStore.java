package com.maddatum.boss.blob;

import java.io.IOException;
import java.io.InputStream;
import java.time.Instant;
import java.util.Optional;
import java.util.function.Consumer;

/** A store that passes every call to another: tests override the one call they need to change or watch. */
class DelegatingBlobStore implements BlobStore {

    private final BlobStore store;

    DelegatingBlobStore(BlobStore store) {
        this.store = store;
    }

    @Override
    public Blob put(InputStream in, String expectedSha256, Limits limits, Consumer<ChunkView> onChunk)
            throws IOException {
        return store.put(in, expectedSha256, limits, onChunk);
    }

    @Override
    public Optional<Blob> find(String sha256) {
        return store.find(sha256);
    }

    @Override
    public Optional<Blob> touch(String sha256) throws IOException {
        return store.touch(sha256);
    }

    @Override
    public InputStream open(String sha256, long offset) throws IOException {
        return store.open(sha256, offset);
    }

    @Override
    public boolean delete(String sha256, Instant storedBefore) throws IOException {
        return store.delete(sha256, storedBefore);
    }

    @Override
    public Iterable<Blob> all() {
        return store.all();
    }

    @Override
    public long totalBytes() {
        return store.totalBytes();
    }
}
