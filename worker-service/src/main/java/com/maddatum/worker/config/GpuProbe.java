package com.maddatum.worker.config;

import com.maddatum.worker.runner.ProcessResult;
import com.maddatum.worker.runner.ProcessRunner;
import com.maddatum.worker.runner.ProcessSpec;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Asks {@code nvidia-smi} which GPUs this machine has; none when it is missing or fails. */
final class GpuProbe {

    private static final Logger log = LoggerFactory.getLogger(GpuProbe.class);

    private GpuProbe() {}

    static List<Gpu> detect(ProcessRunner runner) {
        try {
            Path dir = Files.createTempDirectory("gpu-probe");
            ProcessResult result = runner.start(new ProcessSpec(
                    List.of("nvidia-smi", "--query-gpu=index,name,memory.total", "--format=csv,noheader,nounits"),
                    dir, Map.of(), null, Duration.ofSeconds(15), 1 << 20, 1 << 16, Duration.ofSeconds(1))).await();
            if (!result.started() || result.exitCode() == null || result.exitCode() != 0) {
                log.info("no GPUs detected reason={}", result.started() ? "nvidia-smi exit " + result.exitCode()
                        : "nvidia-smi not found");
                return List.of();
            }
            return parse(result.stdoutTail());
        } catch (IOException e) {
            return List.of();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return List.of();
        }
    }

    /** Parses {@code index, name, memory.total} CSV lines; skips any it cannot read. */
    static List<Gpu> parse(String csv) {
        List<Gpu> gpus = new ArrayList<>();
        for (String line : csv.split("\r?\n")) {
            String[] parts = line.split(",");
            if (parts.length < 3) {
                continue;
            }
            try {
                gpus.add(new Gpu(Integer.parseInt(parts[0].trim()), parts[1].trim(),
                        Long.parseLong(parts[2].trim())));
            } catch (NumberFormatException e) {
                log.warn("unreadable nvidia-smi line line={}", line);
            }
        }
        return List.copyOf(gpus);
    }
}
