package com.maddatum.worker.runner;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * A short command the Worker runs for itself ({@code nvidia-smi}, a probe in Python): through the same
 * runner as scripts (its own session, killed whole on timeout), in a temporary directory removed
 * afterwards, with small output caps.
 */
public final class ShortCommand {

    private ShortCommand() {}

    public static ProcessResult run(ProcessRunner runner, List<String> command, Map<String, String> environment,
            boolean inheritEnvironment, Duration timeout) throws IOException, InterruptedException {
        Path dir = Files.createTempDirectory("worker-probe");
        try {
            ProcessRunner.Running running = runner.start(new ProcessSpec(command, dir, environment, inheritEnvironment,
                    null, timeout, 1 << 20, 1 << 16, Duration.ofSeconds(1), null));
            try {
                return running.await();
            } catch (InterruptedException e) {
                // The caller gives up (the Worker stops): kill the command before its directory goes, not leave
                // it running in a deleted directory. The kill runs in await, bounded by the 1 s kill grace.
                running.stop(StopReason.SHUTDOWN);
                try {
                    running.await();
                } catch (InterruptedException again) {
                    // Interrupted once more: give up on the kill's wait, not on the interrupt.
                }
                Thread.currentThread().interrupt();
                throw e;
            }
        } finally {
            delete(dir);
        }
    }

    private static void delete(Path dir) {
        try (Stream<Path> files = Files.walk(dir)) {
            files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException | RuntimeException e) {
            // A temporary directory left behind costs nothing that matters.
        }
    }
}
