package com.maddatum.worker.poll;

import com.maddatum.worker.client.BossClient;
import com.maddatum.worker.client.BossUnavailableException;
import com.maddatum.worker.client.Order;
import com.maddatum.worker.config.WorkerSettings;
import com.maddatum.worker.outcome.OutcomeBuilder;
import com.maddatum.worker.run.Runs;
import com.maddatum.worker.run.ScriptRun;
import com.maddatum.worker.runner.StopReason;
import com.maddatum.worker.spool.OutcomeSpool;
import io.micrometer.core.instrument.Timer;
import com.maddatum.worker.artifact.ArtifactUploader;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One Boss order on one slot: fetch the job, run it ({@link ScriptRun}) while its {@link Heartbeat} and
 * {@link LogShipper} run on the slot's own threads, and hand the Outcome to the spool. A lost lease
 * ends it with no Outcome: the order is someone else's now. It runs on the GPU the slot was given for
 * this claim ({@code gpu}); a CPU claim on a machine with GPUs sees none of them.
 */
final class JobExecution {

    /** When a run's first heartbeat goes, at the latest (see {@link #firstBeat}). */
    static final Duration FIRST_BEAT_AFTER = Duration.ofSeconds(2);

    private static final Logger log = LoggerFactory.getLogger(JobExecution.class);

    private final Order order;
    private final Slot slot;
    private final WorkerSettings settings;
    private final BossClient boss;
    private final Runs runs;
    private final OutcomeSpool spool;
    private final Clock clock;
    private final Timer scriptTime;
    private final ArtifactUploader artifacts;
    /** The run's name: its work directory, which is the script's {@code OUTPUT_DIR}. */
    private final String runName;
    private final Integer gpu;
    /** A CPU run is told {@code CUDA_VISIBLE_DEVICES=""} ({@link com.maddatum.worker.gpu.GpuRoster#hidesGpusFromCpuRuns}). */
    private final boolean hideGpus;
    /** Why the Outcome blames the machine ({@link MachineFault}); null when it does not. */
    private volatile String machineFault;
    /** Whether, and as what, the slot may claim its next order with this run's callback; null: it may not. */
    private final java.util.function.Supplier<SlotClaim> nextClaim;
    /** The order the callback claimed for the slot, and the claim it was made with; null: none. */
    private volatile Claimed next;

    /** The slot's GPU assignment and the roster's generation a claim was made under (checked again at start). */
    record SlotClaim(com.maddatum.worker.gpu.GpuRoster.Assignment assignment, int generation) {}

    /** An order claimed for a slot, with the claim it was made under. */
    record Claimed(Order order, SlotClaim claim) {}

    JobExecution(Order order, Slot slot, Integer gpu, boolean hideGpus, WorkerSettings settings, BossClient boss,
            Runs runs, OutcomeSpool spool, Clock clock, Timer scriptTime, ArtifactUploader artifacts) {
        this(order, slot, gpu, hideGpus, settings, boss, runs, spool, clock, scriptTime, artifacts, () -> null);
    }

    JobExecution(Order order, Slot slot, Integer gpu, boolean hideGpus, WorkerSettings settings, BossClient boss,
            Runs runs, OutcomeSpool spool, Clock clock, Timer scriptTime, ArtifactUploader artifacts,
            java.util.function.Supplier<SlotClaim> nextClaim) {
        this.order = order;
        this.nextClaim = nextClaim;
        this.artifacts = artifacts;
        this.runName = order.id() + "-a" + order.attempt();
        this.slot = slot;
        this.gpu = gpu;
        this.hideGpus = hideGpus;
        this.settings = settings;
        this.boss = boss;
        this.runs = runs;
        this.spool = spool;
        this.clock = clock;
        this.scriptTime = scriptTime;
    }

