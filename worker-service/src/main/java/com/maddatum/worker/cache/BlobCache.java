package com.maddatum.worker.cache;

import com.maddatum.worker.cache.CacheFailure.Kind;
import com.maddatum.worker.client.BossBlobs;
import com.maddatum.worker.config.WorkerSettings;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.BooleanSupplier;
import java.util.function.LongSupplier;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.stereotype.Component;

/**
 * The blobs jobs name by SHA-256 (datasets, inputs), fetched from the Boss once and kept in
 * {@code worker.cache.dir} as {@code <sha256>} files ({@link BlobDownload} verifies each before it gets
 * that name). Bounded in bytes by {@code worker.cache.max-bytes}: before a download, the least recently
 * used blobs that no run holds are removed until the new one fits. A run holds what it uses with a
 * {@link Pin}; a pinned blob is never removed, even when the cache is over its bound because of it (that
 * is logged). A blob larger than the bound is refused, and so is one the disk has not the room for.
 *
 * <p>Two runs needing the same blob at once download it once: the first one fetches, the others wait for
 * it (single flight per hash); if the first one's run is stopped meanwhile, a waiter fetches in its place.
 *
 * <p>It survives a restart: the index is rebuilt from the directory at start, recency from the files'
 * modification times, which each use touches. One Worker per directory: the directory is locked
 * ({@code .lock}), since two processes would each evict what the other's runs are using.
 */
