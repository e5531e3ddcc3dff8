package com.maddatum.worker.cache;

import com.maddatum.worker.cache.CacheFailure.Kind;
import com.maddatum.worker.client.BossBlobs;
import com.maddatum.worker.common.Sha256;
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
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.stereotype.Component;

/**
 * The blobs jobs name by SHA-256 (datasets, inputs), fetched from the Boss once and kept in
 * {@code worker.cache.dir} as {@code <sha256>} files ({@link BlobDownload} verifies each before it gets
 * that name). {@code worker.cache.max-bytes} bounds the blobs, the parts of downloads that stopped
 * ({@code <sha256>.part}, kept for a resume) and the bytes promised to downloads under way, together:
 * before a download, the least recently used blobs and parts that nothing uses are removed until the new
 * one fits. A run holds what it uses with a {@link Pin}; a pinned blob is never removed, so the cache can
 * be over its bound while runs hold more than it (that is logged), and a download whose size nobody
 * announced is counted only once it has landed. A blob larger than the bound is refused, and so is one the
 * disk has not the room for beside what the other downloads under way still have to write; then nothing
 * is removed for it.
 *
 * <p>Two runs needing the same blob at once download it once: the first one fetches, the others wait for
 * it (single flight per hash); if the first one's run is stopped meanwhile, a waiter fetches in its place.
 *
 * <p>It survives a restart: the index is rebuilt from the directory at start, recency from the files'
 * modification times, which each use touches. One Worker per directory: the directory is locked
 * ({@code .lock}), since two processes would each evict what the other's runs are using; a Worker that
 * finds it held takes the first free sibling ({@code <dir>-2}, ...), so that Workers scaled from one
 * configuration on one volume each keep a cache of their own.
 */
