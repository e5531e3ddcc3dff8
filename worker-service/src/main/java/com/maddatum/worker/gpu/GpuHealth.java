package com.maddatum.worker.gpu;

import com.maddatum.worker.config.Gpu;
import com.maddatum.worker.config.GpuProbe;
import com.maddatum.worker.runner.ProcessResult;
import com.maddatum.worker.runner.ProcessRunner;
import com.maddatum.worker.runner.ShortCommand;
import java.io.IOException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import tools.jackson.databind.json.JsonMapper;

/**
 * Checks each GPU the Worker knows: {@code nvidia-smi} answers (exit 0 within the timeout), lists the GPU
 * with a readable {@code memory.total}, and, when the scripts' Python has a torch with CUDA, a tiny CUDA
 * allocation on it succeeds ({@link CudaCheck}). Each of the two processes is bounded by the timeout (and
 * the runner's kill after it), so a hung driver costs a check a bounded time, never a Worker.
 */
public final class GpuHealth {

    private static final Logger log = LoggerFactory.getLogger(GpuHealth.class);

    private final ProcessRunner runner;
    private final List<String> nvidiaSmi;
    /** The Python command running {@link CudaCheck#SCRIPT}; null: the CUDA step is switched off. */
    private final List<String> python;
    private final Map<String, String> environment;
    private final Duration timeout;
    private final JsonMapper json;

    /**
     * {@code environment}: what a script sees of the Worker's, so the check imports the torch the scripts
     * import. {@code CUDA_VISIBLE_DEVICES} is taken out (the check looks at every GPU) and the devices are
     * numbered in PCI bus order, which is {@code nvidia-smi}'s, so CUDA's device i is nvidia-smi's index i.
     */
    public GpuHealth(ProcessRunner runner, List<String> nvidiaSmi, List<String> python, Map<String, String> environment,
            Duration timeout, JsonMapper json) {
        this.runner = runner;
        this.nvidiaSmi = List.copyOf(nvidiaSmi);
        this.python = python == null ? null : List.copyOf(python);
        Map<String, String> env = new HashMap<>(environment);
        env.remove("CUDA_VISIBLE_DEVICES");
        env.put("CUDA_DEVICE_ORDER", "PCI_BUS_ID");
        this.environment = Map.copyOf(env);
        this.timeout = timeout;
        this.json = json;
    }

    /** The Python command that runs the CUDA step. */
    public static List<String> pythonCommand(String python) {
        return List.of(python, "-c", CudaCheck.SCRIPT);
    }

    /** Asks {@code nvidia-smi} afresh and checks every GPU of {@code known} (those listed at start-up). */
    public GpuReport check(Collection<Gpu> known) {
        return check(list(), known, Set.of(), null);
    }

    /**
     * Asks {@code nvidia-smi} afresh and checks {@code known}, allocating only on the GPUs outside
     * {@code busy} (see {@link #check(GpuProbe.Listing, Collection, Set, GpuReport)}).
     */
    public GpuReport check(Collection<Gpu> known, Set<Integer> busy, GpuReport previous) {
        return check(list(), known, busy, previous);
    }

    /** What {@code nvidia-smi} lists now. */
    public GpuProbe.Listing list() {
        return GpuProbe.list(runner, nvidiaSmi, timeout);
    }

    public GpuReport check(GpuProbe.Listing listing, Collection<Gpu> known) {
        return check(listing, known, Set.of(), null);
    }

