package com.maddatum.worker.manifest;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.FileTime;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * SHA-256 of scripts and data files, kept per file while its identity (inode), size and modification
 * time stay the same, so that a 1 GiB CSV is read once, not once per job. A file rewritten in place
 * with the same size within the file system's time resolution would keep its old hash; replacing a
 * file (write elsewhere, rename) changes its inode and is always seen.
 */
public class FileHashes {

    static final int MAX_ENTRIES = 1000;

    private record Stamp(Object fileKey, long size, FileTime modified) {}

    private record Entry(Stamp stamp, String sha256) {}

    private final Map<Path, Entry> cache = new ConcurrentHashMap<>();
    private final AtomicInteger computed = new AtomicInteger();

    /** The file's SHA-256 in lower-case hex. */
    String sha256(Path file) throws IOException {
        Path real = file.toRealPath();
        Stamp stamp = stamp(real);
        Entry cached = cache.get(real);
        if (cached != null && cached.stamp().equals(stamp)) {
            return cached.sha256();
        }
        String hash = digest(real);
        if (!stamp.equals(stamp(real))) {
            // Changed while it was read: the hash is of no one version; do not keep it.
            return hash;
        }
        if (cache.size() >= MAX_ENTRIES) {
            cache.clear();
        }
        cache.put(real, new Entry(stamp, hash));
        return hash;
    }

    /** How many files were read in full: what the cache saved is what this did not count. */
    int computed() {
        return computed.get();
    }

    private static Stamp stamp(Path file) throws IOException {
        BasicFileAttributes attributes = Files.readAttributes(file, BasicFileAttributes.class);
        return new Stamp(Objects.requireNonNullElse(attributes.fileKey(), file), attributes.size(),
                attributes.lastModifiedTime());
    }

    private String digest(Path file) throws IOException {
        computed.incrementAndGet();
        MessageDigest sha;
        try {
            sha = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every Java platform has SHA-256", e);
        }
        byte[] buffer = new byte[1 << 16];
        try (InputStream in = Files.newInputStream(file)) {
            for (int n; (n = in.read(buffer)) > 0; ) {
                sha.update(buffer, 0, n);
            }
        }
        return HexFormat.of().formatHex(sha.digest());
    }
}
