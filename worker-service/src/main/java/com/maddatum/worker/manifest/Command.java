package com.maddatum.worker.manifest;

import com.maddatum.worker.runner.ProcessResult;
import com.maddatum.worker.runner.ProcessRunner;
import com.maddatum.worker.runner.ShortCommand;
import java.io.IOException;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/** A short command whose stdout the Worker reads (an interpreter's versions, {@code nvidia-smi}). */
final class Command {

    private Command() {}

    /** Its stdout, when it started and exited 0 within {@code timeout}; empty otherwise, never an exception. */
    static Optional<String> stdout(ProcessRunner runner, List<String> command, Map<String, String> environment,
            boolean inheritEnvironment, Duration timeout) throws InterruptedException {
        try {
            ProcessResult result = ShortCommand.run(runner, command, environment, inheritEnvironment, timeout);
            return result.started() && Integer.valueOf(0).equals(result.exitCode())
                    ? Optional.of(result.stdoutTail()) : Optional.empty();
        } catch (IOException e) {
            return Optional.empty();
        }
    }
}
