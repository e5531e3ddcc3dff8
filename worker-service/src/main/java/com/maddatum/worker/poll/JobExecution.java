package com.maddatum.worker.poll;

import com.maddatum.worker.client.BossClient;
import com.maddatum.worker.client.BossUnavailableException;
import com.maddatum.worker.client.Order;
import com.maddatum.worker.config.WorkerSettings;
import com.maddatum.worker.runner.OutcomeBuilder;
import com.maddatum.worker.runner.ProcessResult;
import com.maddatum.worker.runner.ProcessRunner;
import com.maddatum.worker.runner.ScriptLauncher;
import com.maddatum.worker.runner.StopReason;
import com.maddatum.worker.spool.OutcomeSpool;
import io.micrometer.core.instrument.Timer;
import java.io.IOException;
import java.time.Clock;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import tools.jackson.databind.json.JsonMapper;

/**
 * One order on one slot: fetch the job, run its script with heartbeats, turn the ending into an
 * Outcome and hand it to the spool. Heartbeats also carry the Boss's word back: cancelled (kill the
 * tree, report "cancelled") or lease lost (kill the tree, report nothing: the order is someone
 * else's now).
 */
final class JobExecution {

    private static final Logger log = LoggerFactory.getLogger(JobExecution.class);

    private final Order order;
    private final int slot;
    private final Integer gpu;
    private final WorkerSettings settings;
    private final BossClient boss;
    private final ScriptLauncher launcher;
    private final OutcomeSpool spool;
    private final JsonMapper json;
    private final Clock clock;
    private final Timer scriptTime;
    private final AtomicReference<StopReason> stop = new AtomicReference<>();
    private volatile ProcessRunner.Running running;

    JobExecution(Order order, int slot, Integer gpu, WorkerSettings settings, BossClient boss, ScriptLauncher launcher,
            OutcomeSpool spool, JsonMapper json, Clock clock, Timer scriptTime) {
        this.order = order;
        this.slot = slot;
        this.gpu = gpu;
        this.settings = settings;
        this.boss = boss;
        this.launcher = launcher;
        this.spool = spool;
        this.json = json;
        this.clock = clock;
        this.scriptTime = scriptTime;
    }

    Order order() {
        return order;
    }

    /** Stops the script for this reason (the first reason given wins). */
    void stop(StopReason reason) {
        if (stop.compareAndSet(null, reason)) {
            ProcessRunner.Running process = running;
            if (process != null) {
                process.kill(reason.name().toLowerCase());
            }
        }
    }

    void run(ScheduledExecutorService heartbeats) throws InterruptedException {
        String started = clock.instant().toString();
        LinkedHashMap<String, Object> job;
        try {
            job = boss.job(order.jobId());
        } catch (BossUnavailableException e) {
            log.warn("cannot fetch the job, handing the order back order={} job={} error={}", order.id(),
                    order.jobId(), e.getMessage());
            report(handBack("the worker could not fetch the job: " + e.getMessage(), started));
            return;
        }
        // The seed's worker passed these to scripts; seed-style scripts may read them.
        job.put("assignmentId", order.id());
        job.put("callbackAddress", settings.bossUrl());
        Map<String, Object> outcome;
        try {
            LogShipper shipper = new LogShipper(boss, order.id(), settings.nodeName(), order.attempt());
            running = launcher.launch(job, order.id() + "-a" + order.attempt(), gpu,
                    Map.of("BOSS_ORDER_ID", order.id(), "BOSS_ATTEMPT", Integer.toString(order.attempt())), shipper);
            if (stop.get() != null) {
                running.kill(stop.get().name().toLowerCase());
            }
            log.info("script started order={} job={} attempt={} slot={} pid={} script={}", order.id(), order.jobId(),
                    order.attempt(), slot, running.pid(), job.get("scriptName"));
            ScheduledFuture<?> beats = heartbeats.scheduleAtFixedRate(this::heartbeat, 0,
                    settings.heartbeatInterval().toMillis(), TimeUnit.MILLISECONDS);
            ScheduledFuture<?> logs = heartbeats.scheduleWithFixedDelay(shipper::flush, 1, 1, TimeUnit.SECONDS);
            ProcessResult result;
            try {
                result = running.await();
            } finally {
                beats.cancel(false);
                logs.cancel(false);
            }
            shipper.flush(); // the last lines, before the outcome ends the order
            scriptTime.record(result.duration());
            if (result.timedOut()) {
                stop.compareAndSet(null, StopReason.TIMEOUT);
            }
            outcome = OutcomeBuilder.fromResult(result, stop.get(), job.get("_id"), json);
            log.info("script ended order={} job={} attempt={} exit={} status={} seconds={}", order.id(), order.jobId(),
                    order.attempt(), result.exitCode(), outcome.get("status"), result.duration().toMillis() / 1000.0);
        } catch (ScriptLauncher.Refused e) {
            outcome = OutcomeBuilder.refused(job.get("_id"), e.status(), e.type(), e.getMessage());
        } catch (IOException e) {
            outcome = handBack("the worker could not prepare the run: " + e.getMessage(), started);
        }
        if (stop.get() == StopReason.LEASE_LOST) {
            log.warn("lease lost, outcome dropped order={} attempt={}", order.id(), order.attempt());
            return;
        }
        report(outcome);
    }

    private void heartbeat() {
        BossClient.Beat beat = boss.heartbeat(order.id(), settings.nodeName(), order.attempt(), null);
        switch (beat) {
            case CANCEL -> {
                log.info("the Boss cancelled the job order={} attempt={}", order.id(), order.attempt());
                stop(StopReason.CANCELLED);
            }
            case LEASE_LOST -> {
                log.warn("the Boss says our lease is gone order={} attempt={}", order.id(), order.attempt());
                stop(StopReason.LEASE_LOST);
            }
            case UNREACHABLE -> log.warn("heartbeat not delivered order={} attempt={}", order.id(), order.attempt());
            case OK -> { }
        }
    }

    private Map<String, Object> handBack(String why, String started) {
        Map<String, Object> outcome = OutcomeBuilder.refused(order.jobId(), 503, "WorkerFailure", why);
        outcome.put("retryable", true);
        outcome.put("startedAt", started);
        return outcome;
    }

    private void report(Map<String, Object> outcome) {
        outcome.put("orderId", order.id());
        outcome.put("attempt", order.attempt());
        outcome.put("node", settings.nodeName());
        outcome.putIfAbsent("finishedAt", clock.instant().toString());
        spool.submit(outcome);
    }
}