    /** Runs the order to its end; false when a process of the run would not die, so the slot must rest. */
    boolean run() throws InterruptedException {
        LinkedHashMap<String, Object> job;
        try {
            // A Boss that speaks this protocol sent the job inside the order: no second round trip.
            job = order.job() != null ? new LinkedHashMap<>(order.job()) : boss.job(order.jobId());
        } catch (BossUnavailableException e) {
            log.warn("cannot fetch the job, handing the order back order={} job={} error={}", order.id(),
                    order.jobId(), e.getMessage());
            // Its own type: the Boss (restarting, or its store electing) was at fault, not this machine, so
            // the Boss must not count it towards quarantine, nor the Worker re-check its GPUs for it.
            spool.submit(stamped(OutcomeBuilder.handBack(order.jobId(), "JobNotFetched",
                    "the worker could not fetch the job: " + e.getMessage()), order, settings.nodeName(), clock));
            return true;
        }
        Optional<ScriptRun> opened = runs.open(runName);
        if (opened.isEmpty()) {
            spool.submit(shuttingDown(order, settings.nodeName(), clock));
            return true;
        }
        ScriptRun run = opened.get();
        // The seed's worker passed these to scripts; seed-style scripts may read them.
        job.put("assignmentId", order.id());
        job.put("callbackAddress", settings.bossUrl());
        LogShipper shipper = new LogShipper(boss, order.id(), settings.nodeName(), order.attempt());
        ScheduledFuture<?> beats = slot.beats.scheduleAtFixedRate(
                Repeating.guarded("heartbeat order=" + order.id(), new Heartbeat(boss, order, settings.nodeName(), run::stop,
                        run.progress())),
                firstBeat().toMillis(), settings.heartbeatInterval().toMillis(), TimeUnit.MILLISECONDS);
        ScheduledFuture<?> logs = slot.logs.scheduleWithFixedDelay(
                Repeating.guarded("log shipping order=" + order.id(), shipper::flush), 1, 1, TimeUnit.SECONDS);
        ScriptRun.Ending ending;
        try {
            log.info("running order={} job={} attempt={} slot={}", order.id(), order.jobId(), order.attempt(), slot.index);
            ending = run.execute(job, gpu, environment(), shipper, ended -> keep(ended, run));
        } finally {
            // A stuck run must not keep its lease alive either: the Boss reclaims it and re-runs the job.
            beats.cancel(false);
            logs.cancel(false);
        }
        if (ending.result() != null) {
            scriptTime.record(ending.result().duration());
        }
        if (ending.stop() != StopReason.LEASE_LOST) {
            report(shipper, ending.stuck());
        }
        return !ending.stuck();
    }

    /**
     * No heartbeat at time zero: the claim holds the lease already. The first beat goes after
     * {@link #FIRST_BEAT_AFTER} (or the interval, if shorter): a job that ends sooner, the bulk of a queue of
     * short jobs, sends none, while a longer one shows as running on the Boss after seconds, not a whole
     * interval (30 s by default). Sooner still when the Boss's lease (as its answer says, on this machine's
     * clock) would end before that: at half of what is left, so that a short lease is still kept.
     */
    Duration firstBeat() {
        Duration interval = settings.heartbeatInterval().compareTo(FIRST_BEAT_AFTER) < 0
                ? settings.heartbeatInterval() : FIRST_BEAT_AFTER;
        if (order.leaseExpiresAt() == null) {
            return interval;
        }
        Duration half = Duration.between(clock.instant(), order.leaseExpiresAt()).dividedBy(2);
        return half.isNegative() ? Duration.ZERO : half.compareTo(interval) < 0 ? half : interval;
    }

    /**
     * Sends the outcome (kept in the spool by now). To a Boss that sent the job inside the order, it goes in one
     * request with the run's last lines and, when the slot may go on, a claim of its next order; to an older
     * Boss, the last lines go first on their own, then the outcome, as before.
     */
    private void report(LogShipper shipper, boolean stuck) {
        if (order.job() == null) {
            shipper.flush(); // the last lines, before the outcome ends the order
            spool.flushNow();
            return;
        }
        String rest = shipper.takeRest();
        SlotClaim claim = stuck || machineFault != null ? null : nextClaim.get();
        BossClient.NextClaim asking = claim == null ? null : new BossClient.NextClaim(claim.assignment().memoryMiB());
        BossClient.Answer answer = spool.deliverFirst(order.id(), order.attempt(),
                outcome -> boss.callback(outcome, rest, asking));
        if (answer != null && answer.next() != null) {
            next = new Claimed(answer.next(), claim);
        }
        if (rest != null && answer == null) {
            // The outcome was not sent with the lines (the spool had sent it already, or could not): they go on
            // their own, while the order may still be this attempt's. (A callback that carried them and was not
            // taken sends them apart itself.)
            boss.logs(order.id(), settings.nodeName(), order.attempt(), rest);
        }
    }

    /** The order the callback claimed for this slot, once {@link #run} has returned; null when none. */
    Claimed next() {
        return next;
    }

    private Map<String, String> environment() {
        Map<String, String> env = new LinkedHashMap<>();
        env.put("BOSS_ORDER_ID", order.id());
        env.put("BOSS_ATTEMPT", Integer.toString(order.attempt()));
        if (gpu == null && hideGpus) {
            // A CPU claim on a machine with GPUs (all failed their check, or adopted after a failing start-up),
            // or on a Worker its operator kept off some or all of them: the script must not find one.
            env.put("CUDA_VISIBLE_DEVICES", "");
        }
        return env;
    }

