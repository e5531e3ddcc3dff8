package com.maddatum.worker.manifest;

import com.maddatum.worker.common.Text;
import com.maddatum.worker.common.Sha256;
import com.maddatum.worker.common.FileNames;
import com.maddatum.worker.config.WorkerSettings;
import com.maddatum.worker.runner.ProcessRunner;
import com.maddatum.worker.runner.ScriptLauncher;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.stereotype.Component;
import tools.jackson.databind.json.JsonMapper;

/** Starts a {@link RunManifest} for each run; holds what all runs share (the probes, the hash cache). */
@Component
public class RunManifests {

    private static final Logger log = LoggerFactory.getLogger(RunManifests.class);
    /** As many inputs as the Boss lets a job name ({@code ModelInputs.MAX_INPUTS}). */
    static final int MAX_INPUTS = 100;

    private final WorkerSettings settings;
    private final InterpreterProbe interpreter;
    private final GpuIdentities gpus;
    private final FileHashes hashes;
    private final String version;
    private final String host;

    @Autowired
    public RunManifests(WorkerSettings settings, ProcessRunner runner, JsonMapper json) {
        this(settings, new InterpreterProbe(runner, List.of(settings.python(), "-c", InterpreterProbe.SCRIPT),
                        ScriptLauncher.passed(System.getenv(), settings.scriptEnvironment()), json),
                new GpuIdentities(runner, GpuIdentities.NVIDIA_SMI), new FileHashes(), WorkerVersion.current());
    }

    public RunManifests(WorkerSettings settings, InterpreterProbe interpreter, GpuIdentities gpus, FileHashes hashes,
            String version) {
        this.settings = settings;
        this.interpreter = interpreter;
        this.gpus = gpus;
        this.hashes = hashes;
        this.version = version;
        this.host = hostName();
    }

    /**
     * Records the files before the launch and starts the interpreter probe (once per Worker, or again
     * after a failure), so that it runs while the script does. Never throws: a file that cannot be read
     * is left out; interrupted, it leaves the rest out and keeps the interrupt.
     */
    public RunManifest begin(Map<String, Object> job, Integer gpu) {
        interpreter.start();
        Map<String, Object> files = new LinkedHashMap<>();
        files.put("scriptSha256", scriptHash(job.get("scriptName")));
        files.put("scriptsSha256", scriptsHash());
        Object dataName = job.get("dataFileName");
        boolean named = FileNames.isPlain(dataName);
        if (job.get("dataSha256") instanceof String pinned && Sha256.isHex(pinned)) {
            // A dataset: the run reads the blob the cache verified against this hash before the launch (run/RunInputs).
            files.put("dataSha256", pinned.toLowerCase(java.util.Locale.ROOT));
            files.put("dataFile", named ? dataName : null);
        } else if (named) {
            files.put("dataSha256", dataHash((String) dataName));
            files.put("dataFile", dataName);
        }
        List<Map<String, Object>> inputs = inputs(job.get("inputs"));
        if (!inputs.isEmpty()) {
            files.put("inputs", inputs);
        }
        Object seed = job.get("seed") instanceof Number n && !(n instanceof Double || n instanceof Float) ? n : null;
        String seedSource = job.get("seedSource") instanceof String s && (s.equals("job") || s.equals("boss")) ? s
                : seed == null ? null : "job";
        return new RunManifest(this, files, gpu, seed, seedSource);
    }

    /**
     * The job's inputs as the run gets them: each one's name and the SHA-256 the cache verified its bytes
     * against before the launch (run/RunInputs), in the job's order; a list, since names are not keys the
     * Boss stores as they are (a dot). Entries the run refuses are left out, and any past {@link #MAX_INPUTS}.
     */
    private static List<Map<String, Object>> inputs(Object given) {
        if (!(given instanceof List<?> list)) {
            return List.of();
        }
        List<Map<String, Object>> inputs = new ArrayList<>();
        for (Object entry : list) {
            if (inputs.size() < MAX_INPUTS && entry instanceof Map<?, ?> input && FileNames.isPlain(input.get("name"))
                    && Sha256.isHex(input.get("sha256"))) {
                Map<String, Object> named = new LinkedHashMap<>();
                named.put("name", input.get("name"));
                named.put("sha256", ((String) input.get("sha256")).toLowerCase(java.util.Locale.ROOT));
                inputs.add(named);
            }
        }
        return inputs;
    }

    private String scriptHash(Object scriptName) {
        try {
            return hashes.sha256(ScriptLauncher.scriptPath(settings.scriptsDir(), scriptName));
        } catch (ScriptLauncher.Refused | IOException e) {
            return null; // the launch refuses it, with the reason
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt(); // the launch that follows sees it
            return null;
        }
    }

    /** What the script can import from its own folder, beside the script itself. */
    private String scriptsHash() {
        try {
            return hashes.pythonFilesSha256(settings.scriptsDir());
        } catch (IOException | UncheckedIOException e) {
            log.warn("cannot hash the scripts folder dir={} error={}", settings.scriptsDir(), e.toString());
            return null;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return null;
        }
    }

    /** The file the script will find: in the data directory, else in the scripts' own data folder (jobcontract.find_data). */
    private String dataHash(String name) {
        for (Path dir : List.of(settings.dataDir(), settings.scriptsDir().resolve("data"))) {
            Path candidate = dir.resolve(name);
            if (Files.isRegularFile(candidate)) {
                try {
                    return hashes.sha256(candidate);
                } catch (IOException e) {
                    log.warn("cannot hash the data file file={} error={}", candidate, e.toString());
                    return null;
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return null;
                }
            }
        }
        return null;
    }

    /** The kernel's name for this machine; looking it up in DNS (InetAddress) can fail or take seconds. */
    private static String hostName() {
        try {
            return Text.abbreviate(Files.readString(Path.of("/proc/sys/kernel/hostname")).strip(), RunManifest.MAX_TEXT);
        } catch (IOException | RuntimeException e) {
            try {
                return Text.abbreviate(InetAddress.getLocalHost().getHostName(), RunManifest.MAX_TEXT);
            } catch (IOException notFound) {
                return System.getenv("HOSTNAME");
            }
        }
    }

    InterpreterProbe interpreter() {
        return interpreter;
    }

    GpuIdentities gpus() {
        return gpus;
    }

    String host() {
        return host;
    }

    String worker() {
        return settings.nodeName();
    }

    String version() {
        return version;
    }
}
