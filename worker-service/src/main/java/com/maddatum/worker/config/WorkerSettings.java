package com.maddatum.worker.config;

import com.maddatum.worker.runner.ProcessRunner;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeSet;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.stereotype.Component;
import tools.jackson.databind.json.JsonMapper;

/**
 * The settings in force: {@link WorkerProperties} where set, then the seed's
 * {@code <scriptsDir>/worker-node-configure.json} ({@code bossAddress}, {@code nodeName}), then what
 * this machine says (host name, {@code nvidia-smi}, {@code /usr/bin/python3}). Resolved once at
 * start-up and logged, so an operator sees what the Worker will actually do.
 */
@Component
public class WorkerSettings {

    private static final Logger log = LoggerFactory.getLogger(WorkerSettings.class);
    static final String SEED_CONFIG = "worker-node-configure.json";
    /** A node name, as the Boss accepts it (it puts the name in URLs). */
    public static final java.util.regex.Pattern NODE_NAME = java.util.regex.Pattern.compile("[A-Za-z0-9][A-Za-z0-9_.:@-]{0,127}");

    private final WorkerProperties properties;
    private final String bossUrl;
    private final String nodeName;
    private final Path scriptsDir;
    private final Path dataDir;
    private final Path workDir;
    private final Path spoolDir;
    /** Not created here: the cache creates (and locks) it, so settings a test makes leave no folder behind. */
    private final Path cacheDir;
    private final String python;
    private final GpuProbe.Listing gpuListing;
    private final List<String> configuredLabels;
    private final int slots;
    private final List<String> labels;
    private final Optional<String> token;
    private final String visibleDevices;

    @Autowired
    public WorkerSettings(WorkerProperties properties, ProcessRunner runner, JsonMapper json) {
        this(properties, runner, json, GpuProbe.NVIDIA_SMI);
    }

    /** {@code nvidiaSmi}: the command that lists the GPUs (a test's stands in for a GPU machine's). */
    public WorkerSettings(WorkerProperties properties, ProcessRunner runner, JsonMapper json, List<String> nvidiaSmi) {
        this(properties, runner, json, nvidiaSmi, System.getenv());
    }

    /** {@code environment}: the Worker's own ({@code WORKER_TOKEN}, {@code CUDA_VISIBLE_DEVICES}). */
    public WorkerSettings(WorkerProperties properties, ProcessRunner runner, JsonMapper json, List<String> nvidiaSmi,
            Map<String, String> environment) {
        this.properties = properties;
        this.token = token(properties, environment);
        // An operator pins a Worker to some GPUs of a shared machine the way CUDA is pinned; set and empty: none.
        this.visibleDevices = environment.get("CUDA_VISIBLE_DEVICES");
        this.scriptsDir = realDirectory(Optional.ofNullable(properties.scriptsDir()).map(Path::of)
                .orElseGet(WorkerSettings::defaultScriptsDir));
        Map<String, Object> seed = seedConfig(scriptsDir.resolve(SEED_CONFIG), json);
        this.bossUrl = stripSlash(firstOf(properties.bossUrl(), (String) seed.get("bossAddress"), "http://localhost:8080"));
        URI.create(bossUrl); // fail at start-up, not at the first poll, on a malformed URL
        this.nodeName = firstOf(properties.nodeName(), (String) seed.get("nodeName"), hostName());
        if (!NODE_NAME.matcher(nodeName).matches()) {
            throw new IllegalArgumentException("worker.node-name '" + nodeName
                    + "' must be 1-128 letters, digits or _ . : @ - (the Boss uses it in URLs)");
        }
        this.dataDir = properties.dataDir() != null ? Path.of(properties.dataDir()).toAbsolutePath()
                : scriptsDir.resolve("data");
        this.workDir = createDirectory(Path.of(properties.workDir()));
        this.spoolDir = createDirectory(Path.of(properties.spoolDir()));
        this.cacheDir = properties.cache().dir() == null || properties.cache().dir().isBlank()
                ? workDir.resolve(".cache") : Path.of(properties.cache().dir()).toAbsolutePath().normalize();
        this.python = properties.python() != null ? properties.python()
                : Files.isExecutable(Path.of("/usr/bin/python3")) ? "/usr/bin/python3" : "python3";
        // Every GPU listed, healthy or not, has its slots: one that passes a later check gets its work back.
        this.gpuListing = GpuProbe.list(runner, nvidiaSmi, properties.gpuCheck().timeout(), visibleDevices);
        List<Gpu> gpus = gpuListing.gpus();
        this.slots = properties.slots() > 0 ? properties.slots() : Math.max(1, gpus.size());
        this.configuredLabels = properties.labels() == null ? List.of() : List.copyOf(new TreeSet<>(properties.labels()));
        this.labels = labels(configuredLabels, !gpus.isEmpty());
        log.info("worker settings node={} boss={} slots={} labels={} gpus={} cudaVisibleDevices={} python={} scripts={} data={} work={} spool={} cache={} cacheMaxBytes={} artifactsMaxBytes={}",
                nodeName, bossUrl, slots, labels, gpus.size(), visibleDevices, python, scriptsDir, dataDir, workDir, spoolDir,
                cacheDir, properties.cache().maxBytes(), properties.artifacts().maxBytes());
        if (gpus.isEmpty() && gpuListing.installed() && !gpuListing.noDevices() && gpuListing.failure() != null) {
            log.warn("nvidia-smi is installed but listed no GPU; running CPU-only reason={}", gpuListing.failure());
        }
    }

