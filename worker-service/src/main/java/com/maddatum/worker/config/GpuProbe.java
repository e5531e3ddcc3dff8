package com.maddatum.worker.config;

import com.maddatum.worker.common.Text;
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
    /** The uuid lets an operator's {@code CUDA_VISIBLE_DEVICES} name GPUs by UUID, as CUDA allows. */
    public static final List<String> NVIDIA_SMI = List.of("nvidia-smi", "--query-gpu=index,uuid,name,memory.total",
            "--format=csv,noheader,nounits");
    /** How nvidia-smi spells a UUID: {@code GPU-5f3c...}, or {@code MIG-...} for a MIG instance. */
    private static final java.util.regex.Pattern UUID = java.util.regex.Pattern.compile("(?i)(GPU|MIG)-[0-9a-f-]+");
    /** What nvidia-smi prints (exit 6) on a machine with the driver's tools but no GPU it can reach. */
    static final String NO_DEVICES = "No devices were found";

    /**
     * What {@code nvidia-smi} said. {@code installed} false: it could not be started (a CPU machine).
     * {@code failure}: why it gave no usable answer (an exit code, a timeout, no GPU listed), else null;
     * {@code gpus} may be non-empty even then, for the lines it did print. {@code noDevices}: it said in
     * so many words that it found no GPU, the normal answer of a GPU-less machine with the tools on it.
     * {@code uuids}: each GPU's UUID by index, where nvidia-smi gave one (kept out of {@link Gpu}, which
     * is part of the registration's wire format).
     */
    public record Listing(boolean installed, String failure, boolean noDevices, List<Gpu> gpus,
            Map<Integer, String> uuids) {
        public Listing {
            gpus = List.copyOf(gpus);
            uuids = Map.copyOf(uuids);
        }

        public Listing(boolean installed, String failure, boolean noDevices, List<Gpu> gpus) {
            this(installed, failure, noDevices, gpus, Map.of());
        }

        static Listing absent(String why) {
            return new Listing(false, why, false, List.of());
        }

        /** The UUID of GPU {@code index}, else its index: what {@code CUDA_VISIBLE_DEVICES} names it by. */
        public String cudaName(int index) {
            return uuids.getOrDefault(index, Integer.toString(index));
        }
    }

    private GpuProbe() {}

    public static Listing list(ProcessRunner runner, List<String> command, Duration timeout) {
        return list(runner, command, timeout, null);
    }

    /**
     * {@code visible}: the Worker's own {@code CUDA_VISIBLE_DEVICES} (null: not set), which keeps only the
     * GPUs it names ({@link #visible}).
     */
    public static Listing list(ProcessRunner runner, List<String> command, Duration timeout, String visible) {
        return visible(ask(runner, command, timeout), visible);
    }

    private static Listing ask(ProcessRunner runner, List<String> command, Duration timeout) {
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
                    parsed.noDevices() || said.contains(NO_DEVICES), parsed.gpus(), parsed.uuids());
        }
        return parsed;
    }

    /**
     * Keeps the GPUs an operator's {@code CUDA_VISIBLE_DEVICES} names, so that a Worker pinned to some GPUs
     * of a shared machine lists, checks and runs jobs on those only. Null: not set, every GPU. Read as CUDA
     * reads it: comma-separated entries, spaces trimmed, left to right, each an nvidia-smi index or a GPU's
     * UUID (or a unique start of one), and reading stops at the first entry that names no listed GPU
     * ({@code 0,-1,1} is GPU 0 alone). Empty, or a negative number first ({@code -1}): no GPU at all, a
     * CPU-only Worker, which is no failure. Any other first entry naming no GPU fails the listing with that
     * reason. A {@code MIG-} entry cannot be matched ({@code --query-gpu=uuid} gives GPU UUIDs only): it
     * stops reading with a warning (MIG is not supported; see the README).
     */
    public static Listing visible(Listing listing, String visible) {
        if (visible == null) {
            return listing;
        }
        List<String> entries = Arrays.stream(visible.split(",")).map(String::trim).filter(e -> !e.isEmpty()).toList();
        if (entries.isEmpty() || isNegative(entries.get(0))) {
            log.info("CUDA_VISIBLE_DEVICES hides every GPU: this Worker uses no GPU and runs CPU-only visible={} listed={}",
                    Text.abbreviate(visible, 200), listing.gpus().size());
            return new Listing(listing.installed(), null, false, List.of());
        }
        List<Gpu> kept = new ArrayList<>();
        for (String entry : entries) {
            List<Gpu> matching = listing.gpus().stream()
                    .filter(g -> names(entry, g.index(), listing.uuids().get(g.index()))).toList();
            Gpu named = matching.size() == 1 ? matching.get(0) : null; // a UUID start two GPUs share names neither
            if (named == null) {
                if (entry.regionMatches(true, 0, "MIG-", 0, 4)) {
                    log.warn("CUDA_VISIBLE_DEVICES names a MIG instance, which this Worker does not support (nvidia-smi "
                            + "lists whole GPUs only); it and the entries after it are ignored entry={}", Text.abbreviate(entry, 200));
                } else if (!listing.gpus().isEmpty()) {
                    log.warn("CUDA_VISIBLE_DEVICES names a GPU nvidia-smi does not list; as in CUDA, it and the entries "
                            + "after it are ignored entry={} listed={}", Text.abbreviate(entry, 200), listing.gpus().size());
                }
                break;
            }
            if (!kept.contains(named)) {
                kept.add(named);
            }
        }
        kept.sort(java.util.Comparator.comparingInt(Gpu::index));
        Map<Integer, String> uuids = new java.util.HashMap<>(listing.uuids());
        uuids.keySet().removeIf(i -> kept.stream().noneMatch(g -> g.index() == i));
        String failure = listing.failure() != null || !kept.isEmpty() || listing.gpus().isEmpty() ? listing.failure()
                : "CUDA_VISIBLE_DEVICES=" + Text.abbreviate(visible, 200) + " names none of the GPUs nvidia-smi lists";
        log.info("CUDA_VISIBLE_DEVICES limits this Worker's GPUs visible={} listed={} kept={}", Text.abbreviate(visible, 200),
                listing.gpus().size(), kept.stream().map(Gpu::index).toList());
        return new Listing(listing.installed(), failure, listing.noDevices() && kept.isEmpty(), kept, uuids);
    }

    /** {@code -1} and the like: CUDA's way of saying "no GPU". */
    private static boolean isNegative(String entry) {
        return entry.length() > 1 && entry.charAt(0) == '-' && entry.substring(1).chars().allMatch(Character::isDigit);
    }

    /** Digits compared as text (no leading zeros), so that an overlong number simply names no GPU. */
    private static boolean names(String entry, int index, String uuid) {
        if (entry.chars().allMatch(Character::isDigit)) {
            String digits = entry.replaceFirst("^0+(?=.)", "");
            return digits.equals(Integer.toString(index));
        }
        return uuid != null && entry.length() >= 5 && uuid.toLowerCase().startsWith(entry.toLowerCase());
    }

    /**
     * Parses {@code index, uuid, name, memory.total} lines, or {@code index, name, memory.total} ones
     * (no uuid: an older recording; a second field that is no UUID is part of the name) (no header, no units). The index is the first field,
     * the memory the last, and the name what lies between (a name may hold a comma). A line whose index
     * is not a number is not a GPU (a warning, a banner) and is skipped; a GPU whose memory is not a number
     * ({@code [N/A]}, {@code [Unknown Error]}) is kept with a null memory, so that it fails by name.
     */
    public static Listing parse(String stdout) {
        List<Gpu> gpus = new ArrayList<>();
        Map<Integer, String> uuids = new java.util.HashMap<>();
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
                log.warn("unreadable nvidia-smi line line={}", Text.abbreviate(line, 200));
                continue;
            }
            if (index < 0 || gpus.stream().anyMatch(g -> g.index() == index)) {
                log.warn("nvidia-smi line with a bad or repeated index line={}", Text.abbreviate(line, 200));
                continue;
            }
            int first = 1;
            if (parts.length >= 4 && UUID.matcher(parts[1].trim()).matches()) {
                uuids.put(index, parts[1].trim());
                first = 2;
            }
            String name = String.join(",", Arrays.copyOfRange(parts, first, parts.length - 1)).trim();
            gpus.add(new Gpu(index, Text.abbreviate(name, 200), memory(parts[parts.length - 1].trim())));
        }
        String failure = !gpus.isEmpty() ? null : noDevices ? NO_DEVICES
                : "nvidia-smi listed no GPU" + (stdout.isBlank() ? "" : ": " + Text.abbreviate(lastLine(stdout), 200));
        return new Listing(true, failure, noDevices && gpus.isEmpty(), gpus, uuids);
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
        return Text.abbreviate(lines[lines.length - 1].strip(), 200);
    }
}
