package com.maddatum.worker.artifact;

import com.maddatum.worker.client.BossBlobs;
import com.maddatum.worker.client.BossBlobs.Stored;
import com.maddatum.worker.common.Sha256;
import com.maddatum.worker.common.Text;
import com.maddatum.worker.config.WorkerProperties;
import com.maddatum.worker.config.WorkerSettings;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.io.IOException;
import java.io.InputStream;
import java.nio.channels.Channels;
import java.nio.file.FileVisitOption;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.PriorityQueue;
import java.util.Set;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.stereotype.Component;

/**
 * Uploads what a script left under {@code $OUTPUT_DIR} to the Boss ({@code POST /blobs?sha256=}), each file
 * hashed first and then streamed, before the outcome that names them is kept. The Worker's own files there
 * ({@link #WORKER_FILES}: the job, the logs) are not artifacts. The scan does not follow links: a link is
 * listed as skipped, not uploaded, and so is anything that is not a regular file. A file is then opened
 * without following a link ({@code O_NOFOLLOW} on its last part) and must still be the file the scan found
 * (the same inode): one swapped for a link or another file since is skipped.
 *
 * <p>Within {@code worker.artifacts.max-bytes} and {@code max-files} per job: the {@code model.*} files at the
 * top come first (what a predict job needs), then the rest smallest first, so that one huge checkpoint does
 * not crowd out a dozen plots. The byte cap counts what is hashed and sent, not what the scan saw. Every
 * file that is not uploaded is listed in {@code skippedArtifacts} with why (beyond a cap, refused by the
 * Boss, changed while it was uploaded, the Boss unreachable): never silently dropped.
 *
 * <p>A Boss that fails or cannot be reached is tried again with back-off for {@code worker.artifacts.retry-for}
 * (counted from the first failure since the last file that went), so that a Boss restarting in a rolling
 * deploy does not cost finishing jobs their models; the run's heartbeats keep its lease meanwhile, and a
 * stop of the run (cancelled, lease lost, shutdown) ends the wait. Once the window is spent, a Boss that
 * cannot be reached at all leaves the remaining files untried (the outcome is kept, and sent when the Boss
 * is back, with those files listed); a Boss that answers, but with failures, gets one try per remaining
 * file, since its failure may be that file's. One file's own trouble (refused, changed, unreadable) never
 * stops the others.
 */
@Component
public class ArtifactUploader {

    private static final Logger log = LoggerFactory.getLogger(ArtifactUploader.class);
    /** What the Worker itself writes into the run's directory ({@code runner/ScriptLauncher}, {@code ProcessSpec}). */
    public static final Set<String> WORKER_FILES = Set.of("job.json", "stdout.log", "stderr.log");
    /**
     * Entries one outcome lists at most, uploaded and skipped together: each is four or five JSON values,
     * and the Boss takes at most 5,000 per outcome ({@code boss.limits.max-fields}) with the manifest, the
     * metrics and the rest beside them. {@code max-files} and the skipped files listed one by one share it.
     */
    public static final int MAX_ENTRIES = 800;
    /** At most this many skipped files are listed one by one; the rest are counted in one more entry. */
    public static final int MAX_SKIPPED_LISTED = MAX_ENTRIES - WorkerProperties.Artifacts.MAX_FILES - 1;
    /** The Boss's limit on an artifact's name ({@code ArtifactNames.MAX_NAME}): a path relative to {@code OUTPUT_DIR}. */
    static final int MAX_NAME = 255;
    /** A skipped file's reason is shown to people: long enough for an error, not for a log. */
    static final int MAX_REASON = 300;
    /** The longest pause between two tries of a Boss that fails. */
    static final Duration MAX_PAUSE = Duration.ofSeconds(30);
    private static final Map<String, String> CONTENT_TYPES = Map.ofEntries(Map.entry("png", "image/png"),
            Map.entry("jpg", "image/jpeg"), Map.entry("jpeg", "image/jpeg"), Map.entry("gif", "image/gif"),
            Map.entry("svg", "image/svg+xml"), Map.entry("csv", "text/csv"), Map.entry("tsv", "text/tab-separated-values"),
            Map.entry("txt", "text/plain"), Map.entry("log", "text/plain"), Map.entry("md", "text/markdown"),
            Map.entry("json", "application/json"), Map.entry("html", "text/html"), Map.entry("pdf", "application/pdf"),
            Map.entry("zip", "application/zip"), Map.entry("gz", "application/gzip"));
    /** {@code model.*} at the top first, then smallest first, then by name. */
    private static final Comparator<Found> ORDER = Comparator.comparing((Found f) -> !f.name().startsWith("model."))
            .thenComparingLong(Found::size).thenComparing(Found::name);

