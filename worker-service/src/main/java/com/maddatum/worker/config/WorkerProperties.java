package com.maddatum.worker.config;

import jakarta.validation.Valid;
import jakarta.validation.constraints.AssertTrue;
import jakarta.validation.constraints.Max;
import jakarta.validation.constraints.Min;
import jakarta.validation.constraints.NotBlank;
import jakarta.validation.constraints.NotNull;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;
import org.hibernate.validator.constraints.time.DurationMax;
import org.hibernate.validator.constraints.time.DurationMin;
import org.springframework.util.unit.DataSize;
import org.springframework.validation.annotation.Validated;

/**
 * The Worker's settings as configured (environment variables bind too: {@code worker.boss-url} is
 * {@code WORKER_BOSS_URL}). Unset ones are filled in by {@link WorkerSettings}: from the seed's
 * {@code python-scripts/worker-node-configure.json} when present, else detected.
 */
@Validated
@ConfigurationProperties("worker")
public record WorkerProperties(
        String bossUrl,
        String nodeName,
        String scriptsDir,
        String dataDir,
        @NotBlank @DefaultValue("./work") String workDir,
        String python,
        @Min(0) @Max(256) @DefaultValue("0") int slots,
        List<String> labels,
        @NotNull @DefaultValue("1s") Duration pollInterval,
        @NotNull @DefaultValue("20s") Duration longPoll,
        @NotNull @DefaultValue("24h") Duration jobTimeout,
        @NotNull @DefaultValue("30s") Duration heartbeatInterval,
        @NotNull @DefaultValue("60s") Duration shutdownGrace,
        @NotNull @DefaultValue("5s") Duration killGrace,
        String token,
        String tokenFile,
        @NotBlank @DefaultValue("./spool") String spoolDir,
        @Min(1024) @DefaultValue("67108864") long maxLogBytes,
        @Min(1024) @Max(4194304) @DefaultValue("65536") int logTailBytes,
        @NotNull @DefaultValue("10s") Duration httpTimeout,
        @Min(1) @DefaultValue("200") int keepRuns,
        @NotNull @DefaultValue({"PATH", "HOME", "USER", "LOGNAME", "LANG", "LANGUAGE", "LC_*", "TZ", "TMPDIR",
                "PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV", "CONDA_PREFIX", "LD_LIBRARY_PATH", "CUDA_*", "NVIDIA_*",
                "NCCL_*", "OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "TORCH_HOME", "HF_HOME",
                "XDG_CACHE_HOME", "HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY", "http_proxy", "https_proxy",
                "no_proxy"}) List<String> scriptEnvironment,
        @Min(1) @Max(1000) @DefaultValue("8") int localQueue,
        @Min(1024) @DefaultValue("1048576") int localMaxBodyBytes,
        @DefaultValue("false") boolean localAllowRemote,
        @Valid @DefaultValue GpuCheck gpuCheck,
        @Valid @DefaultValue Cache cache,
        @Valid @DefaultValue Artifacts artifacts,
        @Valid @DefaultValue WarmInterpreter warmInterpreter) {

    /** Null (a test that builds the record by hand) means the defaults. */
    public WorkerProperties {
        warmInterpreter = warmInterpreter == null ? WarmInterpreter.DEFAULTS : warmInterpreter;
        gpuCheck = gpuCheck == null ? GpuCheck.DEFAULTS : gpuCheck;
        cache = cache == null ? Cache.DEFAULTS : cache;
        artifacts = artifacts == null ? Artifacts.DEFAULTS : artifacts;
    }

    /**
     * The blob cache ({@code cache/BlobCache}): the datasets and inputs jobs name by SHA-256, fetched from
     * the Boss into {@code dir} as {@code <sha256>} files ({@code <work-dir>/.cache} when not set: beside the
     * runs, so each Worker with a work directory of its own has a cache of its own). {@code maxBytes} bounds
     * the blobs, the parts of stopped downloads and the bytes promised to downloads under way together (least
     * recently used blobs and parts nothing uses go first; a blob a job holds is never removed, so the cache
     * may be over the bound while jobs hold more than it); a blob larger than the bound is refused, which the
     * job's Outcome reports as this machine's shortfall, not the job's fault. A download that moves no byte for
     * {@code stallTimeout} is abandoned (its {@code .part} file resumes next time), so a Boss that stops
     * answering mid-stream never holds a job forever. One Worker per directory: it is locked while the
     * Worker runs.
     */
    public record Cache(
            String dir,
            @NotNull @DefaultValue("20GB") DataSize maxBytes,
            @NotNull @DurationMin(seconds = 1) @DurationMax(hours = 1) @DefaultValue("60s") Duration stallTimeout) {

        public static final Cache DEFAULTS = new Cache(null, DataSize.ofGigabytes(20), Duration.ofSeconds(60));

        @AssertTrue(message = "worker.cache.max-bytes must be positive")
        public boolean isMaxBytesPositive() {
            return maxBytes == null || maxBytes.toBytes() > 0;
        }
    }

    /**
     * What a Boss order's script leaves under {@code OUTPUT_DIR}, uploaded to the Boss before the outcome
     * ({@code artifact/ArtifactUploader}): at most {@code maxBytes} (counted on the bytes hashed and sent)
     * and {@code maxFiles} per job, the rest listed as skipped with why. {@code maxFiles} is at most
     * {@value #MAX_FILES}: with the skipped files listed one by one, an outcome names at most 800 files,
     * which keeps it within the Boss's 5,000 JSON values. A Boss that fails or cannot be reached is tried
     * again with back-off for {@code retryFor} (a Boss restarting in a rolling deploy), the run's heartbeats
     * keeping its lease meanwhile. {@code stallTimeout} ends an upload when no byte has moved for that long:
     * while its body is written (a Boss that stopped reading) and while its answer is awaited.
     */
    public record Artifacts(
            @NotNull @DefaultValue("1GB") DataSize maxBytes,
            @Min(0) @Max(MAX_FILES) @DefaultValue("500") int maxFiles,
            @NotNull @DurationMin(seconds = 0) @DurationMax(hours = 1) @DefaultValue("2m") Duration retryFor,
            @NotNull @DurationMin(seconds = 1) @DurationMax(hours = 1) @DefaultValue("60s") Duration stallTimeout) {

        /** The most {@code max-files} may be (see above). */
        public static final int MAX_FILES = 700;

        public static final Artifacts DEFAULTS = new Artifacts(DataSize.ofGigabytes(1), 500, Duration.ofMinutes(2),
                Duration.ofSeconds(60));

        @AssertTrue(message = "worker.artifacts.max-bytes must not be negative")
        public boolean isMaxBytesNotNegative() {
            return maxBytes == null || maxBytes.toBytes() >= 0;
        }
    }

    /**
     * A warm interpreter per slot ({@code runner/WarmInterpreters}): the next job's Python process is started
     * while the slot runs or waits for a job, and waits on stdin for it, so that a job does not wait for the
     * interpreter's start-up. Each job still gets a process of its own. False: every script starts cold.
     * {@code preload}: standard-library modules a waiting interpreter loads ahead and hands to the script when
     * it imports one, if that import would have found the same file ({@code runner/warm_launcher.py}); by
     * default what the project's scripts import through {@code jobcontract}. A module outside the standard
     * library's own folders is not preloaded (the list is then ignored whole); empty: nothing is.
     */
    public record WarmInterpreter(
            @DefaultValue("true") boolean enabled,
            @DefaultValue({"__future__", "csv", "json", "math", "pathlib", "re", "signal", "time", "traceback",
                    "typing"}) List<String> preload) {

        public static final List<String> DEFAULT_PRELOAD = List.of("__future__", "csv", "json", "math", "pathlib",
                "re", "signal", "time", "traceback", "typing");
        public static final WarmInterpreter DEFAULTS = new WarmInterpreter(true, DEFAULT_PRELOAD);

        public WarmInterpreter {
            // Not List.copyOf: an empty element binds as null, which the check below names rather than an NPE.
            preload = preload == null ? DEFAULT_PRELOAD : Collections.unmodifiableList(new ArrayList<>(preload));
        }

        @AssertTrue(message = "worker.warm-interpreter.preload must list module names (dotted identifiers)")
        public boolean isPreloadModuleNames() {
            return preload.stream().allMatch(name -> name != null && name.matches("[A-Za-z_]\\w*(\\.[A-Za-z_]\\w*)*"));
        }
    }

    /**
     * The GPU health check ({@code gpu/GpuHealth}), run at start-up and after each run that failed for the
     * machine's sake. {@code timeout} bounds each of its two processes ({@code nvidia-smi}, and Python
     * importing torch and touching every GPU); {@code cuda} false leaves the Python step out. While a GPU
     * is failed (or nvidia-smi failed at start-up) the check runs again after {@code retryFirst}, the wait
     * doubling up to {@code retryMax}: a GPU that came back (a driver reload, a reset) is offered again
     * without a restart and without waiting for a run to fail.
     */
    public record GpuCheck(
            @DefaultValue("true") boolean enabled,
            @NotNull @DurationMin(seconds = 1) @DurationMax(minutes = 10) @DefaultValue("30s") Duration timeout,
            @DefaultValue("true") boolean cuda,
            @NotNull @DurationMin(seconds = 1) @DurationMax(hours = 24) @DefaultValue("1m") Duration retryFirst,
            @NotNull @DurationMin(seconds = 1) @DurationMax(hours = 24) @DefaultValue("30m") Duration retryMax) {

        public static final GpuCheck DEFAULTS = new GpuCheck(true, Duration.ofSeconds(30), true, Duration.ofMinutes(1),
                Duration.ofMinutes(30));

        /** A first wait longer than the longest would never double; it says the two were mixed up. */
        @AssertTrue(message = "worker.gpu-check.retry-max must be at least worker.gpu-check.retry-first")
        public boolean isRetryMaxAtLeastRetryFirst() {
            return retryFirst == null || retryMax == null || retryMax.compareTo(retryFirst) >= 0;
        }
    }
}
