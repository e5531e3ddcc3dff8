package com.maddatum.worker.gpu;

import com.maddatum.worker.config.Gpu;
import com.maddatum.worker.config.GpuProbe;
import com.maddatum.worker.config.WorkerSettings;
import com.maddatum.worker.runner.ProcessRunner;
import com.maddatum.worker.runner.ScriptLauncher;
import com.maddatum.worker.config.WorkerProperties;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.Set;
import java.util.function.LongSupplier;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.stereotype.Component;
import tools.jackson.databind.json.JsonMapper;

/**
 * Which GPUs this Worker offers and which slot runs on which, from the latest {@link GpuHealth} check:
 * at start-up, again after a run fails for the machine's sake, and on a back-off while a GPU is failed. Slot i prefers the i-th GPU listed at
 * start-up (round robin); a slot whose GPU failed takes a healthy GPU no slot prefers, else claims
 * nothing until a check passes its GPU again, so two jobs never share a GPU because a third one broke.
 * With no GPU left every slot claims as a CPU slot, and the labels say {@code cpu}, not {@code gpu}.
 */
@Component
public class GpuRoster {

    private static final Logger log = LoggerFactory.getLogger(GpuRoster.class);

    /** What a slot does now: claim or not, and on which GPU with how much memory (null: a CPU claim). */
    public record Assignment(boolean claims, Integer gpu, Long memoryMiB) {
        static final Assignment IDLE = new Assignment(false, null, null);
        static final Assignment CPU = new Assignment(true, null, null);
    }

    /** A check's report and what follows from it; {@code generation} goes up when the healthy GPUs change. */
    private record State(GpuReport report, List<Assignment> assignments, int generation) {}

    private final WorkerSettings settings;
    private final GpuHealth health;
    private final LongSupplier nanoTime;
    private volatile State state;
    /**
     * The GPUs slots run on: those nvidia-smi listed at start-up, or, when it failed then, those it lists
     * at the first retry that lists any.
     */
    private volatile List<Gpu> known;
    private long lastCheckStarted;
    private volatile int checks;
    /** While a GPU is failed: the wait before the next retry, and when that is due; null wait: nothing failed. */
    private Duration retryWait;
    private long retryAt;
    /**
     * Guards {@link #checking}: a check takes the GPUs in use and marks the ones it allocates on in one
     * step, and a slot starts a run (counts its GPU in use) in one step, so neither misses the other.
     */
    private final Object gate = new Object();
    /** The GPUs a check in progress may run a CUDA allocation on: their slots neither claim nor start. */
    private final Set<Integer> checking = new java.util.HashSet<>();

    @Autowired
    public GpuRoster(WorkerSettings settings, ProcessRunner runner, JsonMapper json) {
        this(settings, settings.gpuCheck().enabled() ? new GpuHealth(runner, GpuProbe.NVIDIA_SMI,
                settings.gpuCheck().cuda() ? GpuHealth.pythonCommand(settings.python()) : null,
                ScriptLauncher.passed(System.getenv(), settings.scriptEnvironment()), settings.gpuCheck().timeout(), json,
                settings.visibleDevices()) : null, System::nanoTime);
    }

    /** {@code health} null: the check is switched off, and every GPU listed at start-up is taken as healthy. */
    public GpuRoster(WorkerSettings settings, GpuHealth health, LongSupplier nanoTime) {
        this.settings = settings;
        this.health = health;
        this.nanoTime = nanoTime;
        this.known = settings.gpus();
        this.lastCheckStarted = nanoTime.getAsLong();
        GpuReport first = health == null ? unchecked(settings.gpus())
                : health.check(settings.gpuListing(), settings.gpus());
        this.state = new State(first, assign(settings.slots(), known, first), 0);
        this.checks = 1;
        logReport("start-up", first);
        planRetry(first, lastCheckStarted);
    }

    public GpuReport report() {
        return state.report();
    }

    /** Goes up each time the set of healthy GPUs changes: the Registrar registers again when it does. */
    public int generation() {
        return state.generation();
    }

    /** How many checks have run, the start-up one included (a skipped re-check does not count). */
    public int checks() {
        return checks;
    }

    public Assignment assignment(int slot) {
        return state.assignments().get(slot);
    }

    /** {@code worker.labels} plus {@code gpu,cuda} while a GPU is healthy, else {@code cpu}. */
    public List<String> labels() {
        return WorkerSettings.labels(settings.configuredLabels(), !state.report().healthy().isEmpty());
    }

    /**
     * Whether a CPU run must be told {@code CUDA_VISIBLE_DEVICES=""}: this Worker has GPUs (listed at
     * start-up or adopted at a later check, failed or not), or its operator limited it with
     * {@code CUDA_VISIBLE_DEVICES}, so a script that looks for a GPU would find one that is not its own.
     */
    public boolean hidesGpusFromCpuRuns() {
        return !known.isEmpty() || settings.visibleDevices() != null;
    }

