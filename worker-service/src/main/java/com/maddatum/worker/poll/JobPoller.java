package com.maddatum.worker.poll;

import com.maddatum.worker.client.BossClient;
import com.maddatum.worker.client.BossUnavailableException;
import com.maddatum.worker.client.Order;
import com.maddatum.worker.config.WorkerSettings;
import com.maddatum.worker.runner.OutcomeBuilder;
import com.maddatum.worker.runner.ScriptLauncher;
import com.maddatum.worker.runner.StopReason;
import com.maddatum.worker.runner.WorkDirJanitor;
import com.maddatum.worker.spool.OutcomeSpool;
import jakarta.annotation.PreDestroy;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.scheduling.annotation.Scheduled;
import org.springframework.stereotype.Component;
import tools.jackson.databind.json.JsonMapper;

/**
 * Keeps every slot busy. A {@code @Scheduled} tick hands each idle slot a polling cycle; the cycle
 * long-polls {@code /bored}, runs what it gets, and asks again at once when a job ends, so there is
 * no idle gap while work is queued. A 204 ends the cycle (the long poll already waited); an error
 * backs the slot off, doubling from the poll interval up to a minute.
 */
@Component
class JobPoller {

    private static final Logger log = LoggerFactory.getLogger(JobPoller.class);

    private final WorkerSettings settings;
    private final BossClient boss;
    private final Registrar registrar;
    private final ScriptLauncher launcher;
    private final OutcomeSpool spool;
    private final JsonMapper json;
    private final Clock clock;
    private final Slot[] slots;
    private final ExecutorService slotThreads;
    private final ScheduledExecutorService heartbeats;
    private final Map<Integer, JobExecution> running = new ConcurrentHashMap<>();
    private volatile boolean stopping;

    private static final class Slot {
        final int index;
        final Integer gpu;
        volatile boolean busy;
        /** Set while the slot waits in a long poll, so that shutdown can cut the wait short. */
        volatile Thread polling;
        volatile Instant backoffUntil = Instant.MIN;
        int failures;

        Slot(int index, Integer gpu) {
            this.index = index;
            this.gpu = gpu;
        }
    }

    private final Timer scriptTime;
    private final WorkDirJanitor janitor;

    JobPoller(WorkerSettings settings, BossClient boss, Registrar registrar, ScriptLauncher launcher, OutcomeSpool spool,
            JsonMapper json, Clock clock, MeterRegistry meters, WorkDirJanitor janitor) {
        this.settings = settings;
        this.boss = boss;
        this.registrar = registrar;
        this.launcher = launcher;
        this.spool = spool;
        this.json = json;
        this.clock = clock;
        this.janitor = janitor;
        this.slots = new Slot[settings.slots()];
        for (int i = 0; i < slots.length; i++) {
            // One GPU per slot when there are GPUs: the script sees only its own as CUDA_VISIBLE_DEVICES.
            Integer gpu = settings.gpus().isEmpty() ? null : settings.gpus().get(i % settings.gpus().size()).index();
            slots[i] = new Slot(i, gpu);
        }
        this.slotThreads = Executors.newFixedThreadPool(slots.length, named("slot"));
        this.heartbeats = Executors.newScheduledThreadPool(1, named("heartbeat"));
        Gauge.builder("worker.slots.busy", running, Map::size).description("slots running a script").register(meters);
        Gauge.builder("worker.slots", () -> slots.length).register(meters);
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
            if (!slot.busy && !now.isBefore(slot.backoffUntil)) {
                slot.busy = true;
                slotThreads.execute(() -> cycle(slot));
            }
        }
    }

    private void cycle(Slot slot) {
        try {
            while (!stopping) {
                Optional<Order> order;
                slot.polling = Thread.currentThread();
                try {
                    order = boss.bored(settings.nodeName(), settings.longPoll());
                } finally {
                    slot.polling = null;
                }
                slot.failures = 0;
                if (order.isEmpty()) {
                    return;
                }
                if (stopping) {
                    Thread.interrupted(); // a shutdown interrupt must not stop the hand-back itself
                    handBack(order.get());
                    return;
                }
                execute(slot, order.get());
            }
        } catch (BossUnavailableException e) {
            if (stopping) {
                return;
            }
            slot.failures++;
            long millis = Math.min(60_000, settings.pollInterval().toMillis() << Math.min(slot.failures, 10));
            slot.backoffUntil = clock.instant().plusMillis(millis);
            log.warn("asking the Boss for work failed slot={} retryIn={}ms error={}", slot.index, millis, e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (RuntimeException e) {
            log.error("slot cycle failed slot={}", slot.index, e);
            slot.backoffUntil = clock.instant().plus(settings.pollInterval());
        } finally {
            slot.busy = false;
        }
    }

    private void execute(Slot slot, Order order) throws InterruptedException {
        JobExecution execution = new JobExecution(order, slot.index, slot.gpu, settings, boss, launcher, spool, json,
                clock, scriptTime);
        running.put(slot.index, execution);
        try {
            execution.run(heartbeats);
        } finally {
            running.remove(slot.index);
            janitor.prune();
        }
    }

    /** An order that arrived as we began to stop goes straight back to the queue. */
    private void handBack(Order order) {
        Map<String, Object> outcome = OutcomeBuilder.refused(order.jobId(), 503, "WorkerShutdown",
                "the worker was shutting down when the order arrived");
        outcome.put("retryable", true);
        outcome.put("orderId", order.id());
        outcome.put("attempt", order.attempt());
        outcome.put("node", settings.nodeName());
        spool.submit(outcome);
    }

    /**
     * SIGTERM: take no new work, give running scripts {@code worker.shutdown-grace} to finish, then
     * kill what is left and report it as a worker shutdown, which the Boss re-queues.
     */
    @PreDestroy
    void shutdown() throws InterruptedException {
        stopping = true;
        log.info("shutting down running={} grace={}", running.size(), settings.shutdownGrace());
        slotThreads.shutdown();
        for (Slot slot : slots) {
            Thread waiting = slot.polling;
            if (waiting != null) {
                waiting.interrupt(); // an idle long poll ends now; the Boss drops a waiter that went away
            }
        }
        long deadline = System.nanoTime() + settings.shutdownGrace().toNanos();
        while (!running.isEmpty() && System.nanoTime() < deadline) {
            Thread.sleep(100);
        }
        running.values().forEach(execution -> {
            log.warn("grace period over, stopping order={}", execution.order().id());
            execution.stop(StopReason.SHUTDOWN);
        });
        // Long polls still waiting are interrupted; the executions just stopped report and end.
        if (!slotThreads.awaitTermination(settings.killGrace().plus(Duration.ofSeconds(15)).toMillis(),
                TimeUnit.MILLISECONDS)) {
            slotThreads.shutdownNow();
            slotThreads.awaitTermination(5, TimeUnit.SECONDS);
        }
        heartbeats.shutdownNow();
        log.info("worker stopped");
    }

    private static java.util.concurrent.ThreadFactory named(String prefix) {
        return new java.util.concurrent.ThreadFactory() {
            private int next;

            @Override
            public synchronized Thread newThread(Runnable runnable) {
                Thread thread = new Thread(runnable, prefix + "-" + next++);
                thread.setDaemon(true);
                return thread;
            }
        };
    }
}
