package com.maddatum.boss.readmodel;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonUnwrapped;
import com.maddatum.boss.config.BossProperties;
import com.maddatum.boss.job.FinishWaits;
import com.maddatum.boss.order.Order;
import com.maddatum.boss.order.OrderStatus;
import com.maddatum.boss.order.OrderView;
import com.maddatum.boss.order.OrderWatch;
import com.maddatum.boss.readmodel.JobReadController.JobDetail;
import com.maddatum.boss.web.ApiProblem;
import jakarta.annotation.PreDestroy;
import java.net.URI;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import java.util.function.Supplier;
import org.bson.types.ObjectId;
import org.springframework.context.SmartLifecycle;
import org.springframework.http.ResponseEntity;
import org.springframework.stereotype.Component;
import org.springframework.web.context.request.async.DeferredResult;

/**
 * Requests held until a job's order changes ({@code GET /jobs/{id}?waitSeconds=N}) or finishes
 * ({@code POST /job/create?waitSeconds=N}), so that curl can wait for a result without a polling loop.
 * A held request holds no thread: it is a {@link DeferredResult} woken by {@link OrderWatch}, which the
 * order mirror feeds, or by a timer. Whatever ends the wait (the change, the timer, the container's own
 * timeout, a client that went away, a stopping Boss), the answer is the job as it is then, and the
 * watch is dropped, so waits cannot pile up.
 */
@Component
class JobWaits implements FinishWaits, SmartLifecycle {

    /** The seed's answer to {@code POST /job/create}, followed by the job as {@code GET /jobs/{id}} shows it. */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    record CreatedJob(@JsonProperty("_id") String id, String jobId, String orderId, String status,
            @JsonUnwrapped JobDetail detail) {}

    private final OrderWatch watch;
    private final JobDetails details;
    private final Duration maxWait;
    private final Set<CompletableFuture<Order>> waiting = ConcurrentHashMap.newKeySet();
    private final ScheduledThreadPoolExecutor timer = new ScheduledThreadPoolExecutor(1, r -> daemon(r, "job-wait-timer"));
    /** Builds answers (reads by id) off the mirror's and the timer's threads. */
    private final ExecutorService answering = Executors.newFixedThreadPool(2, r -> daemon(r, "job-wait-answer"));
    private volatile boolean running;

    JobWaits(OrderWatch watch, JobDetails details, BossProperties properties) {
        this.watch = watch;
        this.details = details;
        this.maxWait = properties.queue().maxWait();
        timer.setRemoveOnCancelPolicy(true); // an answered wait must not keep its timer task for minutes
    }

    @Override
    public Duration capped(int waitSeconds) {
        if (waitSeconds < 0) {
            throw ApiProblem.invalidField("waitSeconds", "waitSeconds must be 0 or more.");
        }
        Duration wait = Duration.ofSeconds(waitSeconds);
        return wait.compareTo(maxWait) > 0 ? maxWait : wait;
    }

    /** The job once its order's status or attempt differs from {@code seen}; at once when it cannot change any more. */
    DeferredResult<JobDetail> untilChanged(String jobId, JobDetail seen, Duration wait) {
        OrderView order = seen.order();
        if (order == null || wait.isZero() || OrderStatus.fromWire(order.status()).isTerminal()) {
            return answered(seen);
        }
        OrderStatus status = OrderStatus.fromWire(order.status());
        int attempt = order.attempt();
        return hold(new ObjectId(order.id()), o -> o.status() != status || o.attempt() != attempt, wait,
                () -> details.of(jobId));
    }

    @Override
    public DeferredResult<ResponseEntity<Object>> untilFinished(String jobId, ObjectId orderId, Duration wait,
            org.springframework.http.HttpHeaders headers) {
        Supplier<ResponseEntity<Object>> answer = () -> {
            JobDetail detail = details.of(jobId);
            String status = detail.order() == null ? null : detail.order().status();
            return ResponseEntity.created(URI.create("/jobs/" + jobId)).headers(headers)
                    .body(new CreatedJob(jobId, jobId, orderId.toHexString(), status, detail));
        };
        if (wait.isZero()) {
            return answered(answer.get());
        }
        return hold(orderId, o -> o.status().isTerminal(), wait, answer);
    }

    /**
     * At most this many requests held at once. Each holds a connection, and a client that gave up is not
     * noticed until its wait ends; beyond the cap a request is answered at once, as with no wait, rather
     * than refused: a create-and-wait has already created its job.
     */
    static final int MAX_HELD = 1000;
    private volatile int maxHeld = MAX_HELD;

    void maxHeld(int value) {
        maxHeld = value;
    }

    private <T> DeferredResult<T> hold(ObjectId orderId, Predicate<Order> until, Duration wait, Supplier<T> answer) {
        if (waiting.size() >= maxHeld) {
            return answered(answer.get());
        }
        // The container's timeout is only a backstop; our timer answers first.
        DeferredResult<T> result = new DeferredResult<>(wait.toMillis() + 10_000);
        CompletableFuture<Order> change = watch.until(orderId, until);
        waiting.add(change);
        ScheduledFuture<?> timeout = timer.schedule(() -> change.complete(null), wait.toMillis(), TimeUnit.MILLISECONDS);
        change.whenComplete((order, error) -> {
            waiting.remove(change);
            timeout.cancel(false);
            if (!(error instanceof CancellationException)) {
                answering.execute(() -> deliver(result, answer));
            }
        });
        result.onTimeout(() -> {
            change.cancel(false);
            deliver(result, answer); // here, not later: the container answers 503 to a timeout left unset
        });
        // A client that went away: nobody is left to answer, stop watching.
        result.onError(error -> change.cancel(false));
        result.onCompletion(() -> change.cancel(false));
        if (!running) {
            change.complete(null); // stopping: no new long waits
        }
        return result;
    }

    private static <T> void deliver(DeferredResult<T> result, Supplier<T> answer) {
        if (result.isSetOrExpired()) {
            return;
        }
        try {
            result.setResult(answer.get());
        } catch (RuntimeException e) {
            result.setErrorResult(e);
        }
    }

    private static <T> DeferredResult<T> answered(T value) {
        DeferredResult<T> now = new DeferredResult<>();
        now.setResult(value);
        return now;
    }

    /** How many requests are held now. */
    int holding() {
        return waiting.size();
    }

    @Override
    public void start() {
        running = true;
    }

    /**
     * Runs before the web server's graceful shutdown (a higher phase stops first): every held request
     * is answered at once with the job as it is, so a stopping Boss does not sit out the waits.
     */
    @Override
    public void stop() {
        running = false;
        waiting.forEach(change -> change.complete(null));
    }

    @Override
    public boolean isRunning() {
        return running;
    }

    @PreDestroy
    void close() {
        timer.shutdownNow();
        answering.shutdown();
    }

    private static Thread daemon(Runnable runnable, String name) {
        Thread thread = new Thread(runnable, name);
        thread.setDaemon(true);
        return thread;
    }
}