    private final BossBlobs boss;
    private final long maxBytes;
    private final int maxFiles;
    private final Duration retryFor;
    private final Duration firstPause;
    private final Waits waits;
    private final Counter uploaded;
    private final Counter uploadedBytes;
    private final Counter skippedFiles;

    /** Time as the retries see it: the real clock in the Worker, a test's own in tests. */
    interface Waits {
        long nanoTime();

        /** Waits {@code pause}, or less once {@code stopped} is true. */
        void pause(Duration pause, BooleanSupplier stopped) throws InterruptedException;

        Waits REAL = new Waits() {
            @Override
            public long nanoTime() {
                return System.nanoTime();
            }

            @Override
            public void pause(Duration pause, BooleanSupplier stopped) throws InterruptedException {
                long end = System.nanoTime() + pause.toNanos();
                for (long left; !stopped.getAsBoolean() && (left = end - System.nanoTime()) > 0; ) {
                    Thread.sleep(Math.max(1, Math.min(100, left / 1_000_000)));
                }
            }
        };
    }

    @Autowired
    public ArtifactUploader(BossBlobs boss, WorkerSettings settings, MeterRegistry meters) {
        this(boss, settings.artifacts().maxBytes().toBytes(), settings.artifacts().maxFiles(),
                settings.artifacts().retryFor(), Duration.ofSeconds(1), meters);
    }

    /** {@code firstPause}: the wait before the second try of a Boss that failed, doubling up to {@link #MAX_PAUSE}. */
    public ArtifactUploader(BossBlobs boss, long maxBytes, int maxFiles, Duration retryFor, Duration firstPause,
            MeterRegistry meters) {
        this(boss, maxBytes, maxFiles, retryFor, firstPause, meters, Waits.REAL);
    }

    ArtifactUploader(BossBlobs boss, long maxBytes, int maxFiles, Duration retryFor, Duration firstPause,
            MeterRegistry meters, Waits waits) {
        this.boss = boss;
        this.maxBytes = maxBytes;
        this.maxFiles = Math.min(maxFiles, WorkerProperties.Artifacts.MAX_FILES);
        this.retryFor = retryFor;
        this.firstPause = firstPause;
        this.waits = waits;
        this.uploaded = Counter.builder("worker.artifacts.uploaded").description("artifact files uploaded to the Boss")
                .register(meters);
        this.uploadedBytes = Counter.builder("worker.artifacts.uploaded.bytes").baseUnit("bytes")
                .description("bytes of artifacts uploaded to the Boss").register(meters);
        this.skippedFiles = Counter.builder("worker.artifacts.skipped")
                .description("artifact files not uploaded (over a cap, refused, changed, the Boss unreachable)")
                .register(meters);
    }

    /** What became of a run's files: the uploaded ones, and the skipped ones with why. */
    public record Report(List<Map<String, Object>> artifacts, List<Map<String, Object>> skipped) {

        /** Puts {@code artifacts} and {@code skippedArtifacts} into the outcome, each only when not empty. */
        public void addTo(Map<String, Object> outcome) {
            if (!artifacts.isEmpty()) {
                outcome.put("artifacts", artifacts);
            }
            if (!skipped.isEmpty()) {
                outcome.put("skippedArtifacts", skipped);
            }
        }
    }

    /**
     * A file the script left, found without following links: its name relative to the run's directory,
     * and what identifies this version of it.
     */
    private record Found(String name, Path path, long size, Object fileKey) {}

    /** What became of one file: uploaded (its entry), or skipped (why), and whether no other file is to be tried. */
    private record Result(Map<String, Object> artifact, String skipped, String stopsAll) {

        static Result uploaded(Map<String, Object> artifact) {
            return new Result(artifact, null, null);
        }

        static Result skipped(String why) {
            return new Result(null, why, null);
        }

        static Result skippedWithTheRest(String why, String rest) {
            return new Result(null, why, rest);
        }
    }

