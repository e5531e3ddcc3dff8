package com.maddatum.worker.run;

import com.maddatum.worker.common.Sha256;
import com.maddatum.worker.common.FileNames;
import com.maddatum.worker.common.Text;
import com.maddatum.worker.cache.BlobCache;
import com.maddatum.worker.cache.CacheFailure;
import com.maddatum.worker.config.WorkerSettings;
import com.maddatum.worker.runner.RunFiles;
import com.maddatum.worker.runner.WorkDirJanitor;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.function.BooleanSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.stereotype.Component;

/**
 * A run's data and inputs, in place before its script starts. A job with {@code dataSha256} gets the blob
 * through the {@link BlobCache} and a directory of its own as {@code $DATA_DIR}, holding a link named
 * {@code dataFileName} to the cached blob (so {@code os.path.join(DATA_DIR, dataFileName)} resolves as it
 * always did), which is also {@code $DATA_FILE}. A job without one whose {@code dataFileName} is in
 * {@code worker.data-dir} gets that file as {@code $DATA_FILE}. Each of a job's {@code inputs} is fetched
 * the same way and linked into a directory of its own, {@code $INPUT_DIR}. The run holds every blob it
 * links (the cache removes none of them) until {@link Staged#close}, which also removes its directories.
 * They live under {@code <worker.cache.dir>/runs/<run>}, never in {@code $OUTPUT_DIR}: they are not artifacts.
 */
@Component
public class RunInputs {

    private static final Logger log = LoggerFactory.getLogger(RunInputs.class);

    private final BlobCache cache;
    private final Path dataDir;
    private final Path root;
    private final Timer fetchTime;

    @Autowired
    public RunInputs(BlobCache cache, WorkerSettings settings, MeterRegistry meters) {
        this(cache, settings.dataDir(), meters);
    }

    /** {@code cache} null: a Worker that fetches nothing (a job naming a blob is refused). */
    public RunInputs(BlobCache cache, Path dataDir, MeterRegistry meters) {
        this.cache = cache;
        this.dataDir = dataDir;
        this.root = cache == null ? null : cache.dir().resolve("runs");
        this.fetchTime = Timer.builder("worker.fetch.duration")
                .description("time a run spent fetching its data and inputs before its script started")
                .publishPercentiles(0.5, 0.95).register(meters != null ? meters : new SimpleMeterRegistry());
        if (root != null) {
            clear(root); // no run is alive yet: what is there was left by a crash
        }
    }

    /** A job's data and inputs could not be put in place: the Outcome says why, and whose fault it is. */
    public static final class NotStaged extends Exception {
        /** Whose fault, as the Outcome will say it. */
        enum Fault { JOB, MACHINE, BOSS, STOPPED }

        private final Fault fault;
        private final int status;
        private final String type;
        private final Double fetchSeconds;

        NotStaged(Fault fault, int status, String type, String message, Double fetchSeconds) {
            super(message, null, false, false);
            this.fault = fault;
            this.status = status;
            this.type = type;
            this.fetchSeconds = fetchSeconds;
        }

        Fault fault() { return fault; }
        int status() { return status; }
        String type() { return type; }
        Double fetchSeconds() { return fetchSeconds; }
    }

    /** What a run was given; closing it lets the blobs go and removes the run's directories. Idempotent. */
    public static final class Staged implements AutoCloseable {
        private final RunFiles files;
        private final Double fetchSeconds;
        private final List<BlobCache.Pin> pins;
        private final Path dir;
        private boolean closed;

        Staged(RunFiles files, Double fetchSeconds, List<BlobCache.Pin> pins, Path dir) {
            this.files = files;
            this.fetchSeconds = fetchSeconds;
            this.pins = pins;
            this.dir = dir;
        }

        public RunFiles files() {
            return files;
        }

        /** Seconds spent fetching blobs; null when the job named none. */
        public Double fetchSeconds() {
            return fetchSeconds;
        }

        @Override
        public synchronized void close() {
            if (closed) {
                return;
            }
            closed = true;
            if (dir != null) {
                clear(dir); // the links first: nothing may point at a blob the cache is free to remove
            }
            pins.forEach(BlobCache.Pin::close);
        }
    }