    /** The slots that claim work now: the Boss counts on no more. */
    public int usableSlots() {
        return (int) state.assignments().stream().filter(Assignment::claims).count();
    }

    /** Checks again with no GPU in use (a test's shorthand). */
    public boolean recheck(String why) {
        return recheck(why, Set.of());
    }

    /**
     * Checks the GPUs again after a run failed for the machine's sake, unless a check begun since the
     * failure has already looked: several slots failing at once cost one check, not one each, queued.
     * {@code busy}: the GPUs running jobs use now, which get no CUDA allocation ({@link GpuHealth}). True
     * when the healthy GPUs changed.
     */
    public boolean recheck(String why, Set<Integer> busy) {
        return recheck(why, () -> busy, null);
    }

    /**
     * {@code busy}: asked while no slot can start a run ({@link #start}); {@code faulted}: the GPU the
     * failed run used (null: a CPU run), checked even when another slot's job shares it, for it is the
     * one that may be sick.
     */
    public boolean recheck(String why, Supplier<Set<Integer>> busy, Integer faulted) {
        return recheck(why, nanoTime.getAsLong(), busy, faulted);
    }

    /** {@code failedAt}: when the failure was seen, on the {@code nanoTime} clock. */
    synchronized boolean recheck(String why, long failedAt) {
        return recheck(why, failedAt, Set::of, null);
    }

    synchronized boolean recheck(String why, long failedAt, Supplier<Set<Integer>> busy, Integer faulted) {
        if (health == null || known.isEmpty() || lastCheckStarted - failedAt > 0) {
            return false;
        }
        return checkNow(why, busy, faulted, false);
    }

    /**
     * While a GPU is failed, or nvidia-smi failed at start-up, checks again once the back-off
     * ({@code worker.gpu-check.retry-first} doubling to {@code retry-max}) has passed: only the failed GPUs
     * get the CUDA allocation; the healthy ones keep their verdict (a slot may be about to start a job on
     * an idle one). Called often by a scheduled task; cheap when nothing is due. True when the healthy
     * GPUs changed.
     */
    public boolean retryIfDue(Set<Integer> busy) {
        return retryIfDue(() -> busy);
    }

    public synchronized boolean retryIfDue(Supplier<Set<Integer>> busy) {
        if (health == null || retryWait == null || nanoTime.getAsLong() - retryAt < 0) {
            return false;
        }
        return checkNow("retry of failed GPUs after " + retryWait.toSeconds() + "s", busy, null, true);
    }

    /** Whether a check may be allocating on {@code gpu} now: its slots claim nothing meanwhile. */
    public boolean beingChecked(Integer gpu) {
        synchronized (gate) {
            return gpu != null && checking.contains(gpu);
        }
    }

    /**
     * A slot about to run an order it claimed with {@code claimed} (at {@code generation}): waits while a
     * check allocates on its GPU, then, unless a check has moved the slot since the claim, runs
     * {@code register} (which makes the GPU count as in use) before any later check can look. False: the
     * slot's GPU changed; the order goes back unrun.
     */
    public boolean start(int slot, Assignment claimed, int generation, Runnable register) throws InterruptedException {
        synchronized (gate) {
            while (claimed.gpu() != null && checking.contains(claimed.gpu())) {
                gate.wait();
            }
            if (generation() != generation && !assignment(slot).equals(claimed)) {
                return false;
            }
            register.run();
            return true;
        }
    }

    /** When the next retry is due, on the {@code nanoTime} clock; empty while no GPU is failed. */
    synchronized OptionalLong retryAt() {
        return retryWait == null ? OptionalLong.empty() : OptionalLong.of(retryAt);
    }