    /**
     * Uploads the run's files; never throws. {@code stop} says why the run was stopped (null while it goes
     * on): once it does, what is left is listed as skipped. Interrupted, the same, and the interrupt is kept.
     */
    public Report upload(Path outputDir, Supplier<String> stop) {
        Skipped skipped = new Skipped();
        PriorityQueue<Found> kept = new PriorityQueue<>(ORDER.reversed()); // the first maxFiles in ORDER, largest on top
        scan(outputDir, skipped, file -> {
            kept.add(file);
            if (kept.size() > maxFiles) {
                skipped.add(kept.poll(), "beyond the per-job limit of " + maxFiles + " files (worker.artifacts.max-files)");
            }
        });
        List<Found> files = new ArrayList<>(kept);
        files.sort(ORDER);
        Session session = new Session(stop);
        List<Map<String, Object>> artifacts = new ArrayList<>();
        long total = 0;
        String stopAll = null; // once set, why no further file is tried
        for (Found file : files) {
            String stopping = session.stopping();
            if (stopAll == null && stopping != null) {
                stopAll = "not uploaded: " + stopping;
            }
            if (stopAll != null) {
                skipped.add(file, stopAll);
            } else if (total + file.size() > maxBytes) {
                skipped.add(file, beyondCap(file.size(), total));
            } else {
                Result result = upload(file, maxBytes - total, total, session);
                if (result.artifact() != null) {
                    artifacts.add(result.artifact());
                    total += (Long) result.artifact().get("size");
                } else {
                    skipped.add(file, result.skipped());
                    stopAll = result.stopsAll();
                }
            }
        }
        skippedFiles.increment(skipped.count());
        log.info("artifacts uploaded dir={} uploaded={} bytes={} skipped={}", outputDir, artifacts.size(), total,
                skipped.count());
        return new Report(List.copyOf(artifacts), skipped.listed());
    }

    /** Lists the run's files as skipped, none uploaded, for {@code reason} (a cancelled job's, say). */
    public Report skipAll(Path outputDir, String reason) {
        Skipped skipped = new Skipped();
        scan(outputDir, skipped, file -> skipped.add(file, reason));
        skippedFiles.increment(skipped.count());
        return new Report(List.of(), skipped.listed());
    }

    /** One file: checked, hashed within {@code room} bytes, then uploaded, tried again while the session allows. */
    private Result upload(Found file, long room, long total, Session session) {
        BasicFileAttributes before;
        Sha256.Hashed hashed;
        try (InputStream in = Channels.newInputStream(Files.newByteChannel(file.path(), StandardOpenOption.READ,
                LinkOption.NOFOLLOW_LINKS))) {
            before = attributes(file.path());
            if (!before.isRegularFile() || !Objects.equals(before.fileKey(), file.fileKey())) {
                return Result.skipped(changed("it is no longer the file the scan found"));
            }
            hashed = Sha256.of(in, room + 1); // no further than the cap allows
        } catch (IOException e) {
            return Result.skipped(changed("it cannot be opened as the regular file it was: " + e));
        }
        if (hashed.size() > room) {
            return Result.skipped(beyondCap(hashed.size(), total) + "; it grew after the scan, which saw " + file.size());
        }
        if (hashed.size() != before.size()) {
            return Result.skipped(changed("it had " + before.size() + " bytes and " + hashed.size() + " were read"));
        }
        return send(file, hashed, before, session);
    }