    /**
     * {@code worker.labels} plus what the machine offers: {@code gpu} and {@code cuda} with a GPU to run
     * on, else {@code cpu}. A machine whose GPUs all failed their check is a CPU machine: its configured
     * {@code gpu} or {@code cuda} go too, or the Boss would send it work it cannot do.
     */
    public static List<String> labels(List<String> configured, boolean withGpu) {
        TreeSet<String> all = new TreeSet<>(configured);
        if (withGpu) {
            all.addAll(List.of("gpu", "cuda")); // a configured cpu stays: a GPU box may take CPU work too
        } else {
            all.removeAll(List.of("gpu", "cuda"));
            all.add("cpu");
        }
        return List.copyOf(all);
    }

    /**
     * The bearer token: from {@code worker.token-file} when set (a Docker secret, say), else
     * {@code worker.token}. A token in the Worker's environment is readable by every script it runs, as
     * {@code /proc/<ppid>/environ} (a process cannot take a variable out of what the kernel shows there),
     * so the file is the way to keep it from them; the warning says so.
     */
    static Optional<String> token(WorkerProperties properties, Map<String, String> environment) {
        if (properties.tokenFile() != null && !properties.tokenFile().isBlank()) {
            Path file = Path.of(properties.tokenFile().trim());
            String token;
            try {
                token = Files.readString(file).strip();
            } catch (IOException | RuntimeException e) {
                throw new IllegalArgumentException("worker.token-file " + file.toAbsolutePath() + " cannot be read: " + e);
            }
            if (token.isEmpty()) {
                throw new IllegalArgumentException("worker.token-file " + file.toAbsolutePath() + " is empty");
            }
            if (properties.token() != null && !properties.token().isBlank()) {
                log.warn("worker.token-file and worker.token are both set; using the file. Unset WORKER_TOKEN: "
                        + "the scripts can read the Worker's environment");
            }
            return Optional.of(token);
        }
        if (environment.containsKey("WORKER_TOKEN")) {
            log.warn("the worker token is in the Worker's environment, which every script it runs can read "
                    + "(/proc/<pid>/environ); put it in a file and set WORKER_TOKEN_FILE instead");
        }
        return Optional.ofNullable(properties.token()).filter(t -> !t.isBlank());
    }

    private static Path defaultScriptsDir() {
        for (String candidate : new String[] {"python-scripts", "../python-scripts"}) {
            if (Files.isDirectory(Path.of(candidate))) {
                return Path.of(candidate);
            }
        }
        return Path.of("python-scripts");
    }

