package com.maddatum.boss.sweep;

import com.maddatum.boss.config.BossProperties;
import com.maddatum.boss.job.JobService;
import com.maddatum.boss.order.Order;
import com.maddatum.boss.order.OrderQueries;
import com.maddatum.boss.order.OrderService;
import com.maddatum.boss.order.OrderWatch;
import com.maddatum.boss.outcome.OutcomeStore;
import com.maddatum.boss.sweep.sample.Observation;
import com.maddatum.boss.web.ApiProblem;
import jakarta.annotation.PreDestroy;
import java.time.Clock;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.locks.ReentrantLock;
import org.bson.Document;
import org.bson.types.ObjectId;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.stereotype.Component;

/**
 * Moves a sweep on: finishes a start left pending, notices trials whose jobs ended, starts re-runs and new
 * trials while fewer than {@code parallelism} are live and fewer than {@code maxJobs} exist, and marks the
 * sweep done when nothing is left to run. All it knows is in the store, so any replica can drive any sweep at
 * any time, and a restarted Boss simply drives again: each start is decided in one conditional write on the
 * sweep ({@link SweepStore#start}), then carried out under the job id that write chose, which is safe to do
 * twice. Driven when a sweep is created or changed, when a trial's order ends (this replica's
 * {@link OrderWatch} tells it), and on every tick ({@link SweepTicker}).
 */
@Component
class SweepDriver {

    private static final Logger log = LoggerFactory.getLogger(SweepDriver.class);

    private final SweepStore sweeps;
    private final TrialStore trials;
    private final JobService jobs;
    private final OrderQueries orders;
    private final OrderService orderVerbs;
    private final OutcomeStore outcomes;
    private final OrderWatch watch;
    private final Clock clock;
    private final Proposer proposer;
    private final TrialPoints points;
    private final int maxRefusedInARow;
    private final ConcurrentHashMap<ObjectId, ReentrantLock> locks = new ConcurrentHashMap<>();
    /** Orders this replica waits on: each trial's order once. */
    private final Set<ObjectId> watched = ConcurrentHashMap.newKeySet();
    private final Set<ObjectId> nudged = ConcurrentHashMap.newKeySet();
    private final ExecutorService nudges = Executors.newSingleThreadExecutor(r -> {
        Thread thread = new Thread(r, "sweep-driver");
        thread.setDaemon(true);
        return thread;
    });

    SweepDriver(SweepStore sweeps, TrialStore trials, JobService jobs, OrderQueries orders, OrderService orderVerbs,
            OutcomeStore outcomes, OrderWatch watch, Clock clock, BossProperties properties, TrialPoints points) {
        this.sweeps = sweeps;
        this.trials = trials;
        this.jobs = jobs;
        this.orders = orders;
        this.orderVerbs = orderVerbs;
        this.outcomes = outcomes;
        this.watch = watch;
        this.clock = clock;
        this.proposer = new Proposer(properties.sweeps().sampleAttempts());
        this.points = points;
        this.maxRefusedInARow = properties.sweeps().maxRefusedInARow();
    }

    /** Drives the sweep soon, off the caller's thread; requests for a sweep already waiting are one. */
    void soon(ObjectId id) {
        if (!nudged.add(id)) {
            return;
        }
        try {
            nudges.execute(() -> {
                nudged.remove(id);
                try {
                    drive(id);
                } catch (RuntimeException e) {
                    // The tick drives it again; nothing is lost but time.
                    log.warn("sweep not driven sweep={} error={}", id, e.toString());
                }
            });
        } catch (RejectedExecutionException shuttingDown) {
            nudged.remove(id);
        }
    }

    /**
     * Drives the sweep until it has nothing to do now. One drive per sweep at a time in this replica (another
     * replica's runs alongside; the store's conditional writes keep them apart).
     */
    void drive(ObjectId id) {
        ReentrantLock lock = locks.computeIfAbsent(id, key -> new ReentrantLock());
        lock.lock();
        try {
            // Each round does one thing and reads the sweep again; a round that lost a write to another replica
            // does nothing, and the bound keeps a sweep two replicas fight over from holding this thread forever.
            // Ended trials are noticed once per drive: the rounds after it only start trials.
            for (int round = 0; round < 10_000 && step(id, round == 0); round++) {
                // next round
            }
        } finally {
            lock.unlock();
        }
    }

