package com.maddatum.worker.artifact;

import com.maddatum.worker.client.BossBlobs;
import com.maddatum.worker.client.BossBlobs.Stored;
import com.maddatum.worker.config.WorkerSettings;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.FileVisitOption;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.EnumSet;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.stereotype.Component;

/**
 * Uploads what a script left under {@code $OUTPUT_DIR} to the Boss ({@code POST /blobs?sha256=}), each file
 * hashed first and then streamed, before the outcome that names them is kept. The Worker's own files there
 * ({@link #WORKER_FILES}: the job, the logs) are not artifacts; symbolic links are never followed (a link is
 * listed as skipped, not uploaded), nor is anything that is not a regular file.
 *
 * <p>Within {@code worker.artifacts.max-bytes} and {@code max-files} per job: the {@code model.*} files at the
 * top come first (what a predict job needs), then the rest smallest first, so that one huge checkpoint does
 * not crowd out a dozen plots. Every file that is not uploaded is listed in {@code skippedArtifacts} with why
 * (beyond the cap, refused by the Boss, the Boss unreachable after {@code attempts} tries): never silently
 * dropped. Once the Boss is unreachable the remaining files are not tried, so a Boss that is down delays
 * the outcome by one file's tries, not by every file's: the outcome is kept (and sent when the Boss is back)
 * with those files listed as skipped.
 */
@Component
public class ArtifactUploader {

    private static final Logger log = LoggerFactory.getLogger(ArtifactUploader.class);
    /** What the Worker itself writes into the run's directory ({@code runner/ScriptLauncher}, {@code ProcessSpec}). */
    public static final Set<String> WORKER_FILES = Set.of("job.json", "stdout.log", "stderr.log");
    /** At most this many skipped files are listed one by one; the rest are counted in one more entry. */
    public static final int MAX_SKIPPED_LISTED = 100;
    /** Longer names (a path relative to {@code OUTPUT_DIR}) are skipped: the Boss files artifacts by name. */
    static final int MAX_NAME = 512;
    private static final Map<String, String> CONTENT_TYPES = Map.ofEntries(Map.entry("png", "image/png"),
            Map.entry("jpg", "image/jpeg"), Map.entry("jpeg", "image/jpeg"), Map.entry("gif", "image/gif"),
            Map.entry("svg", "image/svg+xml"), Map.entry("csv", "text/csv"), Map.entry("tsv", "text/tab-separated-values"),
            Map.entry("txt", "text/plain"), Map.entry("log", "text/plain"), Map.entry("md", "text/markdown"),
            Map.entry("json", "application/json"), Map.entry("html", "text/html"), Map.entry("pdf", "application/pdf"),
            Map.entry("zip", "application/zip"), Map.entry("gz", "application/gzip"));

    private final BossBlobs boss;
    private final long maxBytes;
    private final int maxFiles;
    private final int attempts;
    private final Duration retryPause;
    private final Counter uploaded;
    private final Counter uploadedBytes;
    private final Counter skippedFiles;

    @Autowired
    public ArtifactUploader(BossBlobs boss, WorkerSettings settings, MeterRegistry meters) {
        this(boss, settings.artifacts().maxBytes().toBytes(), settings.artifacts().maxFiles(),
                settings.artifacts().attempts(), Duration.ofSeconds(1), meters);
    }

