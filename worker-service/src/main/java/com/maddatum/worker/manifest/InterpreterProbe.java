package com.maddatum.worker.manifest;

import com.maddatum.worker.common.Text;
import com.maddatum.worker.runner.ProcessRunner;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.json.JsonMapper;

/**
 * The Python, PyTorch, scikit-learn, NumPy and CUDA versions of the interpreter scripts run with, asked
 * (importing torch takes seconds) on a thread of its own, the first time a run needs them. An answer is
 * kept: installing packages under a running Worker is not caught, a restart is needed for that. A failure
 * (a crash, its {@link #TIMEOUT}, a loaded machine) is not: a run that begins {@link #RETRY_AFTER} after
 * it asks again. A package the interpreter lacks is null.
 */
public class InterpreterProbe {

    private static final Logger log = LoggerFactory.getLogger(InterpreterProbe.class);
    static final List<String> FIELDS = List.of("python", "torch", "sklearn", "numpy", "cuda");
    static final Duration TIMEOUT = Duration.ofSeconds(60);
    /** At most one failed probe a minute: each costs an interpreter's start and a torch import. */
    static final Duration RETRY_AFTER = Duration.ofMinutes(1);

    /** Standard library first; each import may fail on its own. {@code cuda} is null for a CPU build of torch. */
    public static final String SCRIPT = String.join("\n",
            "import json, platform",
            "out = {'python': platform.python_version()}",
            "for name in ('numpy', 'sklearn', 'torch'):",
            "    try:",
            "        out[name] = str(__import__(name).__version__)",
            "    except Exception:",
            "        out[name] = None",
            "try:",
            "    import torch",
            "    out['cuda'] = torch.version.cuda",
            "except Exception:",
            "    out['cuda'] = None",
            "print(json.dumps(out))");

    private final ProcessRunner runner;
    private final List<String> command;
    private final Map<String, String> environment;
    private final JsonMapper json;
    private final LongSupplier nanoTime;
    /** The latest probe; it completes with null when that probe failed. */
    private CompletableFuture<Map<String, Object>> versions;
    /** When the latest failed probe ended ({@link #nanoTime}); written before its future completes. */
    private volatile long failedAt;

    /** {@code environment}: what a script sees of the Worker's, so that PYTHONPATH and the like are the same. */
    public InterpreterProbe(ProcessRunner runner, List<String> command, Map<String, String> environment, JsonMapper json) {
        this(runner, command, environment, json, System::nanoTime);
    }

    InterpreterProbe(ProcessRunner runner, List<String> command, Map<String, String> environment, JsonMapper json,
            LongSupplier nanoTime) {
        this.runner = runner;
        this.command = List.copyOf(command);
        this.environment = Map.copyOf(environment);
        this.json = json;
        this.nanoTime = nanoTime;
    }

    /**
     * Starts the probe unless it answered, runs already, or failed less than {@link #RETRY_AFTER} ago.
     * Never blocks.
     */
    public synchronized void start() {
        boolean retry = versions != null && versions.isDone() && versions.getNow(null) == null
                && nanoTime.getAsLong() - failedAt >= RETRY_AFTER.toNanos();
        if (versions == null || retry) {
            versions = CompletableFuture.supplyAsync(this::probe, runnable -> {
                Thread thread = new Thread(runnable, "interpreter-probe");
                thread.setDaemon(true);
                thread.start();
            });
        }
    }

    /**
     * The versions, waiting at most {@code wait} for the probe (zero: what is known now, starting nothing);
     * all null when it failed or is still running.
     */
    public Map<String, Object> versions(Duration wait) throws InterruptedException {
        CompletableFuture<Map<String, Object>> latest;
        synchronized (this) {
            if (!wait.isZero()) {
                start();
            }
            latest = versions;
        }
        if (latest == null) {
            return unknown();
        }
        try {
            Map<String, Object> found = wait.isZero() ? latest.getNow(null)
                    : latest.get(wait.toMillis(), TimeUnit.MILLISECONDS);
            return found == null ? unknown() : found;
        } catch (TimeoutException e) {
            log.warn("the interpreter probe has not answered yet, versions left out waited={}", wait);
            return unknown();
        } catch (ExecutionException e) {
            return unknown();
        }
    }

    private Map<String, Object> probe() {
        Map<String, Object> found = null;
        try {
            found = Command.stdout(runner, command, environment, false, TIMEOUT).map(this::parse).orElse(null);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (RuntimeException e) {
            log.warn("the interpreter probe failed error={}", e.toString());
        }
        if (found == null) {
            failedAt = nanoTime.getAsLong();
            log.warn("the interpreter probe failed; versions are left out of run manifests until a retry answers "
                    + "command={} retryAfter={}", command.get(0), RETRY_AFTER);
            return null;
        }
        log.info("interpreter versions {}", found);
        return found;
    }

    /** The versions in the last stdout line; null when that is not the probe's JSON. Non-strings count as unknown. */
    Map<String, Object> parse(String stdout) {
        String[] lines = stdout.strip().split("\r?\n");
        try {
            Map<?, ?> read = json.readValue(lines[lines.length - 1], Map.class);
            Map<String, Object> versions = unknown();
            FIELDS.forEach(field -> versions.put(field,
                    read.get(field) instanceof String s ? Text.abbreviate(s, RunManifest.MAX_TEXT) : null));
            return versions.get("python") == null ? null : versions;
        } catch (JacksonException | ArrayIndexOutOfBoundsException e) {
            return null;
        }
    }

    static Map<String, Object> unknown() {
        Map<String, Object> versions = new LinkedHashMap<>();
        FIELDS.forEach(field -> versions.put(field, null));
        return versions;
    }
}