    /** Records how the live trials' jobs ended, and nothing else: a reader about to act on the ended ones. */
    void catchUp(ObjectId id) {
        ReentrantLock lock = locks.computeIfAbsent(id, key -> new ReentrantLock());
        lock.lock();
        try {
            sweeps.find(id).ifPresent(this::notice);
        } finally {
            lock.unlock();
        }
    }

    /**
     * Drops the locks of sweeps with nothing left to drive (done, settled), so the map does not grow with every
     * sweep ever driven. A drive still holding a dropped lock is harmless: a second drive alongside it is kept
     * apart by the store's conditional writes, as another replica's would be.
     */
    void forgetAllBut(java.util.Collection<ObjectId> active) {
        java.util.Set<ObjectId> keep = new java.util.HashSet<>(active);
        locks.keySet().removeIf(id -> !keep.contains(id));
    }

    boolean hasLock(ObjectId id) {
        return locks.containsKey(id);
    }

    @PreDestroy
    void stop() {
        nudges.shutdownNow();
    }

    /** One move; false when the sweep has nothing to do now. */
    private boolean step(ObjectId id, boolean noticeEnded) {
        Sweep sweep = sweeps.find(id).orElse(null);
        if (sweep == null) {
            return false;
        }
        if (sweep.pending() != null) {
            carryOut(sweep, sweep.pending());
            return true;
        }
        if (noticeEnded) {
            notice(sweep);
        }
        switch (sweep.status()) {
            case CANCELLED -> {
                settle(sweep);
                return false;
            }
            case DONE -> {
                return false;
            }
            case RUNNING -> {
                return advance(sweep);
            }
            default -> throw new IllegalStateException("unknown sweep status " + sweep.status());
        }
    }

    /** Starts a re-run or a new trial if a slot is free, or marks the sweep done if nothing is left. */
    private boolean advance(Sweep sweep) {
        String sweepId = sweep.id().toHexString();
        long live = trials.countLive(sweepId);
        if (live >= sweep.parallelism()) {
            return false;
        }
        Optional<Trial> rerun = trials.nextRerun(sweepId);
        if (rerun.isPresent()) {
            Sweep.Pending pending = new Sweep.Pending(Sweep.Pending.RERUN, rerun.get().trial(),
                    new ObjectId().toHexString(), null, null, rerun.get().jobId());
            sweeps.start(sweep, pending, sweep.cursor(), clock.instant());
            return true; // won or lost, read the sweep again
        }
        if (sweep.created() < sweep.maxJobs() && !sweep.exhausted()) {
            int trial = sweep.created() + 1;
            Proposer.Proposal proposal = proposer.propose(sweep, trial, hash -> trials.hasParams(sweepId, hash),
                    () -> trials.hashes(sweepId), () -> observations(sweep));
            if (proposal == null) {
                sweeps.exhaust(sweep, sweep.cursor(), clock.instant());
                log.info("sweep space exhausted sweep={} created={}", sweepId, sweep.created());
                return true;
            }
            Sweep.Pending pending = new Sweep.Pending(Sweep.Pending.TRIAL, trial, new ObjectId().toHexString(),
                    new Document(proposal.params()), proposal.hash(), null);
            sweeps.start(sweep, pending, proposal.cursor(), clock.instant());
            return true;
        }
        if (live == 0 && sweeps.finish(sweep, clock.instant())) {
            log.info("sweep done sweep={} trials={}", sweepId, sweep.created());
        }
        return false;
    }