    /** One blob a job names, checked: where it goes ({@code $DATA_DIR} or {@code $INPUT_DIR}) under what name. */
    private record Wanted(String field, String name, String sha256, long size, boolean input) {}

    /**
     * Puts the job's data and inputs in place for the run {@code runName}; {@code stopped} ends a download
     * or a wait for another run's. Interrupted, it ends as a stop and keeps the interrupt.
     */
    public Staged stage(Map<String, Object> job, String runName, BooleanSupplier stopped) throws NotStaged {
        List<Wanted> wanted = wanted(job);
        // A plain name only (FileNames: no path, no ".."): anything else names no file in the data directory.
        String dataName = FileNames.isPlain(job.get("dataFileName")) ? (String) job.get("dataFileName") : null;
        if (wanted.isEmpty()) {
            Path local = dataName == null ? null : dataDir.resolve(dataName);
            return new Staged(new RunFiles(null, local != null && Files.isRegularFile(local) ? local : null, null),
                    null, List.of(), null);
        }
        if (cache == null) {
            throw new NotStaged(NotStaged.Fault.MACHINE, 503, "DataNotFetched",
                    "this Worker has no blob cache; it cannot fetch " + wanted.get(0).field(), null);
        }
        long started = System.nanoTime();
        List<BlobCache.Pin> pins = new ArrayList<>();
        Path dir = root.resolve(runName);
        try {
            clear(dir);
            Path data = null;
            Path dataFile = null;
            Path inputs = null;
            for (Wanted blob : wanted) {
                BlobCache.Pin pin = fetch(blob, stopped, seconds(started));
                pins.add(pin);
                Path folder = dir.resolve(blob.input() ? "inputs" : "data");
                Path link = link(Files.createDirectories(folder).resolve(blob.name()), pin.path());
                if (blob.input()) {
                    inputs = folder;
                } else {
                    data = folder;
                    dataFile = link;
                }
                log.info("blob ready for run run={} field={} sha256={} size={} cached={}", runName, blob.field(),
                        blob.sha256(), pin.size(), pin.hit());
            }
            return new Staged(new RunFiles(data, dataFile, inputs), seconds(started), pins, dir);
        } catch (NotStaged | RuntimeException e) {
            new Staged(RunFiles.NONE, null, pins, dir).close();
            throw e;
        } catch (IOException e) {
            new Staged(RunFiles.NONE, null, pins, dir).close();
            throw new NotStaged(NotStaged.Fault.MACHINE, 507, "InsufficientStorage",
                    "cannot lay out the run's data and inputs under " + dir + ": " + e, seconds(started));
        } finally {
            fetchTime.record(Duration.ofNanos(System.nanoTime() - started));
        }
    }

    private BlobCache.Pin fetch(Wanted blob, BooleanSupplier stopped, double sofar) throws NotStaged {
        try {
            return cache.acquire(blob.sha256(), blob.size(), stopped);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new NotStaged(NotStaged.Fault.STOPPED, 503, "NotStarted", "interrupted while fetching " + blob.field(),
                    sofar);
        } catch (CacheFailure e) {
            throw notStaged(blob, e, sofar);
        }
    }

    /** The cache's failure as the Outcome says it: the job's fault (4xx), the machine's, the Boss's, or a stop. */
    private static NotStaged notStaged(Wanted blob, CacheFailure failure, double sofar) {
        String what = blob.input() ? "Input" : "Data";
        String message = blob.field() + ": " + failure.getMessage();
        return switch (failure.kind()) {
            case MISSING -> new NotStaged(NotStaged.Fault.JOB, 404, what + "NotFound", message, sofar);
            case CORRUPT -> new NotStaged(NotStaged.Fault.JOB, 422, what + "Corrupt", message, sofar);
            // Neither is the job's fault, which a 4xx would say (and fail it for good), but what this machine
            // lacks: its worker.cache.max-bytes, its disk. Not a hand-back either: that would count against this
            // machine as a failure and come back to it. A 5xx failure the Boss re-runs once on another Worker (its
            // second opinion, within the order's attempts), one with a larger cache or disk, says what was short;
            // the same failure there too fails the job, as no Worker could run it.
            case TOO_LARGE -> new NotStaged(NotStaged.Fault.MACHINE, 507, what + "TooLarge", message, sofar);
            case NO_SPACE -> new NotStaged(NotStaged.Fault.MACHINE, 507, "InsufficientStorage", message, sofar);
            // The Boss's own trouble, handed back as a job that could not be fetched is (the Boss holds it
            // against no Worker); its attempts bound how often.
            case UNAVAILABLE -> new NotStaged(NotStaged.Fault.BOSS, 503, "JobNotFetched",
                    "the worker could not fetch the job's " + message, sofar);
            case STOPPED -> new NotStaged(NotStaged.Fault.STOPPED, 503, "NotStarted", message, sofar);
        };
    }

