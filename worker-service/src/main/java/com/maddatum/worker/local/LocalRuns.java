package com.maddatum.worker.local;

import com.maddatum.worker.config.WorkerSettings;
import com.maddatum.worker.outcome.OutcomeBuilder;
import com.maddatum.worker.run.Runs;
import com.maddatum.worker.run.ScriptRun;
import com.maddatum.worker.run.ShutdownBudget;
import com.maddatum.worker.spool.OutcomeSpool;
import jakarta.annotation.PreDestroy;
import java.net.URI;
import java.time.Clock;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.stereotype.Component;

/**
 * The seed's local runs, outside the Boss's queue: a bounded queue and one slot of their own, with
 * the same run, kill, spool and shutdown handling as Boss orders ({@link Runs}, {@link OutcomeSpool}).
 * An Outcome goes to the job's {@code callbackAddress} through the spool. A queued or running run's
 * status can always be read back (there are at most {@code worker.local-queue} + 1 of them), and so can
 * the last {@link #KEEP_RESULTS} finished ones.
 *
 * <p>No accepted run is left unanswered at shutdown: the slot's thread ends only once the runs are
 * closed and its queue is empty, then answers whatever is still queued; a request queued just as it
 * ended is taken back and refused instead, or, if that thread already took it, answered by it.
 */
@Component
class LocalRuns {

    private static final Logger log = LoggerFactory.getLogger(LocalRuns.class);
    static final int KEEP_RESULTS = 100;

    /** Why a run was not queued. */
    enum Refusal { QUEUE_FULL, SHUTTING_DOWN }

    /** A queued run's id, or why it was not queued. */
    record Queued(String runId, Refusal refusal) {}

    record Request(String id, Map<String, Object> job, URI callback) {}

    private final Runs runs;
    private final OutcomeSpool spool;
    private final WorkerSettings settings;
    private final Clock clock;
    private final BlockingQueue<Request> queue;
    private final ShutdownBudget budget;
    private final Thread slot;
    private volatile boolean closed;
    /** False once the slot's thread has ended: from then on nothing takes from the queue but the final answer. */
    private volatile boolean serving = true;
    /** Queued and running runs: never dropped, and bounded by the queue. */
    private final Map<String, Map<String, Object>> pending = new ConcurrentHashMap<>();
    /** The last {@link #KEEP_RESULTS} finished runs, oldest dropped first. */
    private final Map<String, Map<String, Object>> finished = Collections.synchronizedMap(new LinkedHashMap<>() {
        @Override
        protected boolean removeEldestEntry(Map.Entry<String, Map<String, Object>> eldest) {
            return size() > KEEP_RESULTS;
        }
    });

    @Autowired
    LocalRuns(Runs runs, OutcomeSpool spool, WorkerSettings settings, Clock clock, ShutdownBudget budget) {
        this(runs, spool, settings, clock, budget, new ArrayBlockingQueue<>(settings.localQueue()));
    }

    LocalRuns(Runs runs, OutcomeSpool spool, WorkerSettings settings, Clock clock, ShutdownBudget budget,
            BlockingQueue<Request> queue) {
        this.runs = runs;
        this.budget = budget;
        this.spool = spool;
        this.settings = settings;
        this.clock = clock;
        this.queue = queue;
        runs.onClose(() -> closed = true);
        this.slot = new Thread(this::serve, "local-slot");
        slot.setDaemon(true);
        slot.start();
    }

    /** Queues the job. {@code callback} may be null (no callbackAddress). */
    Queued submit(Map<String, Object> job, URI callback) {
        if (closed) {
            return new Queued(null, Refusal.SHUTTING_DOWN);
        }
        String id = UUID.randomUUID().toString();
        Request request = new Request(id, job, callback);
        pending.put(id, Map.of("runId", id, "status", "queued"));
        if (!queue.offer(request)) {
            pending.remove(id);
            return new Queued(null, Refusal.QUEUE_FULL);
        }
        // Read after the offer: if the slot's thread was still serving then, it answers this request.
        if (!serving && queue.remove(request)) {
            pending.remove(id);
            return new Queued(null, Refusal.SHUTTING_DOWN);
        }
        return new Queued(id, null);
    }

    Optional<Map<String, Object>> result(String runId) {
        Map<String, Object> result = pending.get(runId);
        return Optional.ofNullable(result != null ? result : finished.get(runId));
    }

    private void serve() {
        try {
            while (true) {
                Request request = queue.poll(200, TimeUnit.MILLISECONDS);
                if (request != null) {
                    try {
                        run(request);
                    } catch (RuntimeException e) { // the slot must outlive any one run
                        log.error("local run failed in the worker run={}", request.id(), e);
                        done(request.id(), Map.of("runId", request.id(), "status", "failed", "error", e.toString()));
                    }
                } else if (closed) {
                    return;
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            serving = false;
            for (Request left = queue.poll(); left != null; left = queue.poll()) {
                handBack(left);
            }
        }
    }

    private void run(Request request) throws InterruptedException {
        Optional<ScriptRun> opened = runs.open("local-" + request.id());
        if (opened.isEmpty()) {
            handBack(request);
            return;
        }
        pending.put(request.id(), Map.of("runId", request.id(), "status", "running"));
        opened.get().execute(request.job(), null, Map.of("LOCAL_RUN_ID", request.id()), null,
                ending -> finish(request, ending.outcome()));
        if (request.callback() != null) {
            spool.flushNow();
        }
    }

    /** A run that will not start: the worker is shutting down. */
    private void handBack(Request request) {
        finish(request, OutcomeBuilder.handBack(request.job().get("_id"), "WorkerShutdown",
                "the worker shut down before the run started"));
        if (request.callback() != null) {
            spool.flushNow();
        }
    }

    /** Keeps the outcome (spooled for its callback) and makes it the run's result. */
    private void finish(Request request, Map<String, Object> outcome) {
        outcome.put("node", settings.nodeName());
        outcome.putIfAbsent("finishedAt", clock.instant().toString());
        Map<String, Object> record = new LinkedHashMap<>();
        record.put("runId", request.id());
        record.put("status", "finished");
        record.put("outcome", outcome);
        if (request.callback() != null) {
            spool.keep("local-" + request.id(), request.callback(), outcome);
            record.put("delivery", "spooled for " + request.callback());
        }
        done(request.id(), Collections.unmodifiableMap(record)); // before the callback: whoever hears it may ask
        log.info("local run finished run={} status={} callback={}", request.id(), outcome.get("status"), request.callback());
    }

    private void done(String runId, Map<String, Object> result) {
        finished.put(runId, result);
        pending.remove(runId);
    }

    /** Runs still queued are answered as handed back; the running one is drained with the Boss's. */
    @PreDestroy
    void shutdown() throws InterruptedException {
        runs.drain();
        slot.join(Math.max(1, budget.untilReportEnds().toMillis()));
    }
}