    /** Carries out a decided start; safe to run again (the trial's record and its job are each made once). */
    private void carryOut(Sweep sweep, Sweep.Pending pending) {
        if (Sweep.Pending.TRIAL.equals(pending.kind())) {
            if (trials.insert(sweep, pending, clock.instant()) == TrialStore.Inserted.SAME_PARAMS) {
                // Only a start decided without seeing the other trial gets here; the number is taken back.
                log.warn("trial skipped: its configuration was tried already sweep={} trial={} hash={}", sweep.id(),
                        pending.trial(), pending.hash());
                sweeps.withdraw(sweep.id(), pending);
                return;
            }
            Optional<Trial> trial = trials.find(sweep.id().toHexString(), pending.trial());
            if (trial.isEmpty() || !pending.jobId().equals(trial.get().jobId())) {
                // A stale carry-out (another replica withdrew this start and the number went to another trial):
                // its job would be one no trial tracks.
                log.warn("trial start dropped: the trial has another job sweep={} trial={} job={}", sweep.id(),
                        pending.trial(), pending.jobId());
            } else if (sweep.status() == SweepStatus.CANCELLED && !hasOrder(pending)) {
                // Decided before the cancel, carried out after it: the trial is recorded, cancelled, with no job.
                trials.cancelledBeforeJob(trial.get(), pending.jobId(), clock.instant());
                log.info("trial start withdrawn: sweep cancelled sweep={} trial={}", sweep.id(), pending.trial());
            } else {
                // Also when the sweep is cancelled but the job was made (by a Boss that died before clearing the
                // start, or by another replica right now): the trial tracks it, and it is stopped.
                createJob(sweep, pending);
            }
        } else if (sweep.status() == SweepStatus.CANCELLED && !hasOrder(pending)) {
            trials.rerunRefused(sweep.id().toHexString(), pending.trial(), pending.previous(),
                    "the sweep was cancelled before the re-run started");
        } else {
            rerunJob(sweep, pending);
        }
        sweeps.clearPending(sweep.id(), pending.jobId());
    }

    private boolean hasOrder(Sweep.Pending pending) {
        return orders.findByJobId(pending.jobId()).isPresent();
    }

    /**
     * A job just made for a sweep that is cancelled by now is cancelled too. With {@link #hasOrder} this closes
     * the race with a cancel on another replica: either that replica's carry-out saw this job's order (and
     * tracks and stops it), or it looked before the order existed, after the sweep was marked cancelled, and then
     * this look, made after the order was written, sees the mark.
     */
    private void stopIfCancelled(ObjectId sweepId, String jobId) {
        if (sweeps.find(sweepId).map(s -> s.status() == SweepStatus.CANCELLED).orElse(false)) {
            try {
                orderVerbs.cancel(jobId, "sweep " + sweepId.toHexString() + " cancelled");
                log.info("trial job cancelled: its sweep was cancelled while it was made sweep={} job={}", sweepId,
                        jobId);
            } catch (ApiProblem alreadyEnded) {
                // Ended meanwhile: nothing to stop.
            }
        }
    }

    private void createJob(Sweep sweep, Sweep.Pending pending) {
        Document job = TrialJobs.build(sweep, pending.trial(), pending.params());
        try {
            JobService.Created created = jobs.create(new ObjectId(pending.jobId()), job);
            sweeps.accepted(sweep.id());
            watch(sweep.id(), created.order());
            stopIfCancelled(sweep.id(), pending.jobId());
            log.info("trial created sweep={} trial={} job={} params={}", sweep.id(), pending.trial(), created.jobId(),
                    CanonicalJson.write(pending.params()));
        } catch (ApiProblem refused) {
            if (!refused.status().is4xxClientError()) {
                throw refused;
            }
            // The job rules refuse this configuration: it would be refused again, so the trial ends failed.
            trials.find(sweep.id().toHexString(), pending.trial()).ifPresent(trial ->
                    trials.refused(trial, pending.jobId(), refused.getMessage(), clock.instant()));
            log.warn("trial refused sweep={} trial={} error={}", sweep.id(), pending.trial(), refused.getMessage());
            refusedAgain(sweep, refused);
        }
    }

