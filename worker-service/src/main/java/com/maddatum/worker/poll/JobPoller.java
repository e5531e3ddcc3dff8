package com.maddatum.worker.poll;

import com.maddatum.worker.artifact.ArtifactUploader;
import com.maddatum.worker.client.BossClient;
import com.maddatum.worker.client.BossUnavailableException;
import com.maddatum.worker.client.Order;
import com.maddatum.worker.config.WorkerSettings;
import com.maddatum.worker.gpu.GpuRoster;
import com.maddatum.worker.outcome.OutcomeBuilder;
import com.maddatum.worker.run.Runs;
import com.maddatum.worker.run.ShutdownBudget;
import com.maddatum.worker.spool.OutcomeSpool;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import jakarta.annotation.PreDestroy;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.scheduling.annotation.Scheduled;
import org.springframework.stereotype.Component;

/**
 * Keeps every slot busy. A {@code @Scheduled} tick hands each idle slot a polling cycle; the cycle
 * long-polls {@code /bored}, runs what it gets, and asks again at once when a job ends, so there is
 * no idle gap while work is queued. A 204 ends the cycle (the long poll already waited); an error
 * backs the slot off, doubling from the poll interval up to a minute. A slot whose run left a process
 * that would not die is taken out of service. Each claim says the memory of the slot's GPU; a slot whose
 * GPU failed its check claims nothing ({@link GpuRoster}), and a run that failed for the machine's sake
 * has the GPUs checked again, with no CUDA allocation on the GPUs other slots' jobs use. An order that
 * arrives for a slot whose GPU a check changed during the long poll goes back unrun. While a GPU is
 * failed, a thread of its own checks the failed GPUs again on the roster's back-off.
 */
@Component
class JobPoller {

    private static final Logger log = LoggerFactory.getLogger(JobPoller.class);

    private final WorkerSettings settings;
    private final BossClient boss;
    private final Registrar registrar;
    private final GpuRoster gpus;
    private final Runs runs;
    private final OutcomeSpool spool;
    private final Clock clock;
    private final Slot[] slots;
    private final ExecutorService slotThreads;
    private final Map<Integer, JobExecution> running = new ConcurrentHashMap<>();
    private final Timer scriptTime;
    private final ShutdownBudget budget;
    private final ArtifactUploader artifacts;
    private volatile boolean stopping;
    /** How often the GPU retry asks whether its back-off has passed (the roster says when it is due). */
    private static final Duration RETRY_TICK = Duration.ofSeconds(1);
    private final ScheduledExecutorService gpuRetry;

    JobPoller(WorkerSettings settings, BossClient boss, Registrar registrar, GpuRoster gpus, Runs runs,
            OutcomeSpool spool, Clock clock, MeterRegistry meters, ShutdownBudget budget, ArtifactUploader artifacts) {
        this.settings = settings;
        this.artifacts = artifacts;
        this.gpus = gpus;
        this.budget = budget;
        this.boss = boss;
        this.registrar = registrar;
        this.runs = runs;
        this.spool = spool;
        this.clock = clock;
        this.slots = new Slot[settings.slots()];
        for (int i = 0; i < slots.length; i++) {
            slots[i] = new Slot(i, settings.pollInterval());
        }
        AtomicInteger threads = new AtomicInteger();
        this.slotThreads = Executors.newFixedThreadPool(slots.length,
                runnable -> Slot.daemon("slot-" + threads.getAndIncrement()).newThread(runnable));
        runs.onClose(this::stopPolling);
        // A thread of its own: a check may take two timeouts, and must not hold up the slots' tick.
        this.gpuRetry = Executors.newSingleThreadScheduledExecutor(Slot.daemon("gpu-retry"));
        gpuRetry.scheduleWithFixedDelay(Repeating.guarded("gpu retry", this::retryFailedGpus),
                RETRY_TICK.toMillis(), RETRY_TICK.toMillis(), TimeUnit.MILLISECONDS);
        Gauge.builder("worker.slots.busy", running, Map::size).description("slots running a script").register(meters);
        Gauge.builder("worker.slots", () -> slots.length).register(meters);
        Gauge.builder("worker.gpus.healthy", () -> gpus.report().healthy().size())
                .description("GPUs that passed the latest check").register(meters);
        Gauge.builder("worker.gpus.failed", () -> gpus.report().failed().size())
                .description("GPUs that failed the latest check; their slots claim nothing").register(meters);
        Gauge.builder("worker.slots.broken", () -> Arrays.stream(slots).filter(s -> s.broken).count())
                .description("slots out of service: a process of their last run outlived SIGKILL").register(meters);
        this.scriptTime = Timer.builder("worker.script.duration").description("script run time")
                .publishPercentiles(0.5, 0.95).register(meters);
    }

