package com.maddatum.worker.runner;

import com.maddatum.worker.config.WorkerSettings;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.stereotype.Component;
import tools.jackson.databind.json.JsonMapper;

/**
 * Turns a Job into a process: {@code [python, -u, <scriptsDir>/<scriptName>, <job JSON>]} (the
 * seed's contract), with the same JSON on stdin and in {@code $JOB_FILE}, in a fresh work directory
 * that is also {@code $OUTPUT_DIR}; {@code $DATA_DIR}, {@code $DATA_FILE} and {@code $INPUT_DIR} as the
 * run's {@link RunFiles} say. A script outside the scripts directory is never run. The script
 * sees only the variables named in {@code worker.script-environment} from the Worker's own
 * environment (so never {@code WORKER_TOKEN}), plus the ones the contract gives it.
 */
@Component
public class ScriptLauncher {

    /** Linux refuses a single argument of 128 KiB or more (MAX_ARG_STRLEN, counting its NUL). */
    static final int MAX_ARGUMENT_BYTES = 128 * 1024 - 1;

    private final WorkerSettings settings;
    private final ProcessRunner runner;
    private final JsonMapper json;
    private final Map<String, String> passedEnvironment;
    private final WarmInterpreters warm;

    /** Every script starts cold. */
    public ScriptLauncher(WorkerSettings settings, ProcessRunner runner, JsonMapper json) {
        this(settings, runner, json, null);
    }

    /** {@code warm}: the interpreters waiting for a job ({@code null}: every script starts cold). */
    @Autowired
    public ScriptLauncher(WorkerSettings settings, ProcessRunner runner, JsonMapper json, WarmInterpreters warm) {
        this.settings = settings;
        this.runner = runner;
        this.json = json;
        this.warm = warm;
        this.passedEnvironment = passed(System.getenv(), settings.scriptEnvironment());
    }

    /** A script the Worker will not run: the Job is at fault, so this becomes a 4xx Outcome. */
    public static final class Refused extends Exception {
        private final int status;
        private final String type;

        public Refused(int status, String type, String message) {
            super(message, null, false, false);
            this.status = status;
            this.type = type;
        }

        public int status() {
            return status;
        }

        public String type() {
            return type;
        }
    }

    /** A slot of {@code gpu} (null: a CPU slot) has no job and waits for one: see {@link WarmInterpreters#slotIdle}. */
    public void slotIdle(Integer gpu) {
        if (warm != null) {
            warm.slotIdle(gpu);
        }
    }

    /**
     * Starts the job's script. {@code runName} names the work directory; {@code gpu} pins
     * {@code CUDA_VISIBLE_DEVICES} when not null; {@code extraEnv} adds e.g. {@code BOSS_ORDER_ID}.
     */
    public ProcessRunner.Running launch(Map<String, Object> job, String runName, Integer gpu,
            Map<String, String> extraEnv) throws Refused, IOException {
        return launch(job, runName, gpu, extraEnv, null);
    }

    public ProcessRunner.Running launch(Map<String, Object> job, String runName, Integer gpu,
            Map<String, String> extraEnv, ProcessSpec.OutputListener listener) throws Refused, IOException {
        return launch(job, runName, gpu, extraEnv, RunFiles.NONE, listener);
    }

    /** As above, with the data and inputs the run's {@code files} say ({@code DATA_DIR}, {@code DATA_FILE}, {@code INPUT_DIR}). */
    public ProcessRunner.Running launch(Map<String, Object> job, String runName, Integer gpu,
            Map<String, String> extraEnv, RunFiles files, ProcessSpec.OutputListener listener) throws Refused, IOException {
        return launch(job, runName, gpu, extraEnv, files, listener, null);
    }

    /** As above, reading the script's progress lines into {@code progress} (null: not read). */
    public ProcessRunner.Running launch(Map<String, Object> job, String runName, Integer gpu,
            Map<String, String> extraEnv, RunFiles files, ProcessSpec.OutputListener listener, Progress progress)
            throws Refused, IOException {
        Path script = resolveScript(job.get("scriptName"));
        Path workDir = Files.createDirectories(settings.workDir().resolve(runName));
        String jobJson = json.writeValueAsString(job);
        byte[] jobBytes = jobJson.getBytes(StandardCharsets.UTF_8);
        Path jobFile = workDir.resolve("job.json");
        Files.write(jobFile, jobBytes);

        List<String> command = new ArrayList<>(List.of(settings.python(), "-u", script.toString()));
        if (jobBytes.length <= MAX_ARGUMENT_BYTES) {
            command.add(jobJson);
        }
        Map<String, String> env = new LinkedHashMap<>(passedEnvironment);
        env.putAll(extraEnv);
        env.put("JOB_FILE", jobFile.toString());
        env.keySet().removeAll(List.of("DATA_FILE", "INPUT_DIR")); // only ever this run's: set below or not at all
        env.put("DATA_DIR", (files.dataDir() != null ? files.dataDir() : settings.dataDir()).toString());
        if (files.dataFile() != null) {
            env.put("DATA_FILE", files.dataFile().toString());
        }
        if (files.inputDir() != null) {
            env.put("INPUT_DIR", files.inputDir().toString());
        }
        env.put("OUTPUT_DIR", workDir.toString());
        env.put("PYTHONUNBUFFERED", "1");
        if (gpu != null) {
            // nvidia-smi numbers GPUs in PCI bus order, CUDA by default fastest first: without this, on a
            // machine with mixed GPUs the script would run on another GPU than the slot's.
            env.put("CUDA_DEVICE_ORDER", "PCI_BUS_ID");
            env.put("CUDA_VISIBLE_DEVICES", gpu.toString());
        }
        ProcessSpec spec = new ProcessSpec(command, workDir, env, false, jobBytes, timeout(job),
                settings.maxLogBytes(), settings.logTailBytes(), settings.killGrace(), listener, progress);
        // "warm": false opts a job out, for a script that must start in a fresh interpreter of its own.
        return warm == null ? runner.start(spec) : warm.start(spec, gpu, !Boolean.FALSE.equals(job.get("warm")));
    }

    /**
     * The variables of {@code environment} that {@code names} lets through: an exact name, or a prefix
     * ending in {@code *} ({@code LC_*}).
     */
    public static Map<String, String> passed(Map<String, String> environment, List<String> names) {
        Map<String, String> passed = new TreeMap<>();
        environment.forEach((name, value) -> {
            for (String allowed : names) {
                boolean prefix = allowed.endsWith("*");
                if (prefix ? name.startsWith(allowed.substring(0, allowed.length() - 1)) : name.equals(allowed)) {
                    passed.put(name, value);
                    return;
                }
            }
        });
        return passed;
    }

    /** The job's own {@code timeoutSeconds}, else {@code worker.job-timeout}. */
    Duration timeout(Map<String, Object> job) {
        if (job.get("timeoutSeconds") instanceof Number seconds && seconds.doubleValue() > 0) {
            return Duration.ofMillis((long) (seconds.doubleValue() * 1000));
        }
        return settings.jobTimeout();
    }

    /** The script's real path, which must lie inside the scripts directory (no "..", no symlink out). */
    Path resolveScript(Object scriptName) throws Refused {
        return scriptPath(settings.scriptsDir(), scriptName);
    }

    /** The path a job's {@code scriptName} runs, by the same rules as a launch; refused as a launch would be. */
    public static Path scriptPath(Path scriptsDir, Object scriptName) throws Refused {
        return Scripts.resolve(scriptsDir, scriptName);
    }
}
