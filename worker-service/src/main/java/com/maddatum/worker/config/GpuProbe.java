package com.maddatum.worker.config;

import com.maddatum.worker.runner.ProcessResult;
import com.maddatum.worker.runner.ProcessRunner;
import com.maddatum.worker.runner.ShortCommand;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Asks {@code nvidia-smi} which GPUs this machine has. It never throws: what went wrong is in the
 * {@link Listing}, because on a GPU machine an {@code nvidia-smi} that hangs or errors is itself the news
 * (a GPU fallen off the bus typically makes it fail or hang), while on a CPU machine it is simply absent.
 */
public final class GpuProbe {

    private static final Logger log = LoggerFactory.getLogger(GpuProbe.class);
    public static final List<String> NVIDIA_SMI = List.of("nvidia-smi", "--query-gpu=index,name,memory.total",
            "--format=csv,noheader,nounits");
    /** What nvidia-smi prints (exit 6) on a machine with the driver's tools but no GPU it can reach. */
    static final String NO_DEVICES = "No devices were found";

    /**
     * What {@code nvidia-smi} said. {@code installed} false: it could not be started (a CPU machine).
     * {@code failure}: why it gave no usable answer (an exit code, a timeout, no GPU listed), else null;
     * {@code gpus} may be non-empty even then, for the lines it did print. {@code noDevices}: it said in
     * so many words that it found no GPU, the normal answer of a GPU-less machine with the tools on it.
     */
    public record Listing(boolean installed, String failure, boolean noDevices, List<Gpu> gpus) {
        public Listing {
            gpus = List.copyOf(gpus);
        }

        static Listing absent(String why) {
            return new Listing(false, why, false, List.of());
        }
    }

    private GpuProbe() {}

    public static Listing list(ProcessRunner runner, List<String> command, Duration timeout) {
        try {
            return listing(ShortCommand.run(runner, command, Map.of(), true, timeout), timeout);
        } catch (IOException e) {
            return new Listing(true, "nvidia-smi could not be run: " + e.getMessage(), false, List.of());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return new Listing(true, "interrupted while nvidia-smi ran", false, List.of());
        }
    }

    /** Reads a finished {@code nvidia-smi}: started or not, its exit, its lines. */
    static Listing listing(ProcessResult result, Duration timeout) {
        if (!result.started()) {
            return Listing.absent("nvidia-smi not found: " + result.startError());
        }
        if (result.timedOut() || result.stuck() || result.exitCode() == null) {
            return new Listing(true, "nvidia-smi did not answer within " + timeout.toSeconds() + "s", false, List.of());
        }
        Listing parsed = parse(result.stdoutTail());
        if (result.exitCode() != 0) {
            String said = lastLine(result.stdoutTail() + "\n" + result.stderrTail());
            return new Listing(true, "nvidia-smi exited with " + result.exitCode() + (said.isEmpty() ? "" : ": " + said),
                    parsed.noDevices() || said.contains(NO_DEVICES), parsed.gpus());
        }
        return parsed;
    }

    /**
     * Parses {@code index, name, memory.total} lines (no header, no units). The index is the first field,
     * the memory the last, and the name what lies between (a name may hold a comma). A line whose index
     * is not a number is not a GPU (a warning, a banner) and is skipped; a GPU whose memory is not a number
     * ({@code [N/A]}, {@code [Unknown Error]}) is kept with a null memory, so that it fails by name.
     */
    public static Listing parse(String stdout) {
        List<Gpu> gpus = new ArrayList<>();
        boolean noDevices = false;
        for (String line : stdout.split("\r?\n")) {
            noDevices |= line.contains(NO_DEVICES);
            String[] parts = line.split(",");
            if (parts.length < 3) {
                continue;
            }
            int index;
            try {
                index = Integer.parseInt(parts[0].trim());
            } catch (NumberFormatException e) {
                log.warn("unreadable nvidia-smi line line={}", abbreviate(line));
                continue;
            }
            if (index < 0 || gpus.stream().anyMatch(g -> g.index() == index)) {
                log.warn("nvidia-smi line with a bad or repeated index line={}", abbreviate(line));
                continue;
            }
            String name = String.join(",", Arrays.copyOfRange(parts, 1, parts.length - 1)).trim();
            gpus.add(new Gpu(index, abbreviate(name), memory(parts[parts.length - 1].trim())));
        }
        String failure = !gpus.isEmpty() ? null : noDevices ? NO_DEVICES
                : "nvidia-smi listed no GPU" + (stdout.isBlank() ? "" : ": " + abbreviate(lastLine(stdout)));
        return new Listing(true, failure, noDevices && gpus.isEmpty(), gpus);
    }

    private static Long memory(String field) {
        try {
            long mib = Long.parseLong(field);
            return mib > 0 ? mib : null;
        } catch (NumberFormatException e) {
            return null;
        }
    }

    private static String lastLine(String text) {
        String[] lines = text.strip().split("\r?\n");
        return abbreviate(lines[lines.length - 1].strip());
    }

    static String abbreviate(String text) {
        return text.length() > 200 ? text.substring(0, 200) + "..." : text;
    }
}