    @Scheduled(fixedDelayString = "${worker.poll-interval:1s}")
    void tick() {
        if (stopping || !registrar.ensureRegistered()) {
            return;
        }
        Instant now = clock.instant();
        for (Slot slot : slots) {
            GpuRoster.Assignment assignment = gpus.assignment(slot.index);
            if (!slot.busy && !slot.broken && slot.backoff.ready(now) && assignment.claims()
                    && !gpus.beingChecked(assignment.gpu())) {
                slot.busy = true;
                slotThreads.execute(() -> cycle(slot));
            }
        }
    }

    private void cycle(Slot slot) {
        JobExecution.Claimed next = null;
        try {
            while (!stopping && !slot.broken) {
                // A callback may have claimed the slot's next order already; else the slot asks /bored.
                JobExecution.Claimed claimed = next != null ? next : claim(slot);
                next = null;
                if (claimed == null) {
                    return;
                }
                next = start(slot, claimed);
            }
        } catch (BossUnavailableException e) {
            if (stopping) {
                return;
            }
            Duration wait = slot.backoff.failed(clock.instant());
            log.warn("asking the Boss for work failed slot={} retryIn={}ms error={}", slot.index, wait.toMillis(),
                    e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (RuntimeException e) {
            log.error("slot cycle failed slot={}", slot.index, e);
            slot.backoff.failed(clock.instant());
        } finally {
            if (next != null) {
                // Claimed by the last callback, but the slot stops here (shutdown, or it went out of service).
                giveBack(slot, next.order());
            }
            slot.busy = false;
        }
    }

    /**
     * Long-polls {@code /bored} for the slot; null ends the cycle (no work, or the slot may not claim now).
     * The assignment is taken afresh for each claim: a GPU check between two jobs may have moved or idled the
     * slot, and the Boss must know the GPUs' health before a claim relies on it (a slot gone CPU-only claiming
     * on the old gpu labels would be given GPU work).
     */
    private JobExecution.Claimed claim(Slot slot) throws BossUnavailableException {
        int generation = gpus.generation();
        if (!registrar.ensureRegistered()) {
            return null;
        }
        GpuRoster.Assignment assignment = gpus.assignment(slot.index);
        if (!assignment.claims() || gpus.generation() != generation || gpus.beingChecked(assignment.gpu())) {
            // idle until a check passes its GPU; or a check just changed things, or is allocating on
            // this slot's GPU: the next tick
            return null;
        }
        Optional<Order> order;
        runs.slotIdle(assignment.gpu()); // its next interpreter may use the wait to preload its modules
        slot.polling = Thread.currentThread();
        try {
            order = boss.bored(settings.nodeName(), settings.longPoll(), assignment.memoryMiB());
        } finally {
            slot.polling = null;
        }
        slot.backoff.succeeded();
        return order.map(o -> new JobExecution.Claimed(o, new JobExecution.SlotClaim(assignment, generation)))
                .orElse(null);
    }

    /**
     * What the slot's callback may say of it when it also claims the next order: null when the slot must not
     * take more now (stopping, out of service, its GPU failed or being checked), so that nothing is claimed
     * only to be handed back.
     */
    private JobExecution.SlotClaim nextClaim(Slot slot) {
        int generation = gpus.generation();
        GpuRoster.Assignment assignment = gpus.assignment(slot.index);
        if (stopping || slot.broken || !assignment.claims() || gpus.beingChecked(assignment.gpu())) {
            return null;
        }
        return new JobExecution.SlotClaim(assignment, generation);
    }

    /** Runs a claimed order on the slot; returns the order its callback claimed next, or null. */
    private JobExecution.Claimed start(Slot slot, JobExecution.Claimed claimed) throws InterruptedException {
        Order order = claimed.order();
        GpuRoster.Assignment assignment = claimed.claim().assignment();
        if (stopping) {
            Thread.interrupted(); // a shutdown interrupt must not stop the hand-back itself
            spool.submit(JobExecution.shuttingDown(order, settings.nodeName(), clock));
            return null;
        }
        JobExecution execution = new JobExecution(order, slot, assignment.gpu(), gpus.hidesGpusFromCpuRuns(), settings,
                boss, runs, spool, clock, scriptTime, artifacts, () -> nextClaim(slot));
        // Waits while a check allocates on the slot's GPU, and counts the GPU in use before any later
        // check looks, so that no CUDA check runs beside this job's start.
        boolean started;
        try {
            started = gpus.start(slot.index, assignment, claimed.claim().generation(),
                    () -> running.put(slot.index, execution));
        } catch (InterruptedException e) {
            // Stopped while a check held the slot's GPU: the order goes back unrun, not lost.
            spool.submit(JobExecution.shuttingDown(order, settings.nodeName(), clock));
            throw e;
        }
        if (!started) {
            // A check on another slot changed this slot's GPU since the claim (failed it, say): the order was
            // claimed for a GPU the slot no longer has. Back to the queue, not run there.
            GpuRoster.Assignment now = gpus.assignment(slot.index);
            log.warn("the slot's GPU changed while it waited for work; handing the order back slot={} "
                    + "claimedGpu={} gpuNow={} claimsNow={} order={}", slot.index, assignment.gpu(), now.gpu(),
                    now.claims(), order.id());
            spool.submit(JobExecution.stamped(OutcomeBuilder.handBack(order.jobId(), "SlotChanged",
                    "the slot's GPU changed (a GPU check ran) while it waited for the order; not started"),
                    order, settings.nodeName(), clock));
            return null;
        }
        execute(slot, execution, order, assignment.gpu());
        return execution.next();
    }

    /** An order the slot will not run after all goes straight back to the queue. */
    private void giveBack(Slot slot, Order order) {
        boolean interrupted = Thread.interrupted(); // a shutdown interrupt must not stop the hand-back itself
        log.info("handing back the order the last callback claimed slot={} order={} stopping={} broken={}", slot.index,
                order.id(), stopping, slot.broken);
        spool.submit(stopping ? JobExecution.shuttingDown(order, settings.nodeName(), clock)
                : JobExecution.stamped(OutcomeBuilder.handBack(order.jobId(), "SlotChanged",
                        "the slot went out of service before the order started; not started"), order,
                        settings.nodeName(), clock));
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }

    /** {@code execution} is in {@link #running} already ({@link GpuRoster#start}). */
    private void execute(Slot slot, JobExecution execution, Order order, Integer gpu) throws InterruptedException {
        try {
            if (!execution.run()) {
                slot.broken = true;
                log.error("slot out of service: a process of its last run outlived SIGKILL slot={} gpu={} order={}",
                        slot.index, gpu, order.id());
            }
        } finally {
            running.remove(slot.index);
        }
        String fault = execution.machineFault();
        if (fault != null && !stopping) {
            // On the slot's own thread: this slot waits for the check (its GPU may be the sick one), no other does.
            log.warn("a run failed for the machine's sake; checking the GPUs again slot={} gpu={} order={} reason={}",
                    slot.index, gpu, order.id(), fault);
            // Its own GPU is checked even when another slot's job shares it: it is the one that may be sick.
            gpus.recheck(fault, this::busyGpus, gpu);
        }
    }

    /** The GPUs running jobs use: a check allocates nothing on them ({@code gpu/GpuHealth}). */
    private Set<Integer> busyGpus() {
        return running.values().stream().map(JobExecution::gpu).filter(Objects::nonNull).collect(Collectors.toSet());
    }

    /** While a GPU is failed: checks the failed ones again on the roster's back-off; a change registers anew. */
    private void retryFailedGpus() {
        if (!stopping && gpus.retryIfDue(this::busyGpus)) {
            log.info("a retry changed the healthy GPUs; registering again healthy={}", gpus.report().healthyIndexes());
        }
    }

    /** Takes no new work: idle long polls end now (the Boss drops a waiter that went away). */
    private void stopPolling() {
        stopping = true;
        for (Slot slot : slots) {
            Thread waiting = slot.polling;
            if (waiting != null) {
                waiting.interrupt();
            }
        }
    }

    /**
     * SIGTERM: take no new work, give running scripts {@code worker.shutdown-grace} to finish, then
     * kill what is left, all at once, and report it as a worker shutdown, which the Boss re-queues; each
     * wait within its {@link ShutdownBudget} phase.
     */
    @PreDestroy
    void shutdown() throws InterruptedException {
        runs.drain(); // calls stopPolling first
        gpuRetry.shutdownNow();
        slotThreads.shutdown();
        // The runs' outcomes are on disk by now; the slots may still be delivering them, within the budget.
        if (!slotThreads.awaitTermination(budget.untilReportEnds().toMillis(), TimeUnit.MILLISECONDS)) {
            slotThreads.shutdownNow(); // a spool write does not mind the interrupt
            slotThreads.awaitTermination(1, TimeUnit.SECONDS);
        }
        Arrays.stream(slots).forEach(Slot::close);
        log.info("worker stopped");
    }
}
