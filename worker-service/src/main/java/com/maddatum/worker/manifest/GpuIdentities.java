package com.maddatum.worker.manifest;

import com.maddatum.worker.common.Text;
import com.maddatum.worker.runner.ProcessRunner;
import java.time.Duration;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Which GPU a slot's index is ({@code nvidia-smi}'s model and UUID) and the driver, asked the first time
 * a run on a GPU needs them. An answer is kept: GPUs and drivers do not change under a running Worker. A
 * failure (nvidia-smi crashed, timed out, named no GPU) is not: it is asked again
 * {@link InterpreterProbe#RETRY_AFTER} later, and until then the manifest leaves the GPU out.
 */
public class GpuIdentities {

    private static final Logger log = LoggerFactory.getLogger(GpuIdentities.class);
    public static final List<String> NVIDIA_SMI = List.of("nvidia-smi", "--query-gpu=index,name,uuid,driver_version",
            "--format=csv,noheader");

    /** One GPU; {@code index} is the one {@code CUDA_VISIBLE_DEVICES} names. */
    record Identity(int index, String model, String uuid, String driver) {}

    private final ProcessRunner runner;
    private final List<String> command;
    private final LongSupplier nanoTime;
    private volatile Map<Integer, Identity> known;
    private long failedAt;
    private boolean failed;

    public GpuIdentities(ProcessRunner runner, List<String> command) {
        this(runner, command, System::nanoTime);
    }

    GpuIdentities(ProcessRunner runner, List<String> command, LongSupplier nanoTime) {
        this.runner = runner;
        this.command = List.copyOf(command);
        this.nanoTime = nanoTime;
    }

    /** The GPU with this index; empty when {@code nvidia-smi} did not name it, or failed lately. */
    synchronized Optional<Identity> of(int index) throws InterruptedException {
        if (known == null && (!failed || nanoTime.getAsLong() - failedAt >= InterpreterProbe.RETRY_AFTER.toNanos())) {
            Map<Integer, Identity> found = Command.stdout(runner, command, Map.of(), true, Duration.ofSeconds(15))
                    .map(GpuIdentities::parse).orElseGet(Map::of);
            if (found.isEmpty()) {
                failed = true;
                failedAt = nanoTime.getAsLong();
                log.warn("nvidia-smi named no GPU; run manifests leave GPU model, UUID and driver out until a retry "
                        + "answers retryAfter={}", InterpreterProbe.RETRY_AFTER);
            } else {
                known = found;
            }
        }
        return known(index);
    }

    /** What an earlier answer said of this index, asking nothing: for a run that must not wait. */
    Optional<Identity> known(int index) {
        Map<Integer, Identity> answer = known;
        return answer == null ? Optional.empty() : Optional.ofNullable(answer.get(index));
    }

    /**
     * Parses {@code index, name, uuid, driver_version} lines (no header). A name may hold a comma, so the
     * index is the first field, the UUID and the driver the last two, and the name what lies between.
     */
    static Map<Integer, Identity> parse(String csv) {
        Map<Integer, Identity> gpus = new HashMap<>();
        for (String line : csv.split("\r?\n")) {
            String[] parts = line.split(",");
            if (parts.length < 4) {
                continue;
            }
            try {
                int index = Integer.parseInt(parts[0].trim());
                String name = String.join(",", Arrays.copyOfRange(parts, 1, parts.length - 2)).trim();
                int max = RunManifest.MAX_TEXT;
                gpus.put(index, new Identity(index, Text.abbreviate(name, max),
                        Text.abbreviate(parts[parts.length - 2].trim(), max), Text.abbreviate(parts[parts.length - 1].trim(), max)));
            } catch (NumberFormatException e) {
                log.warn("unreadable nvidia-smi line line={}", line);
            }
        }
        return Map.copyOf(gpus);
    }
}
