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
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import tools.jackson.databind.json.JsonMapper;

/**
 * Checks each GPU the Worker knows: {@code nvidia-smi} answers (exit 0 within the timeout), lists the GPU
 * with a readable {@code memory.total}, and, when the scripts' Python has a torch with CUDA, a tiny CUDA
 * allocation on it succeeds ({@link CudaCheck}), in one process per GPU. Every process is bounded by the
 * timeout (and the runner's kill after it), so a hung driver costs a check a bounded time, never a Worker;
 * the CUDA processes run side by side (at most {@link #PARALLEL} at once), so a GPU that hangs fails alone
 * and the others are not held to its timeout.
 */
public final class GpuHealth {

    private static final Logger log = LoggerFactory.getLogger(GpuHealth.class);
    /** CUDA checks at once: each is a Python importing torch, a few hundred MiB and a core while it starts. */
    static final int PARALLEL = 8;
    /** How far below nvidia-smi's figure CUDA's must be to be the GPU's memory ({@link #smaller}). */
    static final double CUDA_CUT = 0.10;

    private final ProcessRunner runner;
    private final List<String> nvidiaSmi;
    /** The Python command running {@link CudaCheck#SCRIPT}; null: the CUDA step is switched off. */
    private final List<String> python;
    private final Map<String, String> environment;
    private final Duration timeout;
    private final JsonMapper json;
    /** The Worker's own {@code CUDA_VISIBLE_DEVICES} (null: not set): the GPUs it may use ({@link GpuProbe#visible}). */
    private final String visible;

    public GpuHealth(ProcessRunner runner, List<String> nvidiaSmi, List<String> python, Map<String, String> environment,
            Duration timeout, JsonMapper json) {
        this(runner, nvidiaSmi, python, environment, timeout, json, null);
    }

    /**
     * {@code environment}: what a script sees of the Worker's, so the check imports the torch the scripts
     * import. Each CUDA process gets {@code CUDA_VISIBLE_DEVICES} naming its one GPU (by UUID where
     * nvidia-smi gave one, else by index with the devices numbered in PCI bus order, which is
     * {@code nvidia-smi}'s). {@code visible}: the Worker's own {@code CUDA_VISIBLE_DEVICES}, which limits
     * what {@link #list()} lists.
     */
    public GpuHealth(ProcessRunner runner, List<String> nvidiaSmi, List<String> python, Map<String, String> environment,
            Duration timeout, JsonMapper json, String visible) {
        this.visible = visible;
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
        return GpuProbe.list(runner, nvidiaSmi, timeout, visible);
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
        return check(listing, known, busy, Set.of(), previous);
    }