    /** The GPU this run uses; null: a CPU run. */
    Integer gpu() {
        return gpu;
    }

    /** Why the run's Outcome blames the machine, once {@link #run} has returned; null when it does not. */
    String machineFault() {
        return machineFault;
    }

    /**
     * The run's files go to the Boss, then the outcome that names them goes safe on disk, before the last
     * logs ship and before anything is tidied up. The heartbeats go on meanwhile: a long upload, or a wait
     * for a Boss that restarts, keeps the lease, and a cancellation or a lost lease still reaches the run.
     * Whatever happens to the files, an exception or an {@link Error}, the outcome is kept (an Error then
     * goes on up); unless the lease was lost meanwhile: the order is someone else's now.
     */
    private void keep(ScriptRun.Ending ending, ScriptRun run) {
        if (ending.stop() == StopReason.LEASE_LOST) {
            log.warn("lease lost, outcome dropped order={} attempt={}", order.id(), order.attempt());
            return;
        }
        try {
            upload(ending, run);
        } catch (RuntimeException e) {
            log.error("uploading the run's files failed order={}", order.id(), e);
        } finally {
            if (run.stopRequested() == StopReason.LEASE_LOST) {
                log.warn("lease lost while the run's files were uploaded, outcome dropped order={} attempt={}",
                        order.id(), order.attempt());
            } else {
                machineFault = MachineFault.of(ending.outcome(), gpu != null);
                Map<String, Object> outcome = stamped(ending.outcome(), order, settings.nodeName(), clock);
                if (order.job() == null) {
                    spool.keep(outcome); // an older Boss: report() flushes the spool
                } else {
                    spool.keepToSendFirst(outcome); // report() sends it with the last lines and the next claim
                }
            }
        }
    }

    /**
     * What the script left under {@code OUTPUT_DIR} is uploaded before the outcome that names it
     * ({@link ArtifactUploader}): uploaded ones go into {@code artifacts}, the others into
     * {@code skippedArtifacts} with why. Uploads are tried now and only now: a Boss that stays down past
     * {@code worker.artifacts.retry-for} gets the files listed as skipped, and the outcome waits in the spool
     * as any other does, never for the files (the run's directory may be pruned before the Boss is back, and
     * a job must end). A stop of the run (cancelled, lease lost, shutdown) ends the uploads.
     *
     * <p>Which runs upload: one whose script ran to an outcome, failed or not, and one that ran past its time
     * limit (a checkpoint it saved may be the thing worth keeping). A cancelled run's files are listed as
     * skipped, not uploaded: whoever cancelled it did not want its results. A hand-back uploads nothing: the
     * job runs again and the Boss keeps no outcome of this attempt. A script that never started left nothing.
     */
    private void upload(ScriptRun.Ending ending, ScriptRun run) {
        Map<String, Object> outcome = ending.outcome();
        if (ending.result() == null || !ending.result().started() || Boolean.TRUE.equals(outcome.get("retryable"))) {
            return;
        }
        Path outputDir = settings.workDir().resolve(runName);
        ArtifactUploader.Report report = ending.stop() == StopReason.CANCELLED
                ? artifacts.skipAll(outputDir, "not uploaded: the job was cancelled")
                : artifacts.upload(outputDir, () -> stopWords(run.stopRequested()));
        report.addTo(outcome);
    }

    /**
     * A stop of the run in the words a skipped file's reason uses; null when the files are still wanted: a run
     * that timed out or was pruned ends with an outcome the Boss keeps, so its files are uploaded as any
     * finished run's; a cancelled run, a lost lease or a shutdown upload nothing.
     */
    private static String stopWords(StopReason stop) {
        if (stop == null) {
            return null;
        }
        return switch (stop) {
            case TIMEOUT, PRUNED -> null;
            case CANCELLED -> "the job was cancelled";
            case LEASE_LOST -> "its lease was lost";
            case SHUTDOWN -> "the worker was shutting down";
        };
    }

    /** An order that arrives as the Worker begins to stop goes straight back to the queue. */
    static Map<String, Object> shuttingDown(Order order, String node, Clock clock) {
        return stamped(OutcomeBuilder.handBack(order.jobId(), "WorkerShutdown",
                "the worker was shutting down when the order arrived"), order, node, clock);
    }

    /** Names the order, attempt and node an outcome answers for. */
    static Map<String, Object> stamped(Map<String, Object> outcome, Order order, String node, Clock clock) {
        outcome.put("orderId", order.id());
        outcome.put("attempt", order.attempt());
        outcome.put("node", node);
        outcome.putIfAbsent("finishedAt", clock.instant().toString());
        return outcome;
    }
}