    /** {@code retryPause}: the wait before a file's second try, doubling after each. */
    public ArtifactUploader(BossBlobs boss, long maxBytes, int maxFiles, int attempts, Duration retryPause,
            MeterRegistry meters) {
        this.boss = boss;
        this.maxBytes = maxBytes;
        this.maxFiles = maxFiles;
        this.attempts = attempts;
        this.retryPause = retryPause;
        this.uploaded = Counter.builder("worker.artifacts.uploaded").description("artifact files uploaded to the Boss")
                .register(meters);
        this.uploadedBytes = Counter.builder("worker.artifacts.uploaded.bytes").baseUnit("bytes")
                .description("bytes of artifacts uploaded to the Boss").register(meters);
        this.skippedFiles = Counter.builder("worker.artifacts.skipped")
                .description("artifact files not uploaded (over the cap, refused, the Boss unreachable)").register(meters);
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

    /** A file the script left, found without following links: its name relative to the run's directory. */
    private record Found(String name, Path path, long size) {}

    /** Why a file was not uploaded, and whether no other file should be tried either. */
    private record Failure(String reason, boolean stopsAll) {}

    private record Hashed(String sha256, long size) {}

    /** Uploads the run's files; never throws. Interrupted, it lists what is left as skipped and keeps the interrupt. */
    public Report upload(Path outputDir) {
        List<Map<String, Object>> skipped = new ArrayList<>();
        List<Found> files = scan(outputDir, skipped);
        List<Map<String, Object>> artifacts = new ArrayList<>();
        long total = 0;
        String stop = null; // once set, why no further file is tried
        for (Found file : order(files)) {
            if (stop != null) {
                skip(skipped, file, stop);
            } else if (artifacts.size() >= maxFiles) {
                skip(skipped, file, "beyond the per-job limit of " + maxFiles + " files (worker.artifacts.max-files)");
            } else if (total + file.size() > maxBytes) {
                skip(skipped, file, "beyond the per-job cap of " + maxBytes + " bytes (worker.artifacts.max-bytes), "
                        + total + " bytes uploaded before it");
            } else {
                try {
                    Failure failure = upload(file, artifacts);
                    if (failure == null) {
                        total += file.size();
                    } else {
                        skip(skipped, file, failure.reason());
                        stop = failure.stopsAll() ? "not tried: " + failure.reason() : null;
                    }
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    stop = "not uploaded: the worker was stopping";
                    skip(skipped, file, stop);
                }
            }
        }
        log.info("artifacts uploaded dir={} uploaded={} bytes={} skipped={}", outputDir, artifacts.size(), total,
                skipped.size());
        return new Report(List.copyOf(artifacts), listed(skipped));
    }

    /** Lists the run's files as skipped, none uploaded, for {@code reason} (a cancelled job's, say). */
    public Report skipAll(Path outputDir, String reason) {
        List<Map<String, Object>> skipped = new ArrayList<>();
        for (Found file : order(scan(outputDir, skipped))) {
            skip(skipped, file, reason);
        }
        return new Report(List.of(), listed(skipped));
    }

    /**
     * Uploads one file (hash, then stream), trying a Boss that does not answer {@link #attempts} times.
     * Null when stored; else why not.
     */
    private Failure upload(Found file, List<Map<String, Object>> artifacts) throws InterruptedException {
        Hashed hashed;
        try {
            hashed = sha256(file.path());
        } catch (IOException e) {
            return new Failure("cannot be read: " + e, false);
        }
        String sha256 = hashed.sha256();
        long size = hashed.size();
        String reason = null;
        for (int attempt = 1; attempt <= attempts; attempt++) {
            if (attempt > 1) {
                Thread.sleep(retryPause.toMillis() << Math.min(attempt - 2, 10));
            }
            BossBlobs.Upload answer = boss.upload(sha256, file.path(), size);
            if (answer.stored() == Stored.STORED) {
                Map<String, Object> artifact = new LinkedHashMap<>();
                artifact.put("name", file.name());
                artifact.put("size", size);
                artifact.put("sha256", sha256);
                artifact.put("contentType", contentType(file.name()));
                artifacts.add(artifact);
                uploaded.increment();
                uploadedBytes.increment(size);
                return null;
            }
            reason = answer.reason();
            if (answer.stored() == Stored.REFUSED) {
                return new Failure("the Boss refused it: " + reason, false);
            }
            if (answer.stored() == Stored.GIVE_UP) {
                return new Failure("the Boss takes no artifacts from this Worker: " + reason, true);
            }
            log.warn("artifact upload failed; will retry name={} attempt={} of={} reason={}", file.name(), attempt,
                    attempts, reason);
        }
        return new Failure("the Boss could not be reached after " + attempts + " tries: " + reason, true);
    }

    /** The run's files, the Worker's own left out; what cannot be an artifact goes to {@code skipped}. */
    private static List<Found> scan(Path outputDir, List<Map<String, Object>> skipped) {
        List<Found> found = new ArrayList<>();
        if (!Files.isDirectory(outputDir)) {
            return found;
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
                                    : !plainName(name) ? "its name is not one the Boss can file (at most " + MAX_NAME
                                            + " characters, no control characters or backslashes)"
                                    : null;
                            if (refused != null) {
                                skipped.add(entry(name, attributes.isRegularFile() ? attributes.size() : 0, refused));
                            } else {
                                found.add(new Found(name, file, attributes.size()));
                            }
                            return FileVisitResult.CONTINUE;
                        }

                        @Override
                        public FileVisitResult visitFileFailed(Path file, IOException e) {
                            skipped.add(entry(name(outputDir, file), 0, "cannot be read: " + e));
                            return FileVisitResult.CONTINUE;
                        }
                    });
        } catch (IOException e) {
            log.warn("cannot list the run's files dir={} error={}", outputDir, e.toString());
        }
        return found;
    }

    /** {@code model.*} at the top first, then smallest first, then by name. */
    private static List<Found> order(List<Found> files) {
        return files.stream().sorted(Comparator.comparing((Found f) -> !(f.name().startsWith("model.")))
                .thenComparingLong(Found::size).thenComparing(Found::name)).toList();
    }

    private void skip(List<Map<String, Object>> skipped, Found file, String reason) {
        skipped.add(entry(file.name(), file.size(), reason));
    }

    /** At most {@link #MAX_SKIPPED_LISTED} entries; the rest counted in one more, with their bytes. */
    private List<Map<String, Object>> listed(List<Map<String, Object>> skipped) {
        skippedFiles.increment(skipped.size());
        if (skipped.size() <= MAX_SKIPPED_LISTED) {
            return List.copyOf(skipped);
        }
        List<Map<String, Object>> rest = skipped.subList(MAX_SKIPPED_LISTED, skipped.size());
        long bytes = rest.stream().mapToLong(e -> ((Number) e.get("size")).longValue()).sum();
        List<Map<String, Object>> listed = new ArrayList<>(skipped.subList(0, MAX_SKIPPED_LISTED));
        listed.add(entry("(" + rest.size() + " more files)", bytes, "not listed one by one: only the first "
                + MAX_SKIPPED_LISTED + " skipped files are; the first of these was skipped because: "
                + rest.get(0).get("reason")));
        return List.copyOf(listed);
    }

    private static Map<String, Object> entry(String name, long size, String reason) {
        Map<String, Object> entry = new LinkedHashMap<>();
        entry.put("name", name);
        entry.put("size", size);
        entry.put("reason", reason);
        return entry;
    }

    /** The path relative to the run's directory, with {@code /} between its parts. */
    private static String name(Path root, Path file) {
        return root.relativize(file).toString().replace(file.getFileSystem().getSeparator(), "/");
    }

    private static boolean plainName(String name) {
        if (name.isEmpty() || name.length() > MAX_NAME || name.indexOf('\\') >= 0) {
            return false;
        }
        return name.chars().noneMatch(c -> c < 0x20 || c == 0x7f);
    }

    static String contentType(String name) {
        int dot = name.lastIndexOf('.');
        String extension = dot < 0 ? "" : name.substring(dot + 1).toLowerCase(Locale.ROOT);
        return CONTENT_TYPES.getOrDefault(extension, "application/octet-stream");
    }

    /** The file's SHA-256 in hex, and the bytes it read: the size hashed is the size sent. */
    private static Hashed sha256(Path file) throws IOException {
        MessageDigest digest;
        try {
            digest = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JDK has SHA-256", e);
        }
        byte[] buffer = new byte[256 * 1024];
        long size = 0;
        try (InputStream in = Files.newInputStream(file)) {
            for (int n; (n = in.read(buffer)) >= 0; ) {
                digest.update(buffer, 0, n);
                size += n;
            }
        }
        return new Hashed(HexFormat.of().formatHex(digest.digest()), size);
    }
}