@Component
public class BlobCache implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(BlobCache.class);
    /** Left free on the disk beyond the blob itself: the scripts and their logs need some too. */
    static final long DISK_HEADROOM = 64L << 20;
    /** A part not resumed for this long is from a blob nobody asked for since: removed at start-up. */
    static final Duration STALE_PART = Duration.ofDays(1);
    /** How many directories a Worker tries when others hold the configured one ({@link #lockFirstFree}). */
    static final int MAX_SIBLINGS = 16;
    /** How often a run waiting for another's download looks whether it was stopped. */
    private static final long WAIT_POLL_MILLIS = 100;

    private final Path dir;
    private final long maxBytes;
    private final BlobDownload download;
    private final LongSupplier usableSpace;
    private final FileChannel lockFile;
    private final FileLock lock;
    private final Map<String, Entry> index = new HashMap<>();
    /** The parts of downloads on the disk, counted against the bound; a busy one is a download's under way. */
    private final Map<String, Part> parts = new HashMap<>();
    /** The downloads under way that have made room: their whole size, by hash. */
    private final Map<String, Long> promised = new HashMap<>();
    private final Map<String, CompletableFuture<Void>> flights = new HashMap<>();
    /** Runs waiting for another's download, by hash. */
    private final Map<String, Integer> waiting = new HashMap<>();
    private final Counter hits;
    private final Counter misses;
    private final Counter evictions;
    private long bytes;
    /** Bytes of the parts in {@link #parts}. */
    private long partBytes;
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

    /**
     * A partial download on the disk: left by a download that stopped (kept for a resume, removable like an
     * unused blob), or busy while a download may resume it.
     */
    private static final class Part {
        final long size;
        final long used;
        boolean busy;

        Part(long size, long used) {
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
        Locked locked = lockFirstFree(dir);
        this.dir = locked.dir();
        this.lockFile = locked.channel();
        this.lock = locked.lock();
        this.maxBytes = maxBytes;
        this.download = new BlobDownload(boss, this.dir, maxBytes);
        this.usableSpace = usableSpace != null ? usableSpace : this::diskSpace;
        this.hits = Counter.builder("worker.cache.lookups").tag("result", "hit")
                .description("blobs a run found in the cache").register(meters);
        this.misses = Counter.builder("worker.cache.lookups").tag("result", "miss")
                .description("blobs a run had to download").register(meters);
        this.evictions = Counter.builder("worker.cache.evictions")
                .description("blobs and partial downloads removed to make room")
                .register(meters);
        Gauge.builder("worker.cache.bytes", this, BlobCache::bytes).description("bytes of blobs in the cache")
                .baseUnit("bytes").register(meters);
        Gauge.builder("worker.cache.blobs", this, BlobCache::blobs).description("blobs in the cache").register(meters);
        Gauge.builder("worker.cache.partial.bytes", this, BlobCache::partBytes)
                .description("bytes of partial downloads kept for a resume").baseUnit("bytes").register(meters);
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
        if (!Sha256.isLowerHex(sha256)) {
            throw new IllegalArgumentException("not a lower-case SHA-256: " + sha256);
        }
        boolean waited = false;
        while (true) {
            CompletableFuture<Void> flight;
            boolean mine = false;
            synchronized (this) {
                Entry entry = present(sha256);
                if (entry != null) {
                    // A hit, or another run's download: the job's own size still has to be the blob's.
                    if (expectedSize >= 0 && entry.size != expectedSize) {
                        throw new CacheFailure(Kind.CORRUPT, "blob " + sha256 + " has " + entry.size
                                + " bytes, but the job says " + expectedSize);
                    }
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
        synchronized (this) {
            Part part = parts.get(sha256);
            if (part != null) {
                part.busy = true; // this download may resume it: not removed to make room for another
            }
        }
        try {
            long size = download.fetch(sha256, expectedSize, stopped, this::reserve);
            Pin pin;
            synchronized (this) {
                settle(sha256);
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
            end(sha256, flight, e instanceof CacheFailure f ? f
                    : new CacheFailure(Kind.UNAVAILABLE, "the download of blob " + sha256 + " failed: " + e));
            throw e;
        } catch (InterruptedException e) {
            end(sha256, flight, new CacheFailure(Kind.STOPPED, "the download was interrupted"));
            throw e;
        }
    }

    /** A download ended: its promise is taken back, and its part forgotten (renamed, or measured again by the caller). */
    private void settle(String sha256) {
        Long size = promised.remove(sha256);
        if (size != null) {
            reserved -= size;
        }
        Part part = parts.remove(sha256);
        if (part != null) {
            partBytes -= part.size;
        }
    }

    /** A download that failed: its waiters learn why, and what it left on the disk counts as a part. */
    private void end(String sha256, CompletableFuture<Void> flight, CacheFailure failure) {
        synchronized (this) {
            settle(sha256);
            long left = BlobDownload.size(dir.resolve(sha256 + ".part"));
            if (left > 0) {
                parts.put(sha256, new Part(left, ++clock));
                partBytes += left;
            }
            flights.remove(sha256);
        }
        flight.completeExceptionally(failure);
    }

    /**
     * Makes room for a blob of {@code size} bytes ({@code have} of them already on the disk in its part,
     * which counts as the download's from now on): refused when larger than the bound, or when the disk
     * cannot hold the rest of it plus {@link #DISK_HEADROOM} beside what the other downloads under way still
     * have to write, even with every blob and part nothing uses removed (then none is removed). Else the least
     * recently used of those go until it fits under the bound, then until the disk has the room.
     */
    private synchronized void reserve(String sha256, long size, long have) throws CacheFailure {
        if (size > maxBytes) {
            throw download.tooLarge(sha256, size);
        }
        Part part = parts.remove(sha256);
        if (part != null) {
            partBytes -= part.size;
        }
        long needed = Math.max(0, size - have) + DISK_HEADROOM;
        long othersNeed = stillToWrite();
        long free = usableSpace.getAsLong();
        long removable = removable();
        if (free - othersNeed + removable < needed) {
            throw noSpace(sha256, size - have, free, othersNeed, removable);
        }
        while (bytes + partBytes + reserved + size > maxBytes && evictOne()) {
            // evicted one; look again
        }
        if (bytes + partBytes + reserved + size > maxBytes) {
            log.warn("the cache is over its bound: the blobs runs hold now cannot be removed cacheBytes={} parts={} "
                    + "reserved={} incoming={} maxBytes={} pinned={}", bytes, partBytes, reserved, size, maxBytes, pinned());
        }
        while (usableSpace.getAsLong() - othersNeed < needed && evictOne()) {
            // freed a blob's disk space; look again
        }
        free = usableSpace.getAsLong();
        if (free - othersNeed < needed) {
            throw noSpace(sha256, size - have, free, othersNeed, removable());
        }
        reserved += size;
        promised.put(sha256, size);
    }

    private CacheFailure noSpace(String sha256, long more, long free, long othersNeed, long removable) {
        return new CacheFailure(Kind.NO_SPACE, "blob " + sha256 + " needs " + more + " more bytes (plus " + DISK_HEADROOM
                + " kept free) on the disk of " + dir + ", which has " + free + " free, " + othersNeed + " of them "
                + "promised to other downloads under way, and " + removable + " more in blobs and parts no run uses");
    }

    /** What the downloads under way still have to write: each one's size less its part so far. */
    private long stillToWrite() {
        long total = 0;
        for (Map.Entry<String, Long> flight : promised.entrySet()) {
            total += Math.max(0, flight.getValue() - BlobDownload.size(dir.resolve(flight.getKey() + ".part")));
        }
        return total;
    }

    /** The bytes eviction could free now: the blobs no run holds and the parts no download uses. */
    private long removable() {
        long total = 0;
        for (Entry entry : index.values()) {
            total += entry.pins == 0 ? entry.size : 0;
        }
        for (Part part : parts.values()) {
            total += part.busy ? 0 : part.size;
        }
        return total;
    }

    /** Removes the least recently used blob no run holds or part no download uses; false when there is none. */
    private boolean evictOne() {
        Entry victim = index.values().stream().filter(e -> e.pins == 0).min(Comparator.comparingLong(e -> e.used))
                .orElse(null);
        Map.Entry<String, Part> part = parts.entrySet().stream().filter(e -> !e.getValue().busy)
                .min(Comparator.comparingLong(e -> e.getValue().used)).orElse(null);
        if (part != null && (victim == null || part.getValue().used < victim.used)) {
            parts.remove(part.getKey());
            partBytes -= part.getValue().size;
            evictions.increment();
            BlobDownload.delete(dir.resolve(part.getKey() + ".part"));
            log.info("removed a partial download nobody resumed sha256={} size={} partBytes={}", part.getKey(),
                    part.getValue().size, partBytes);
            return true;
        }
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
        if (total() > maxBytes && entry.pins == 0 && index.get(entry.sha256) == entry) {
            while (total() > maxBytes && evictOne()) {
                // back under the bound now that a held blob was let go
            }
        }
    }

    /** What counts against the bound: the blobs, the parts, and what downloads under way were promised. */
    private long total() {
        return bytes + partBytes + reserved;
    }

    /**
     * The index from the directory: {@code <sha256>} files and their parts, oldest first; parts nobody
     * resumed for {@link #STALE_PART} go, then what is over the bound.
     */
    private synchronized void rebuild() {
        record Found(String sha256, boolean part, long size, long modified) {}
        List<Found> found;
        long staleBefore = System.currentTimeMillis() - STALE_PART.toMillis();
        try (Stream<Path> files = Files.list(dir)) {
            found = files.filter(Files::isRegularFile).map(file -> {
                String name = file.getFileName().toString();
                boolean part = name.endsWith(".part");
                String sha256 = part ? name.substring(0, name.length() - ".part".length()) : name;
                if (!Sha256.isLowerHex(sha256)) {
                    return null;
                }
                try {
                    long modified = Files.getLastModifiedTime(file).toMillis();
                    if (part && modified < staleBefore) {
                        BlobDownload.delete(file);
                        log.info("removed a partial download nobody resumed file={}", file);
                        return null;
                    }
                    return new Found(sha256, part, Files.size(file), modified);
                } catch (IOException e) {
                    return null;
                }
            }).filter(java.util.Objects::nonNull).sorted(Comparator.comparingLong(Found::modified)).toList();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list the cache directory " + dir, e);
        }
        for (Found file : found) {
            if (file.part()) {
                parts.put(file.sha256(), new Part(file.size(), ++clock));
                partBytes += file.size();
            } else {
                index.put(file.sha256(), new Entry(file.sha256(), file.size(), ++clock));
                bytes += file.size();
            }
        }
        while (total() > maxBytes && evictOne()) {
            // worker.cache.max-bytes was lowered since the last start
        }
        log.info("blob cache ready dir={} blobs={} bytes={} parts={} partBytes={} maxBytes={}", dir, index.size(), bytes,
                parts.size(), partBytes, maxBytes);
    }

    public synchronized long bytes() {
        return bytes;
    }

    /** Bytes of partial downloads on the disk, kept for a resume. */
    public synchronized long partBytes() {
        return partBytes;
    }

    /** Bytes promised to downloads under way. */
    synchronized long reservedBytes() {
        return reserved;
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

    private record Locked(Path dir, FileChannel channel, FileLock lock) {}

    /**
     * Locks {@code dir}, or when another Worker holds it the first of {@code dir-2} ... {@code dir-}{@value
     * #MAX_SIBLINGS} that no Worker holds: Workers scaled from one Compose service share one volume and one
     * setting, and each needs a directory of its own, the same one again after a restart where possible.
     */
    private static Locked lockFirstFree(Path dir) {
        Path first = dir.toAbsolutePath().normalize();
        for (int n = 1; n <= MAX_SIBLINGS; n++) {
            Path candidate = n == 1 ? first : first.resolveSibling(first.getFileName() + "-" + n);
            Path created = createDirectory(candidate);
            try {
                FileChannel channel = FileChannel.open(created.resolve(".lock"), StandardOpenOption.CREATE,
                        StandardOpenOption.WRITE);
                FileLock held;
                try {
                    held = channel.tryLock();
                } catch (OverlappingFileLockException sameProcess) {
                    held = null;
                }
                if (held != null) {
                    if (n > 1) {
                        log.info("the cache directory is in use by another Worker; using a sibling of its own "
                                + "configured={} dir={}", first, created);
                    }
                    return new Locked(created, channel, held);
                }
                channel.close();
            } catch (IOException e) {
                throw new UncheckedIOException("cannot lock the cache directory " + created, e);
            }
        }
        throw new IllegalStateException("worker.cache.dir " + first + " and its " + (MAX_SIBLINGS - 1) + " siblings ("
                + first.getFileName() + "-2 ...) are all in use by other Workers; give this Worker a cache directory "
                + "of its own (WORKER_CACHE_DIR)");
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
