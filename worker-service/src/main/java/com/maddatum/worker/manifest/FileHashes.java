package com.maddatum.worker.manifest;

import com.maddatum.worker.common.Sha256;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.FileTime;
import java.security.MessageDigest;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;

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

    /** One version of one file: runs that begin together on the same data share one read of it. */
    private record Key(Path real, Stamp stamp) {}

    private final Map<Path, Entry> cache = new ConcurrentHashMap<>();
    private final Map<Key, CompletableFuture<String>> reading = new ConcurrentHashMap<>();
    private final AtomicInteger computed = new AtomicInteger();

    /**
     * The file's SHA-256 in lower-case hex. A caller that finds the same version of the file being read
     * already waits for that read instead of reading it again.
     */
    String sha256(Path file) throws IOException, InterruptedException {
        Path real = file.toRealPath();
        Stamp stamp = stamp(real);
        Entry cached = cache.get(real);
        if (cached != null && cached.stamp().equals(stamp)) {
            return cached.sha256();
        }
        Key key = new Key(real, stamp);
        CompletableFuture<String> mine = new CompletableFuture<>();
        CompletableFuture<String> theirs = reading.putIfAbsent(key, mine);
        if (theirs != null) {
            return await(theirs);
        }
        try {
            String hash = digest(real);
            if (stamp.equals(stamp(real))) {
                if (cache.size() >= MAX_ENTRIES) {
                    cache.clear();
                }
                cache.put(real, new Entry(stamp, hash));
            } // else changed while it was read: the hash is of no one version; do not keep it.
            mine.complete(hash);
            return hash;
        } catch (IOException | RuntimeException e) {
            mine.completeExceptionally(e);
            throw e;
        } finally {
            reading.remove(key, mine);
        }
    }

    private static String await(CompletableFuture<String> read) throws IOException, InterruptedException {
        try {
            return read.get();
        } catch (ExecutionException e) {
            if (e.getCause() instanceof IOException io) {
                throw new IOException(io.getMessage(), io);
            }
            throw new IOException(e.getCause());
        }
    }

    /**
     * One SHA-256 for the folder's {@code *.py} files (not its subfolders): of the text
     * {@code LC_ALL=C sha256sum *.py} prints there, so it can be checked by hand, each file's hash from
     * the cache above. A script imports its neighbours (jobcontract.py, tabular.py): a change to one of
     * them changes what ran while the script's own hash stays the same.
     */
    String pythonFilesSha256(Path dir) throws IOException, InterruptedException {
        List<Path> files;
        try (Stream<Path> listed = Files.list(dir)) {
            files = listed.filter(p -> p.getFileName().toString().endsWith(".py") && Files.isRegularFile(p))
                    .sorted(Comparator.comparing(p -> p.getFileName().toString())).toList();
        }
        StringBuilder sums = new StringBuilder();
        for (Path file : files) {
            sums.append(sha256(file)).append("  ").append(file.getFileName()).append('\n');
        }
        MessageDigest sha = Sha256.digest();
        sha.update(sums.toString().getBytes(StandardCharsets.UTF_8));
        return Sha256.hex(sha);
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

    /** Reads the whole file; the one place a file is read, and the tests' hook to hold a read. */
    protected String digest(Path file) throws IOException {
        computed.incrementAndGet();
        try (InputStream in = Files.newInputStream(file)) {
            return Sha256.of(in).sha256();
        }
    }
}