    private Result send(Found file, Sha256.Hashed hashed, BasicFileAttributes before, Session session) {
        boolean brokeBefore = false;
        while (true) {
            String stopping = session.stopping();
            if (stopping != null) {
                return Result.skippedWithTheRest("not uploaded: " + stopping, "not uploaded: " + stopping);
            }
            BossBlobs.Upload answer;
            try {
                answer = boss.upload(hashed.sha256(), file.path(), hashed.size(), session::runStopped);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                continue; // the session now says it is stopping
            }
            Stored stored = answer.stored();
            if (stored == Stored.STORED || stored == Stored.REFUSED) {
                String changedSince = changedSince(file.path(), before);
                if (changedSince != null) {
                    // Its bytes are not the ones hashed, or no longer the file: what the Boss holds (if anything)
                    // stays unreferenced, and is collected.
                    return Result.skipped(changed(changedSince));
                }
            }
            switch (stored) {
                case STORED -> {
                    session.succeeded();
                    uploaded.increment();
                    uploadedBytes.increment(hashed.size());
                    return Result.uploaded(artifact(file.name(), hashed));
                }
                case REFUSED -> {
                    return Result.skipped("the Boss refused it: " + answer.reason());
                }
                case CHANGED -> {
                    return Result.skipped(changed(answer.reason()));
                }
                case GIVE_UP -> {
                    String why = "the Boss takes no artifacts from this Worker: " + answer.reason();
                    return Result.skippedWithTheRest(why, "not tried: " + why);
                }
                case STOPPED -> {
                    continue; // the session says why
                }
                default -> {
                    if (stored == Stored.BROKEN && brokeBefore) {
                        // Twice cut off mid-body with no answer, while the Boss takes connections: most likely it
                        // refuses this file early (over a limit) and closes; the other files still go.
                        return Result.skipped("the Boss closed the connection twice while it was sent, without an "
                                + "answer (a limit it is over, say): " + answer.reason());
                    }
                    brokeBefore = stored == Stored.BROKEN;
                    Duration pause = session.failed();
                    if (pause == null) {
                        String why = "the Boss " + (stored == Stored.FAILING ? "kept failing" : "could not be reached")
                                + " for " + retryFor.toSeconds() + " s (worker.artifacts.retry-for): " + answer.reason();
                        return stored == Stored.UNREACHABLE ? Result.skippedWithTheRest(why, "not tried: " + why)
                                : Result.skipped(why);
                    }
                    log.warn("artifact upload failed; will retry name={} in={}ms reason={}", file.name(),
                            pause.toMillis(), answer.reason());
                    try {
                        waits.pause(pause, session::stopped);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                }
            }
        }
    }

    /**
     * The uploads of one run, together: whether the run is stopping, and how long a failing Boss is still
     * given, counted from its first failure since the last file that went.
     */
    private final class Session {
        private final Supplier<String> stop;
        private long failingSince;
        private int failures;

        Session(Supplier<String> stop) {
            this.stop = stop;
        }

        /** Why no file is to be tried now (the run stopped, the thread interrupted), or null. */
        String stopping() {
            if (Thread.currentThread().isInterrupted()) {
                return "the worker was stopping";
            }
            String why = stop.get();
            return why == null ? null : "the run was stopped (" + why + ")";
        }

        boolean stopped() {
            return stopping() != null;
        }

        /** Whether the run was stopped: asked from the upload's watchdog thread, which watches the interrupt itself. */
        boolean runStopped() {
            return stop.get() != null;
        }

        void succeeded() {
            failures = 0;
        }

        /** A try failed: the pause before the next one, or null when the window is spent. */
        Duration failed() {
            long now = waits.nanoTime();
            if (failures++ == 0) {
                failingSince = now;
            }
            long left = retryFor.toNanos() - (now - failingSince);
            if (left <= 0) {
                return null;
            }
            long backoff = Math.min(MAX_PAUSE.toNanos(), firstPause.toNanos() << Math.min(failures - 1, 20));
            return Duration.ofNanos(Math.max(1, Math.min(backoff, left)));
        }
    }

    private static String changed(String detail) {
        return "changed while being uploaded (a process of the run still writing it?): " + detail;
    }

    private String beyondCap(long size, long total) {
        return "beyond the per-job cap of " + maxBytes + " bytes (worker.artifacts.max-bytes): " + size
                + " bytes, with " + total + " uploaded before it";
    }

    /** Why the file is not the version that was hashed any more (its size, time or identity moved), or null. */
    private static String changedSince(Path path, BasicFileAttributes before) {
        try {
            BasicFileAttributes now = attributes(path);
            if (now.size() != before.size() || !now.lastModifiedTime().equals(before.lastModifiedTime())
                    || !Objects.equals(now.fileKey(), before.fileKey())) {
                return "it had " + before.size() + " bytes when hashed and has " + now.size() + " now, or another "
                        + "modification time";
            }
            return null;
        } catch (IOException e) {
            return "it is gone: " + e;
        }
    }

    private static BasicFileAttributes attributes(Path path) throws IOException {
        return Files.readAttributes(path, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
    }

    private static Map<String, Object> artifact(String name, Sha256.Hashed hashed) {
        Map<String, Object> artifact = new LinkedHashMap<>();
        artifact.put("name", name);
        artifact.put("size", hashed.size());
        artifact.put("sha256", hashed.sha256());
        artifact.put("contentType", contentType(name));
        return artifact;
    }

    /** The run's files, the Worker's own left out, each to {@code found}; what cannot be an artifact goes to {@code skipped}. */
    private static void scan(Path outputDir, Skipped skipped, Consumer<Found> found) {
        if (!Files.isDirectory(outputDir)) {
            return;
        }
        try {
            // No FOLLOW_LINKS: a link (to a file or a folder, inside or out) is reported as what it is, a link.
            Files.walkFileTree(outputDir, EnumSet.noneOf(FileVisitOption.class), Integer.MAX_VALUE,
                    new SimpleFileVisitor<>() {
                        @Override
                        public FileVisitResult visitFile(Path file, BasicFileAttributes attributes) {
                            String name = name(outputDir, file);
                            if (WORKER_FILES.contains(name)) {
                                return FileVisitResult.CONTINUE;
                            }
                            String refused = attributes.isSymbolicLink() ? "a symbolic link: links are not followed"
                                    : !attributes.isRegularFile() ? "not a regular file"
                                    : !fileableName(name) ? "its name is not one the Boss can file (at most " + MAX_NAME
                                            + " characters, no control characters or backslashes)"
                                    : null;
                            if (refused != null) {
                                skipped.add(name, attributes.isRegularFile() ? attributes.size() : 0, refused);
                            } else {
                                found.accept(new Found(name, file, attributes.size(), attributes.fileKey()));
                            }
                            return FileVisitResult.CONTINUE;
                        }

                        @Override
                        public FileVisitResult visitFileFailed(Path file, IOException e) {
                            skipped.add(name(outputDir, file), 0, "cannot be read: " + e);
                            return FileVisitResult.CONTINUE;
                        }
                    });
        } catch (IOException e) {
            log.warn("cannot list the run's files dir={} error={}", outputDir, e.toString());
        }
    }

    /**
     * The skipped files as the outcome lists them: the first {@link #MAX_SKIPPED_LISTED} one by one, the
     * rest only counted (with their bytes and the first one's reason), never all held in memory.
     */
    private static final class Skipped {
        private final List<Map<String, Object>> listed = new ArrayList<>();
        private long rest;
        private long restBytes;
        private String firstRestReason;

        void add(Found file, String reason) {
            add(file.name(), file.size(), reason);
        }

        void add(String name, long size, String reason) {
            if (listed.size() < MAX_SKIPPED_LISTED) {
                listed.add(entry(name, size, reason));
            } else {
                if (rest++ == 0) {
                    firstRestReason = Text.abbreviate(reason, MAX_REASON);
                }
                restBytes += size;
            }
        }

        long count() {
            return listed.size() + rest;
        }

        List<Map<String, Object>> listed() {
            if (rest == 0) {
                return List.copyOf(listed);
            }
            List<Map<String, Object>> all = new ArrayList<>(listed);
            all.add(entry("(" + rest + " more files)", restBytes, "not listed one by one: only the first "
                    + MAX_SKIPPED_LISTED + " skipped files are; the first of these was skipped because: " + firstRestReason));
            return List.copyOf(all);
        }

        /** Name and reason kept short: they travel in the outcome, whose size the Boss bounds. */
        private static Map<String, Object> entry(String name, long size, String reason) {
            Map<String, Object> entry = new LinkedHashMap<>();
            entry.put("name", Text.abbreviate(name, MAX_NAME));
            entry.put("size", size);
            entry.put("reason", Text.abbreviate(reason, MAX_REASON));
            return entry;
        }
    }

    /** The path relative to the run's directory, with {@code /} between its parts. */
    private static String name(Path root, Path file) {
        return root.relativize(file).toString().replace(file.getFileSystem().getSeparator(), "/");
    }

    /** As the Boss's {@code ArtifactNames} checks a name: at most 255 characters, no control character (C0, DEL, C1), no backslash. */
    static boolean fileableName(String name) {
        return !name.isEmpty() && name.length() <= MAX_NAME && name.indexOf('\\') < 0
                && name.chars().noneMatch(Character::isISOControl);
    }

    static String contentType(String name) {
        int dot = name.lastIndexOf('.');
        String extension = dot < 0 ? "" : name.substring(dot + 1).toLowerCase(Locale.ROOT);
        return CONTENT_TYPES.getOrDefault(extension, "application/octet-stream");
    }
}
