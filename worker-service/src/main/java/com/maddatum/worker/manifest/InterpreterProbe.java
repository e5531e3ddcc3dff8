package com.maddatum.worker.manifest;

import com.maddatum.worker.runner.ProcessRunner;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.json.JsonMapper;

/**
 * The Python, PyTorch, scikit-learn, NumPy and CUDA versions of the interpreter scripts run with, asked
 * once (importing torch takes seconds) on a thread of its own, the first time a run needs them, and kept:
 * installing packages under a running Worker is not caught, a restart is needed for that. A package the
 * interpreter lacks is null.
 */
public class InterpreterProbe {

    private static final Logger log = LoggerFactory.getLogger(InterpreterProbe.class);
    static final List<String> FIELDS = List.of("python", "torch", "sklearn", "numpy", "cuda");
    static final Duration TIMEOUT = Duration.ofSeconds(60);

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
    private CompletableFuture<Map<String, Object>> versions;

    /** {@code environment}: what a script sees of the Worker's, so that PYTHONPATH and the like are the same. */
    public InterpreterProbe(ProcessRunner runner, List<String> command, Map<String, String> environment, JsonMapper json) {
        this.runner = runner;
        this.command = List.copyOf(command);
        this.environment = Map.copyOf(environment);
        this.json = json;
    }

    /** Starts the probe unless it ran or runs already. Never blocks. */
    public synchronized void start() {
        if (versions == null) {
            versions = CompletableFuture.supplyAsync(this::probe, runnable -> {
                Thread thread = new Thread(runnable, "interpreter-probe");
                thread.setDaemon(true);
                thread.start();
            });
        }
    }

    /** The versions, waiting at most {@code wait} for the probe; all null when it failed or is still running. */
    public Map<String, Object> versions(Duration wait) throws InterruptedException {
        start();
        try {
            return versions.get(wait.toMillis(), TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            log.warn("the interpreter probe has not answered yet, versions left out waited={}", wait);
            return unknown();
        } catch (ExecutionException e) {
            return unknown();
        }
    }

    private Map<String, Object> probe() {
        try {
            Optional<String> out = Command.stdout(runner, command, environment, false, TIMEOUT);
            Map<String, Object> found = out.map(this::parse).orElse(null);
            if (found == null) {
                log.warn("the interpreter probe failed; versions are left out of run manifests command={}",
                        command.get(0));
                return unknown();
            }
            log.info("interpreter versions {}", found);
            return found;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return unknown();
        }
    }

    /** The versions in the last stdout line; null when that is not the probe's JSON. Non-strings count as unknown. */
    Map<String, Object> parse(String stdout) {
        String[] lines = stdout.strip().split("\r?\n");
        try {
            Map<?, ?> read = json.readValue(lines[lines.length - 1], Map.class);
            Map<String, Object> versions = unknown();
            FIELDS.forEach(field -> versions.put(field, read.get(field) instanceof String s ? RunManifest.cut(s) : null));
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