    private void rerunJob(Sweep sweep, Sweep.Pending pending) {
        String sweepId = sweep.id().toHexString();
        try {
            JobService.Rerun rerun = jobs.rerun(pending.previous(), new Document(), new ObjectId(pending.jobId()));
            trials.relaunched(sweepId, pending.trial(), pending.previous(), pending.jobId());
            sweeps.accepted(sweep.id());
            watch(sweep.id(), rerun.created().order());
            stopIfCancelled(sweep.id(), pending.jobId());
            log.info("trial re-run sweep={} trial={} job={} rerunOf={}", sweepId, pending.trial(), pending.jobId(),
                    pending.previous());
        } catch (ApiProblem refused) {
            if (!refused.status().is4xxClientError()) {
                throw refused;
            }
            trials.rerunRefused(sweepId, pending.trial(), pending.previous(), refused.getMessage());
            log.warn("trial re-run refused sweep={} trial={} error={}", sweepId, pending.trial(), refused.getMessage());
            refusedAgain(sweep, refused);
        }
    }

    /**
     * Counts a refusal; {@code boss.sweeps.max-refused-in-a-row} of them stop the sweep: a refusal is the job
     * rules' verdict on what every trial shares (its data or model gone, a script no longer allowed) far more
     * often than on one configuration, and a sweep of 10,000 trials would otherwise record 10,000 refusals.
     */
    private void refusedAgain(Sweep sweep, ApiProblem refused) {
        if (sweeps.refused(sweep.id(), maxRefusedInARow, refused.getMessage(), clock.instant())) {
            log.warn("sweep stopped: its trials' jobs are refused sweep={} inARow={} error={}", sweep.id(),
                    maxRefusedInARow, refused.getMessage());
        }
    }

    /** Records how the live trials' jobs ended, for those that did. */
    private void notice(Sweep sweep) {
        for (Trial trial : trials.live(sweep.id().toHexString())) {
            Optional<Order> order = orders.findByJobId(trial.jobId());
            if (order.isEmpty()) {
                continue; // its job is being created (pending), here or on another replica
            }
            if (!order.get().status().isTerminal()) {
                watch(sweep.id(), order.get());
                continue;
            }
            Document outcome = order.get().outcomeId() == null ? null
                    : outcomes.findById(order.get().outcomeId()).orElse(null);
            TrialResult result = TrialResult.of(order.get(), outcome, sweep.metric()).orRemembered(trial, sweep.metric());
            if (trials.ended(trial, trial.jobId(), result, clock.instant())) {
                log.info("trial ended sweep={} trial={} job={} status={} value={} pruned={}", sweep.id(), trial.trial(),
                        trial.jobId(), result.status(), result.value(), result.pruned());
            }
        }
    }

    /** A cancelled sweep: its queued and running trials are cancelled, and no re-run is left waiting. */
    private void settle(Sweep sweep) {
        String sweepId = sweep.id().toHexString();
        trials.dropRerunRequests(sweepId);
        for (Trial trial : trials.live(sweepId)) {
            try {
                orderVerbs.cancel(trial.jobId(), "sweep " + sweepId + " cancelled");
            } catch (ApiProblem alreadyEnded) {
                // Ended meanwhile (409), or its job never got an order (404): nothing to stop.
            }
        }
        notice(sweep);
        if (trials.countLive(sweepId) == 0) {
            points.forget(sweepId);
            sweeps.settle(sweep.id());
        }
    }

    /**
     * The ended trials the sampler learns from: those with a value (lower is better, so a metric to maximize is
     * negated), and pruned ones without (NaN: the sampler ranks them after every finished trial, as Optuna does).
     */
    private List<Observation> observations(Sweep sweep) {
        return trials.all(sweep.id().toHexString()).stream().filter(t -> !t.live() && (t.value() != null || t.pruned()))
                .map(t -> new Observation(t.params(), t.value() == null ? Double.NaN
                        : sweep.metric().maximize() ? -t.value() : t.value(), t.pruned()))
                .toList();
    }

    /** When the trial's order ends, the sweep is driven at once (a slot is free), not on the next tick. */
    private void watch(ObjectId sweepId, Order order) {
        if (order.status().isTerminal() || !watched.add(order.id())) {
            return;
        }
        watch.until(order.id(), o -> o.status().isTerminal()).whenComplete((ended, error) -> {
            watched.remove(order.id());
            soon(sweepId);
        });
    }
}
