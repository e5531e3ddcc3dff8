package com.maddatum.worker.manifest;

import com.maddatum.worker.runner.ProcessResult;
import com.maddatum.worker.runner.ProcessRunner;
import com.maddatum.worker.runner.ProcessSpec;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;

/** A short command whose stdout the Worker reads (an interpreter's versions, {@code nvidia-smi}). */
final class Command {

    private Command() {}

    /** Its stdout, when it started and exited 0 within {@code timeout}; empty otherwise, never an exception. */
    static Optional<String> stdout(ProcessRunner runner, List<String> command, Map<String, String> environment,
            boolean inheritEnvironment, Duration timeout) throws InterruptedException {
        Path dir = null;
        try {
            dir = Files.createTempDirectory("worker-probe");
            ProcessResult result = runner.start(new ProcessSpec(command, dir, environment, inheritEnvironment, null,
                    timeout, 1 << 20, 1 << 16, Duration.ofSeconds(1), null)).await();
            return result.started() && Integer.valueOf(0).equals(result.exitCode())
                    ? Optional.of(result.stdoutTail()) : Optional.empty();
        } catch (IOException e) {
            return Optional.empty();
        } finally {
            delete(dir);
        }
    }

    private static void delete(Path dir) {
        if (dir == null) {
            return;
        }
        try (Stream<Path> files = Files.walk(dir)) {
            files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException | RuntimeException e) {
            // A temporary directory left behind costs nothing that matters.
        }
    }
}