    /** The blobs the job names, checked: {@code dataSha256} first, then each of {@code inputs}. */
    private static List<Wanted> wanted(Map<String, Object> job) throws NotStaged {
        List<Wanted> wanted = new ArrayList<>();
        Object data = job.get("dataSha256");
        if (data != null) {
            if (!(data instanceof String hex) || !Sha256.isHex(hex)) {
                throw invalid("dataSha256 must be 64 hexadecimal digits, got " + Text.abbreviate(data, 80));
            }
            String name = FileNames.isPlain(job.get("dataFileName")) ? (String) job.get("dataFileName")
                    : hex.toLowerCase(Locale.ROOT);
            wanted.add(new Wanted("dataSha256 " + hex.toLowerCase(Locale.ROOT), name, hex.toLowerCase(Locale.ROOT), -1, false));
        }
        Object inputs = job.get("inputs");
        if (inputs == null) {
            return wanted;
        }
        if (!(inputs instanceof List<?> list)) {
            throw invalid("inputs must be a list of {name, sha256, size}");
        }
        Set<String> names = new HashSet<>();
        for (int i = 0; i < list.size(); i++) {
            String field = "inputs[" + i + "]";
            if (!(list.get(i) instanceof Map<?, ?> input)) {
                throw invalid(field + " must be an object {name, sha256, size}");
            }
            if (!(input.get("name") instanceof String name) || !FileNames.isPlain(name)) {
                throw invalid(field + ".name must be a plain file name (no '/', no '..'), got " + Text.abbreviate(input.get("name"), 80));
            }
            if (!names.add(name)) {
                throw invalid(field + ".name " + name + " is given twice");
            }
            if (!(input.get("sha256") instanceof String hex) || !Sha256.isHex(hex)) {
                throw invalid(field + ".sha256 must be 64 hexadecimal digits, got " + Text.abbreviate(input.get("sha256"), 80));
            }
            Object size = input.get("size");
            if (size != null && !(size instanceof Number n && n.longValue() >= 0 && n.doubleValue() == n.longValue())) {
                throw invalid(field + ".size must be a whole number of bytes, got " + Text.abbreviate(size, 80));
            }
            wanted.add(new Wanted("input " + name + " (sha256 " + hex.toLowerCase(Locale.ROOT) + ")", name,
                    hex.toLowerCase(Locale.ROOT), size == null ? -1 : ((Number) size).longValue(), true));
        }
        return wanted;
    }

    private static NotStaged invalid(String message) {
        return new NotStaged(NotStaged.Fault.JOB, 400, "InvalidInputs", message, null);
    }

    /** A symbolic link to the cached blob; a copy where the file system has no links. */
    private static Path link(Path link, Path blob) throws IOException {
        try {
            return Files.createSymbolicLink(link, blob);
        } catch (UnsupportedOperationException | FileSystemException noLinks) {
            if (Files.exists(link, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
                throw noLinks instanceof IOException io ? io : new IOException(noLinks);
            }
            return Files.copy(blob, link);
        }
    }

    private static void clear(Path dir) {
        if (!Files.exists(dir, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
            return;
        }
        try {
            WorkDirJanitor.deleteTree(dir);
        } catch (IOException | UncheckedIOException e) {
            log.warn("cannot remove a run's data directory dir={} error={}", dir, e.toString());
        }
    }

    private static double seconds(long startedNanos) {
        return Math.round((System.nanoTime() - startedNanos) / 1e6) / 1000.0;
    }
}