    /**
     * As {@link #check(GpuProbe.Listing, Collection, Set, GpuReport)}, and the GPUs in {@code keep} (a retry
     * of the failed GPUs leaves the healthy idle ones alone: a slot may be about to start a job there) get
     * no CUDA allocation either and keep their verdict from {@code previous}, note and memory included.
     */
    public GpuReport check(GpuProbe.Listing listing, Collection<Gpu> known, Set<Integer> busy, Set<Integer> keep,
            GpuReport previous) {
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
                    if (before != null) {
                        gpus.put(index, smaller(gpus.get(index), before.gpu().memoryMb())); // CUDA's figure, if less
                    }
                    notes.put(index, "in use by a job: listed by nvidia-smi, no CUDA allocation");
                }
            }
        }
        for (int index : gpus.keySet()) {
            if (keep.contains(index) && !failures.containsKey(index) && !notes.containsKey(index)) {
                keepPrevious(index, previous, null, gpus, failures, notes);
            }
        }
        List<Integer> candidates = gpus.keySet().stream()
                .filter(i -> !failures.containsKey(i) && !notes.containsKey(i)).toList();
        String note = null;
        if (!candidates.isEmpty()) {
            Map<Integer, CudaCheck.Answer> answers = python == null ? Map.of() : cuda(listing, candidates);
            // Torch without CUDA is the interpreter's, not a GPU's: one process saying so decides for all.
            // Any other skip (a process that could not start, or was interrupted) is that GPU's alone.
            note = python == null ? "the CUDA check is switched off" : candidates.stream().map(answers::get)
                    .filter(CudaCheck.Answer::everyGpu).map(CudaCheck.Answer::skipped).findFirst().orElse(null);
            if (note == null) {
                for (int index : candidates) {
                    CudaCheck.Answer answer = answers.get(index);
                    if (answer.skipped() != null) {
                        keepPrevious(index, previous, answer.skipped(), gpus, failures, notes);
                    } else if (answer.failure() != null) {
                        failures.put(index, answer.failure());
                    } else if (answer.memoryBytes() != null) {
                        gpus.put(index, smaller(gpus.get(index), answer.memoryBytes() / (1024 * 1024)));
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
     * A GPU not checked this time keeps its verdict from {@code previous}: failed stays failed; passed
     * keeps CUDA's memory figure and its note ({@code why}, when given, replaces the note). With no
     * previous verdict (the start-up check) it passes on nvidia-smi's word, with {@code why} as its note:
     * a process that could not start says nothing against the GPU.
     */
    private static void keepPrevious(int index, GpuReport previous, String why, Map<Integer, Gpu> gpus,
            Map<Integer, String> failures, Map<Integer, String> notes) {
        GpuReport.Status before = previous == null ? null : previous.gpus().stream()
                .filter(s -> s.gpu().index() == index).findFirst().orElse(null);
        if (before != null && !before.passed()) {
            failures.put(index, before.failure());
            return;
        }
        if (before != null) {
            gpus.put(index, smaller(gpus.get(index), before.gpu().memoryMb()));
        }
        String note = why != null ? why : before == null ? null : before.note();
        notes.put(index, note != null ? note : "not checked again: passed its last check");
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

    /**
     * The GPU with CUDA's {@code memoryMiB} when that is more than {@link #CUDA_CUT} below nvidia-smi's:
     * a MIG slice or a container's limit cuts far more than that, and it is what a job can have. On a whole
     * card CUDA's {@code total_memory} is a little below nvidia-smi's {@code memory.total} (an A100 80GB:
     * about 81050 MiB against 81920), and taking it would make a job asking for the card's nominal size
     * never match: there nvidia-smi's figure stands.
     */
    private static Gpu smaller(Gpu gpu, Long memoryMiB) {
        return memoryMiB == null || memoryMiB <= 0 || gpu.memoryMb() == null
                || memoryMiB >= gpu.memoryMb() * (1 - CUDA_CUT) ? gpu : new Gpu(gpu.index(), gpu.model(), memoryMiB);
    }

    /** One CUDA check per GPU, {@link #PARALLEL} at most at once, each under its own timeout. */
    private Map<Integer, CudaCheck.Answer> cuda(GpuProbe.Listing listing, List<Integer> indexes) {
        ExecutorService pool = Executors.newFixedThreadPool(
                Math.min(PARALLEL, indexes.size()), r -> {
                    Thread thread = new Thread(r, "gpu-cuda-check");
                    thread.setDaemon(true);
                    return thread;
                });
        try {
            Map<Integer, Future<CudaCheck.Answer>> running = new TreeMap<>();
            for (int index : indexes) {
                String device = listing.cudaName(index);
                running.put(index, pool.submit(() -> CudaCheck.read(runPython(device), device, timeout, json)));
            }
            Map<Integer, CudaCheck.Answer> answers = new HashMap<>();
            for (Map.Entry<Integer, Future<CudaCheck.Answer>> entry : running.entrySet()) {
                answers.put(entry.getKey(), answer(entry.getValue()));
            }
            return answers;
        } finally {
            pool.shutdownNow();
        }
    }

    private static CudaCheck.Answer answer(Future<CudaCheck.Answer> future) {
        try {
            return future.get();
        } catch (InterruptedException e) {
            // The Worker is stopping: no verdict, and none that fails a GPU for it.
            Thread.currentThread().interrupt();
            return CudaCheck.Answer.skip("the CUDA check was interrupted (the Worker is stopping)");
        } catch (ExecutionException e) {
            return CudaCheck.Answer.failed("the CUDA check failed: " + e.getCause());
        }
    }

    /** Python on one GPU: {@code device} is what {@code CUDA_VISIBLE_DEVICES} names it by, so it is CUDA's device 0. */
    private ProcessResult runPython(String device) {
        Map<String, String> env = new HashMap<>(environment);
        env.put("CUDA_VISIBLE_DEVICES", device);
        try {
            return ShortCommand.run(runner, python, env, false, timeout);
        } catch (IOException e) {
            return new ProcessResult(null, "cannot make a directory for it: " + e.getMessage(), null, null, false, 0,
                    null, "", "", 0, 0, false, Instant.now(), Instant.now());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return new ProcessResult(null, "interrupted", null, null, false, 0, null, "", "", 0, 0, false,
                    Instant.now(), Instant.now());
        }
    }
}
