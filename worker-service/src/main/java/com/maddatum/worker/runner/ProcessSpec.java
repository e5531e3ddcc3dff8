package com.maddatum.worker.runner;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

/**
 * What to run: the command list, its directory and environment, the bytes for its stdin, and the
 * limits: a timeout, a cap on each log file, the in-memory tail kept of each stream, and how long a
 * killed process tree gets between SIGTERM and SIGKILL. With {@code inheritEnvironment} false the
 * process sees only {@code environment} (plus the runner's own run marker), not the Worker's. With a
 * {@code progress}, the progress lines of stdout are read into it ({@link ProgressLines}).
 */
public record ProcessSpec(
        List<String> command,
        Path workDir,
        Map<String, String> environment,
        boolean inheritEnvironment,
        byte[] stdin,
        Duration timeout,
        long maxLogBytes,
        int tailBytes,
        Duration killGrace,
        OutputListener listener,
        Progress progress) {

    /** Sees every chunk of stdout and stderr as it is read (e.g. to ship logs while the script runs). */
    @FunctionalInterface
    public interface OutputListener {
        void onOutput(byte[] bytes, int length);
    }

    /** A process that inherits the Worker's environment plus {@code environment}, with no output listener. */
    public ProcessSpec(List<String> command, Path workDir, Map<String, String> environment, byte[] stdin,
            Duration timeout, long maxLogBytes, int tailBytes, Duration killGrace) {
        this(command, workDir, environment, true, stdin, timeout, maxLogBytes, tailBytes, killGrace, null, null);
    }

    /** A process whose stdout is not read for progress. */
    public ProcessSpec(List<String> command, Path workDir, Map<String, String> environment, boolean inheritEnvironment,
            byte[] stdin, Duration timeout, long maxLogBytes, int tailBytes, Duration killGrace, OutputListener listener) {
        this(command, workDir, environment, inheritEnvironment, stdin, timeout, maxLogBytes, tailBytes, killGrace,
                listener, null);
    }

    public ProcessSpec {
        command = List.copyOf(command);
        environment = Map.copyOf(environment);
        stdin = stdin == null ? new byte[0] : stdin;
    }

    public Path stdoutFile() {
        return workDir.resolve("stdout.log");
    }

    public Path stderrFile() {
        return workDir.resolve("stderr.log");
    }
}