    private boolean checkNow(String why, Supplier<Set<Integer>> busyNow, Integer faulted, boolean failedOnly) {
        lastCheckStarted = nanoTime.getAsLong();
        State before = state;
        Set<Integer> busy;
        Set<Integer> keep;
        synchronized (gate) {
            busy = new java.util.HashSet<>(busyNow.get());
            if (faulted != null) {
                busy.remove(faulted);
            }
            keep = failedOnly ? before.report().healthyIndexes().stream().filter(i -> !busy.contains(i))
                    .collect(java.util.stream.Collectors.toSet()) : Set.of();
            known.stream().map(Gpu::index).filter(i -> !busy.contains(i) && !keep.contains(i)).forEach(checking::add);
        }
        GpuReport report;
        boolean changed;
        try {
            if (known.isEmpty()) {
                // nvidia-smi failed at start-up: its first listing with GPUs makes them this Worker's (no slot
                // runs on a GPU yet: every slot is a CPU slot until this check's verdict).
                GpuProbe.Listing listing = health.list();
                if (!listing.gpus().isEmpty()) {
                    known = listing.gpus();
                    log.info("nvidia-smi lists GPUs it could not list at start-up gpus={}", known.size());
                }
                report = health.check(listing, known, busy, keep, before.report());
            } else {
                report = health.check(health.list(), known, busy, keep, before.report());
            }
            checks++;
            changed = !report.healthyIndexes().equals(before.report().healthyIndexes());
            state = new State(report, assign(settings.slots(), known, report), before.generation() + (changed ? 1 : 0));
        } finally {
            // After the new state: a slot that waited for this check sees its verdict before it starts.
            synchronized (gate) {
                checking.clear();
                gate.notifyAll();
            }
        }
        log.info("GPUs checked again reason={} changed={} busy={}", why, changed, busy);
        if (changed) {
            logReport("re-check", report);
        }
        planRetry(report, lastCheckStarted);
        return changed;
    }

    /** A failed GPU, or a failing nvidia-smi on a machine with no GPU listed: retry, waiting longer each time. */
    private void planRetry(GpuReport report, long checkStarted) {
        boolean failing = !report.failed().isEmpty() || (known.isEmpty() && report.cpuOnlyBecause() != null);
        if (health == null || !failing) {
            retryWait = null;
            return;
        }
        WorkerProperties.GpuCheck config = settings.gpuCheck();
        retryWait = retryWait == null ? config.retryFirst()
                : Collections.min(List.of(retryWait.multipliedBy(2), config.retryMax()));
        retryAt = checkStarted + retryWait.toNanos();
        log.info("a GPU check failed; checking again later retryIn={}s", retryWait.toSeconds());
    }

    /**
     * Slot i prefers GPU {@code i % n} of those listed at start-up. A slot whose preferred GPU failed takes
     * a healthy GPU that no slot prefers (there are some when {@code worker.slots} is below the GPU count),
     * else claims nothing. No GPU at all, or none healthy: every slot is a CPU slot. Slots that share a GPU
     * share its memory: each claims its share (integer MiB), so two big jobs are not both sent to one GPU.
     */
    static List<Assignment> assign(int slots, List<Gpu> listed, GpuReport report) {
        List<Assignment> assignments = new ArrayList<>();
        if (listed.isEmpty() || report.healthy().isEmpty()) {
            for (int i = 0; i < slots; i++) {
                assignments.add(Assignment.CPU);
            }
            return List.copyOf(assignments);
        }
        Set<Integer> spare = new LinkedHashSet<>(report.healthyIndexes().stream().sorted().toList());
        for (int i = 0; i < slots; i++) {
            spare.remove(listed.get(i % listed.size()).index());
        }
        List<Gpu> bound = new ArrayList<>();
        Map<Integer, Integer> sharing = new HashMap<>();
        for (int i = 0; i < slots; i++) {
            Gpu preferred = listed.get(i % listed.size());
            Gpu gpu = report.healthy(preferred.index()).orElse(null);
            if (gpu == null && !spare.isEmpty()) {
                int index = spare.iterator().next();
                spare.remove(index);
                gpu = report.healthy(index).orElseThrow();
            }
            bound.add(gpu);
            if (gpu != null) {
                sharing.merge(gpu.index(), 1, Integer::sum);
            }
        }
        for (Gpu gpu : bound) {
            assignments.add(gpu == null ? Assignment.IDLE : new Assignment(true, gpu.index(),
                    gpu.memoryMb() == null ? null : gpu.memoryMb() / sharing.get(gpu.index())));
        }
        return List.copyOf(assignments);
    }

    /** The check switched off: what nvidia-smi listed at start-up is what the Worker offers, as before it had one. */
    private static GpuReport unchecked(List<Gpu> listed) {
        return new GpuReport(listed.stream().map(g -> new GpuReport.Status(g, null, "not checked (worker.gpu-check.enabled "
                + "is false)")).toList(), null);
    }

    private static void logReport(String when, GpuReport report) {
        for (GpuReport.Status status : report.gpus()) {
            if (status.passed()) {
                log.info("GPU healthy when={} gpu={} model={} memoryMiB={} note={}", when, status.gpu().index(),
                        status.gpu().model(), status.gpu().memoryMb(), status.note());
            } else {
                log.warn("GPU failed its check when={} gpu={} model={} reason={}", when, status.gpu().index(),
                        status.gpu().model(), status.failure());
            }
        }
        if (report.cpuOnlyBecause() != null) {
            log.warn("no GPU passed; this Worker takes CPU work only reason={}", report.cpuOnlyBecause());
        }
    }
}