    private static Path realDirectory(Path dir) {
        if (!Files.isDirectory(dir)) {
            throw new IllegalArgumentException("worker.scripts-dir " + dir.toAbsolutePath()
                    + " is not a directory; set WORKER_SCRIPTS_DIR to the folder holding the *.py scripts");
        }
        try {
            return dir.toRealPath();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static Path createDirectory(Path dir) {
        try {
            return Files.createDirectories(dir).toAbsolutePath();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create " + dir.toAbsolutePath(), e);
        }
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> seedConfig(Path file, JsonMapper json) {
        if (!Files.isRegularFile(file)) {
            return Map.of();
        }
        try {
            Map<String, Object> config = json.readValue(file.toFile(), Map.class);
            log.info("read the seed's worker config file={}", file);
            return config;
        } catch (RuntimeException e) {
            log.warn("ignoring unreadable seed config file={} error={}", file, e.getMessage());
            return Map.of();
        }
    }

    private static String hostName() {
        try {
            return InetAddress.getLocalHost().getHostName();
        } catch (IOException e) {
            return Optional.ofNullable(System.getenv("HOSTNAME")).orElse("worker");
        }
    }

    private static String firstOf(String... values) {
        for (String value : values) {
            if (value != null && !value.isBlank()) {
                return value.trim();
            }
        }
        throw new IllegalStateException("no value");
    }

    private static String stripSlash(String url) {
        return url.endsWith("/") ? url.substring(0, url.length() - 1) : url;
    }

    public String bossUrl() { return bossUrl; }
    public String nodeName() { return nodeName; }
    public Path scriptsDir() { return scriptsDir; }
    public Path dataDir() { return dataDir; }
    public Path workDir() { return workDir; }
    public Path spoolDir() { return spoolDir; }
    /** {@code worker.cache.dir}, absolute; {@code <work-dir>/.cache} when not set. */
    public Path cacheDir() { return cacheDir; }
    public WorkerProperties.Cache cache() { return properties.cache(); }
    public WorkerProperties.Artifacts artifacts() { return properties.artifacts(); }
    public String python() { return python; }
    /** The GPUs {@code nvidia-smi} listed at start-up, healthy or not: the ones slots are bound to. */
    public List<Gpu> gpus() { return gpuListing.gpus(); }
    /** What {@code nvidia-smi} answered at start-up, failures included: the GPU check's first listing. */
    public GpuProbe.Listing gpuListing() { return gpuListing; }
    /** The Worker's own {@code CUDA_VISIBLE_DEVICES}: null when not set, empty for no GPU. */
    public String visibleDevices() { return visibleDevices; }
    public List<String> configuredLabels() { return configuredLabels; }
    public WorkerProperties.GpuCheck gpuCheck() { return properties.gpuCheck(); }
    public WorkerProperties.WarmInterpreter warmInterpreter() { return properties.warmInterpreter(); }
    public int slots() { return slots; }
    public List<String> labels() { return labels; }
    public Optional<String> token() { return token; }
    public Duration pollInterval() { return properties.pollInterval(); }
    public Duration longPoll() { return properties.longPoll(); }
    public Duration jobTimeout() { return properties.jobTimeout(); }
    public Duration heartbeatInterval() { return properties.heartbeatInterval(); }
    public Duration shutdownGrace() { return properties.shutdownGrace(); }
    public Duration killGrace() { return properties.killGrace(); }
    public Duration httpTimeout() { return properties.httpTimeout(); }
    public long maxLogBytes() { return properties.maxLogBytes(); }
    public int logTailBytes() { return properties.logTailBytes(); }
    public int keepRuns() { return properties.keepRuns(); }
    public List<String> scriptEnvironment() { return properties.scriptEnvironment(); }
    public int localQueue() { return properties.localQueue(); }
    public int localMaxBodyBytes() { return properties.localMaxBodyBytes(); }
    public boolean localAllowRemote() { return properties.localAllowRemote(); }
}