@Component
public class BlobCache implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(BlobCache.class);
    public static final Pattern SHA256 = Pattern.compile("[0-9a-f]{64}");
    /** Left free on the disk beyond the blob itself: the scripts and their logs need some too. */
    static final long DISK_HEADROOM = 64L << 20;
    /** A part not resumed for this long is from a blob nobody asked for since: removed at start-up. */
    static final Duration STALE_PART = Duration.ofDays(1);
    /** How often a run waiting for another's download looks whether it was stopped. */
    private static final long WAIT_POLL_MILLIS = 100;

    private final Path dir;
    private final long maxBytes;
    private final BlobDownload download;
    private final LongSupplier usableSpace;
    private final FileChannel lockFile;
    private final FileLock lock;
    private final Map<String, Entry> index = new HashMap<>();
    private final Map<String, CompletableFuture<Void>> flights = new HashMap<>();
    /** Runs waiting for another's download, by hash. */
    private final Map<String, Integer> waiting = new HashMap<>();
    private final Counter hits;
    private final Counter misses;
    private final Counter evictions;
    private long bytes;
    /** Bytes promised to downloads under way: counted against the bound before they land. */
    private long reserved;
    /** Recency: each use takes the next number; the smallest unpinned one goes first. */
    private long clock;

    /** A blob in the cache: its size, when it was last used, and how many runs hold it now. */
    private static final class Entry {
        final String sha256;
        final long size;
        long used;
        int pins;

        Entry(String sha256, long size, long used) {
            this.sha256 = sha256;
            this.size = size;
            this.used = used;
        }
    }

    @Autowired
    public BlobCache(WorkerSettings settings, BossBlobs boss, MeterRegistry meters) {
        this(settings.cacheDir(), settings.cache().maxBytes().toBytes(), boss, meters, null);
    }

    /** {@code usableSpace}: the disk's free bytes for this Worker (null: asked of the file system). */
    public BlobCache(Path dir, long maxBytes, BossBlobs boss, MeterRegistry meters, LongSupplier usableSpace) {
        this.dir = createDirectory(dir);
        this.maxBytes = maxBytes;
        this.download = new BlobDownload(boss, this.dir, maxBytes);
        this.usableSpace = usableSpace != null ? usableSpace : this::diskSpace;
        try {
            this.lockFile = FileChannel.open(this.dir.resolve(".lock"), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
            FileLock held;
            try {
                held = lockFile.tryLock();
            } catch (OverlappingFileLockException sameProcess) {
                held = null;
            }
            if (held == null) {
                lockFile.close();
                throw new IllegalStateException("worker.cache.dir " + this.dir + " is in use by another Worker; give each "
                        + "Worker a cache directory of its own (WORKER_CACHE_DIR)");
            }
            this.lock = held;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot lock the cache directory " + this.dir, e);
        }
        this.hits = Counter.builder("worker.cache.lookups").tag("result", "hit")
                .description("blobs a run found in the cache").register(meters);
        this.misses = Counter.builder("worker.cache.lookups").tag("result", "miss")
                .description("blobs a run had to download").register(meters);
        this.evictions = Counter.builder("worker.cache.evictions").description("blobs removed to make room")
                .register(meters);
        Gauge.builder("worker.cache.bytes", this, BlobCache::bytes).description("bytes of blobs in the cache")
                .baseUnit("bytes").register(meters);
        Gauge.builder("worker.cache.blobs", this, BlobCache::blobs).description("blobs in the cache").register(meters);
        rebuild();
    }

    /** A blob a run holds until {@link #close}: never removed meanwhile. */
    public final class Pin implements AutoCloseable {
        private final Entry entry;
        private final boolean hit;
        private final AtomicBoolean released = new AtomicBoolean();

        private Pin(Entry entry, boolean hit) {
            this.entry = entry;
            this.hit = hit;
        }

        /** The blob's file (read-only). */
        public Path path() {
            return dir.resolve(entry.sha256);
        }

        public long size() {
            return entry.size;
        }

        /** Whether it was in the cache already (false: this run downloaded it, or waited for another's download). */
        public boolean hit() {
            return hit;
        }

        @Override
        public void close() {
            if (released.compareAndSet(false, true)) {
                unpin(entry);
            }
        }
    }

    /**
     * The blob named {@code sha256} (lower-case hex), pinned for the caller: from the cache, else fetched
     * from the Boss. {@code expectedSize}: the size the job says (-1: it does not say). {@code stopped} is
     * asked while it downloads or waits for another run's download; once true the wait ends in a
     * {@link Kind#STOPPED} failure.
     */
    public Pin acquire(String sha256, long expectedSize, BooleanSupplier stopped) throws CacheFailure, InterruptedException {
        if (!SHA256.matcher(sha256).matches()) {
            throw new IllegalArgumentException("not a lower-case SHA-256: " + sha256);
        }
        boolean waited = false;
        while (true) {
            CompletableFuture<Void> flight;
            boolean mine = false;
            synchronized (this) {
                Entry entry = present(sha256);
                if (entry != null) {
                    (waited ? misses : hits).increment();
                    return pin(entry, !waited);
                }
                flight = flights.get(sha256);
                if (flight == null) {
                    flight = new CompletableFuture<>();
                    flights.put(sha256, flight);
                    mine = true;
                }
            }
            if (mine) {
                return fetch(sha256, expectedSize, stopped, flight);
            }
            waited = true;
            log.info("waiting for another run's download of the same blob sha256={}", sha256);
            boolean ended;
            synchronized (this) {
                waiting.merge(sha256, 1, Integer::sum);
            }
            try {
                ended = await(flight, stopped);
            } finally {
                synchronized (this) {
                    waiting.computeIfPresent(sha256, (k, n) -> n == 1 ? null : n - 1);
                }
            }
            if (!ended) {
                // The run that fetched was stopped: this one fetches in its place (or finds it after all).
                log.info("the run fetching a blob was stopped; taking its place sha256={}", sha256);
            }
        }
    }

    /** Waits for another run's download: true once it ended (well or not for a reason that is this run's too). */
    private static boolean await(CompletableFuture<Void> flight, BooleanSupplier stopped)
            throws CacheFailure, InterruptedException {
        while (true) {
            if (stopped.getAsBoolean()) {
                throw new CacheFailure(Kind.STOPPED, "the run was stopped while it waited for a blob");
            }
            try {
                flight.get(WAIT_POLL_MILLIS, TimeUnit.MILLISECONDS);
                return true;
            } catch (TimeoutException notYet) {
                // look at stopped again
            } catch (ExecutionException e) {
                CacheFailure failure = (CacheFailure) e.getCause();
                if (failure.kind() == Kind.STOPPED) {
                    return false;
                }
                throw new CacheFailure(failure.kind(), failure.getMessage());
            }
        }
    }

    private Pin fetch(String sha256, long expectedSize, BooleanSupplier stopped, CompletableFuture<Void> flight)
            throws CacheFailure, InterruptedException {
        long[] promised = {0};
        try {
            long size = download.fetch(sha256, expectedSize, stopped, (sha, total, have) -> {
                reserve(sha, total, have);
                promised[0] = total;
            });
            Pin pin;
            synchronized (this) {
                reserved -= promised[0];
                promised[0] = 0;
                Entry entry = new Entry(sha256, size, ++clock);
                index.put(sha256, entry);
                bytes += size;
                misses.increment();
                pin = pin(entry, false);
                flights.remove(sha256);
            }
            log.info("blob cached sha256={} size={} cacheBytes={}", sha256, size, bytes());
            flight.complete(null);
            return pin;
        } catch (CacheFailure | RuntimeException | Error e) {
            end(sha256, promised[0], flight, e instanceof CacheFailure f ? f
                    : new CacheFailure(Kind.UNAVAILABLE, "the download of blob " + sha256 + " failed: " + e));
            throw e;
        } catch (InterruptedException e) {
            end(sha256, promised[0], flight, new CacheFailure(Kind.STOPPED, "the download was interrupted"));
            throw e;
        }
    }

    /** A download that failed: its promise is taken back, and its waiters learn why. */
    private void end(String sha256, long promised, CompletableFuture<Void> flight, CacheFailure failure) {
        synchronized (this) {
            reserved -= promised;
            flights.remove(sha256);
        }
        flight.completeExceptionally(failure);
    }

    /**
     * Makes room for a blob of {@code size} bytes ({@code have} of them already on the disk in its part):
     * refused when larger than the bound; least recently used unpinned blobs go until it fits under the
     * bound, then until the disk has the rest of it plus {@link #DISK_HEADROOM}.
     */
    private synchronized void reserve(String sha256, long size, long have) throws CacheFailure {
        if (size > maxBytes) {
            throw download.tooLarge(sha256, size);
        }
        while (bytes + reserved + size > maxBytes && evictOne()) {
            // evicted one; look again
        }
        if (bytes + reserved + size > maxBytes) {
            log.warn("the cache is over its bound: the blobs runs hold now cannot be removed cacheBytes={} reserved={} "
                    + "incoming={} maxBytes={} pinned={}", bytes, reserved, size, maxBytes, pinned());
        }
        long needed = Math.max(0, size - have) + DISK_HEADROOM;
        while (usableSpace.getAsLong() < needed && evictOne()) {
            // freed a blob's disk space; look again
        }
        long free = usableSpace.getAsLong();
        if (free < needed) {
            throw new CacheFailure(Kind.NO_SPACE, "blob " + sha256 + " needs " + (size - have) + " more bytes (plus "
                    + DISK_HEADROOM + " kept free) on the disk of " + dir + ", which has " + free + " free with every blob "
                    + "no run holds removed");
        }
        reserved += size;
    }

    /** Removes the least recently used blob no run holds; false when there is none. */
    private boolean evictOne() {
        Entry victim = index.values().stream().filter(e -> e.pins == 0).min(Comparator.comparingLong(e -> e.used))
                .orElse(null);
        if (victim == null) {
            return false;
        }
        index.remove(victim.sha256);
        bytes -= victim.size;
        evictions.increment();
        BlobDownload.delete(dir.resolve(victim.sha256));
        log.info("evicted a blob sha256={} size={} cacheBytes={} maxBytes={}", victim.sha256, victim.size, bytes, maxBytes);
        return true;
    }

    /** The entry, if its file is still there (a person may have emptied the directory by hand). */
    private Entry present(String sha256) {
        Entry entry = index.get(sha256);
        if (entry != null && !Files.isRegularFile(dir.resolve(sha256))) {
            log.warn("a cached blob's file is gone; fetching it again sha256={}", sha256);
            index.remove(sha256);
            bytes -= entry.size;
            return null;
        }
        return entry;
    }

    private Pin pin(Entry entry, boolean hit) {
        entry.pins++;
        entry.used = ++clock;
        try {
            // Recency for the next start: the file's time is all that survives a restart.
            Files.setLastModifiedTime(dir.resolve(entry.sha256), FileTime.fromMillis(System.currentTimeMillis()));
        } catch (IOException e) {
            log.debug("cannot touch a cached blob sha256={} error={}", entry.sha256, e.toString());
        }
        return new Pin(entry, hit);
    }

    private synchronized void unpin(Entry entry) {
        entry.pins--;
        if (bytes > maxBytes && entry.pins == 0 && index.get(entry.sha256) == entry) {
            while (bytes > maxBytes && evictOne()) {
                // back under the bound now that a held blob was let go
            }
        }
    }

    /** The index from the directory: {@code <sha256>} files, oldest first; stale parts go, then what is over the bound. */
    private synchronized void rebuild() {
        record Found(String sha256, long size, long modified) {}
        List<Found> found;
        long staleBefore = System.currentTimeMillis() - STALE_PART.toMillis();
        try (Stream<Path> files = Files.list(dir)) {
            found = files.filter(Files::isRegularFile).map(file -> {
                String name = file.getFileName().toString();
                try {
                    long modified = Files.getLastModifiedTime(file).toMillis();
                    if (name.endsWith(".part") && modified < staleBefore) {
                        BlobDownload.delete(file);
                        log.info("removed a partial download nobody resumed file={}", file);
                    }
                    return SHA256.matcher(name).matches() ? new Found(name, Files.size(file), modified) : null;
                } catch (IOException e) {
                    return null;
                }
            }).filter(java.util.Objects::nonNull).sorted(Comparator.comparingLong(Found::modified)).toList();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list the cache directory " + dir, e);
        }
        for (Found blob : found) {
            index.put(blob.sha256(), new Entry(blob.sha256(), blob.size(), ++clock));
            bytes += blob.size();
        }
        while (bytes > maxBytes && evictOne()) {
            // worker.cache.max-bytes was lowered since the last start
        }
        log.info("blob cache ready dir={} blobs={} bytes={} maxBytes={}", dir, index.size(), bytes, maxBytes);
    }

    public synchronized long bytes() {
        return bytes;
    }

    public synchronized int blobs() {
        return index.size();
    }

    /** Whether the blob is in the cache now (for tests and the registration's view). */
    public synchronized boolean contains(String sha256) {
        return index.containsKey(sha256);
    }

    /** How many runs wait for another's download of this blob now. */
    synchronized int waiting(String sha256) {
        return waiting.getOrDefault(sha256, 0);
    }

    public Path dir() {
        return dir;
    }

    private long pinned() {
        return index.values().stream().filter(e -> e.pins > 0).count();
    }

    private long diskSpace() {
        try {
            return Files.getFileStore(dir).getUsableSpace();
        } catch (IOException e) {
            return Long.MAX_VALUE; // cannot tell: the write itself will say
        }
    }

    private static Path createDirectory(Path dir) {
        try {
            return Files.createDirectories(dir).toAbsolutePath();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create the cache directory " + dir.toAbsolutePath(), e);
        }
    }

    /** Lets the directory go (a test's restart; the Worker's exit). */
    @Override
    public void close() {
        try {
            lock.release();
            lockFile.close();
        } catch (IOException e) {
            log.debug("cannot release the cache lock error={}", e.toString());
        }
    }
}