    /**
     * Checks {@code known} against a listing. A GPU nvidia-smi no longer lists fails with nvidia-smi's
     * failure, or as gone; one it lists but did not list at start-up has no slot and is left out.
     * {@code busy}: GPUs a running job uses. They get no CUDA allocation: on a nearly full GPU, or one in
     * exclusive-process compute mode, it fails with "out of memory" or "busy or unavailable" although the
     * GPU is fine, and that would stop a healthy GPU's slots. A busy GPU nvidia-smi still lists with its
     * memory keeps its verdict from {@code previous} (passes when it had none).
     */
    public GpuReport check(GpuProbe.Listing listing, Collection<Gpu> known, Set<Integer> busy, GpuReport previous) {
        Map<Integer, Gpu> listed = listing.gpus().stream().collect(Collectors.toMap(Gpu::index, g -> g));
        TreeMap<Integer, Gpu> gpus = new TreeMap<>();
        Map<Integer, String> failures = new HashMap<>();
        Map<Integer, String> notes = new HashMap<>();
        for (Gpu gpu : known) {
            Gpu now = listed.get(gpu.index());
            gpus.put(gpu.index(), now != null ? now : gpu);
            if (now == null) {
                failures.put(gpu.index(), listing.failure() != null ? listing.failure() : "nvidia-smi no longer lists it");
            } else if (now.memoryMb() == null) {
                failures.put(gpu.index(), "nvidia-smi gives no memory.total for it (such as [N/A])");
            }
        }
        listed.keySet().stream().filter(i -> !gpus.containsKey(i))
                .forEach(i -> log.warn("a GPU appeared after start-up; restart the Worker to use it gpu={}", i));
        for (int index : gpus.keySet()) {
            if (busy.contains(index) && !failures.containsKey(index)) {
                GpuReport.Status before = previous == null ? null : previous.gpus().stream()
                        .filter(s -> s.gpu().index() == index).findFirst().orElse(null);
                if (before != null && !before.passed()) {
                    failures.put(index, before.failure());
                } else {
                    notes.put(index, "in use by a job: listed by nvidia-smi, no CUDA allocation");
                }
            }
        }
        List<Integer> candidates = gpus.keySet().stream()
                .filter(i -> !failures.containsKey(i) && !notes.containsKey(i)).toList();
        String note = null;
        if (!candidates.isEmpty()) {
            CudaCheck.Answer cuda = python == null ? CudaCheck.Answer.skip("the CUDA check is switched off")
                    : CudaCheck.read(runPython(candidates), timeout, json);
            note = cuda.skipped();
            if (note == null) {
                for (int index : candidates) {
                    String failure = cuda.devices().containsKey(index) ? cuda.devices().get(index) : cuda.missing();
                    if (failure != null) {
                        failures.put(index, failure);
                    }
                }
            }
        }
        List<GpuReport.Status> statuses = new ArrayList<>();
        for (Gpu gpu : gpus.values()) {
            String failure = failures.get(gpu.index());
            statuses.add(new GpuReport.Status(gpu, failure, failure != null ? null
                    : notes.getOrDefault(gpu.index(), note)));
        }
        return new GpuReport(statuses, cpuOnlyBecause(listing, statuses));
    }

    /**
     * Why a machine that could have had GPUs has none to offer: GPUs were found and none passed, or
     * {@code nvidia-smi} is installed and failed. Null on a CPU machine (no nvidia-smi, or one that says
     * plainly it found no GPU) and whenever a GPU passed.
     */
    private static String cpuOnlyBecause(GpuProbe.Listing listing, List<GpuReport.Status> statuses) {
        if (statuses.stream().anyMatch(GpuReport.Status::passed)) {
            return null;
        }
        if (statuses.isEmpty()) {
            return listing.installed() && listing.failure() != null && !listing.noDevices() ? listing.failure() : null;
        }
        return "no GPU passed its check: " + statuses.stream()
                .map(s -> "GPU " + s.gpu().index() + ": " + s.failure()).collect(Collectors.joining("; "));
    }

    /** Python, told which GPUs to allocate on (nvidia-smi's indexes, which are CUDA's in PCI bus order). */
    private ProcessResult runPython(List<Integer> indexes) {
        List<String> command = new ArrayList<>(python);
        indexes.forEach(i -> command.add(Integer.toString(i)));
        try {
            return ShortCommand.run(runner, command, environment, false, timeout);
        } catch (IOException e) {
            return new ProcessResult(null, "cannot make a directory for it: " + e.getMessage(), null, null, false, 0,
                    null, "", "", 0, 0, false, Instant.now(), Instant.now());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return new ProcessResult(null, "interrupted", null, null, false, 0, null, "", "", 0, 0, false,
                    Instant.now(), Instant.now());
        }
    }

    static String abbreviate(String text) {
        return text.length() > 300 ? text.substring(0, 300) + "..." : text;
    }
}
