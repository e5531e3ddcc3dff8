package com.maddatum.boss.order;

import jakarta.annotation.PreDestroy;
import java.time.Duration;
import java.util.Iterator;
import java.util.Optional;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.context.SmartLifecycle;
import org.springframework.http.ResponseEntity;
import org.springframework.stereotype.Component;
import org.springframework.web.context.request.async.DeferredResult;

/**
 * Long-polling workers ({@code POST /bored/{node}?waitSeconds=N}). A waiting worker holds no thread;
 * it is woken when the {@link ReadyIndex} gains an order, not by re-running the claim on a timer.
 * All waiter claims run on one dispatcher thread, in arrival order, so the first to wait is the
 * first served. A waiter is answered exactly once: by a claim or by its timeout, whichever first
 * flips its {@code answered} flag.
 */
@Component
class ClaimWaiters implements SmartLifecycle {

    private static final Logger log = LoggerFactory.getLogger(ClaimWaiters.class);

    private record Waiter(Claimer claimer, DeferredResult<ResponseEntity<Object>> result, AtomicBoolean answered) {

        String node() {
            return claimer.node();
        }
    }

    private final OrderService orders;
    private final Claims claims;
    private final ConcurrentLinkedQueue<Waiter> waiters = new ConcurrentLinkedQueue<>();
    private final AtomicBoolean drainPending = new AtomicBoolean();
    private final ExecutorService dispatcher = Executors.newSingleThreadExecutor(r -> daemon(r, "claim-dispatcher"));
    private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(
            r -> daemon(r, "claim-wait-timer"));
    private volatile boolean running;

    ClaimWaiters(OrderService orders, Claims claims, ReadyIndex ready) {
        this.orders = orders;
        this.claims = claims;
        ready.onOffer(this::signal);
    }

    DeferredResult<ResponseEntity<Object>> await(Claimer claimer, Duration wait) {
        // The container's own timeout is only a backstop; our timer answers first.
        DeferredResult<ResponseEntity<Object>> result = new DeferredResult<>(wait.toMillis() + 10_000);
        Waiter waiter = new Waiter(claimer, result, new AtomicBoolean());
        result.onTimeout(() -> answerEmpty(waiter));
        result.onError(error -> waiter.answered().set(true));
        waiters.add(waiter);
        if (!running) {
            answerEmpty(waiter); // shutting down: no new long polls
            return result;
        }
        timer.schedule(() -> answerEmpty(waiter), wait.toMillis(), TimeUnit.MILLISECONDS);
        // Registering is itself a signal: an order offered just before we queued is not missed.
        signal();
        return result;
    }

    int waiting() {
        return waiters.size();
    }

    void signal() {
        if (drainPending.compareAndSet(false, true)) {
            dispatcher.execute(this::drain);
        }
    }

    private void drain() {
        drainPending.set(false);
        for (Iterator<Waiter> it = waiters.iterator(); it.hasNext(); ) {
            Waiter waiter = it.next();
            if (waiter.answered().get()) {
                it.remove();
                continue;
            }
            Optional<Order> claimed;
            try {
                claimed = claims.claim(waiter.claimer());
            } catch (RuntimeException e) {
                log.warn("long-poll claim failed node={} error={}", waiter.node(), e.toString());
                continue;
            }
            if (claimed.isEmpty()) {
                continue;
            }
            it.remove();
            Order order = claimed.get();
            if (!waiter.answered().compareAndSet(false, true)
                    || !waiter.result().setResult(ResponseEntity.ok(claims.answer(order)))) {
                orders.release(order, "the long-poll answer could not be delivered to node " + waiter.node());
            }
        }
    }

    private void answerEmpty(Waiter waiter) {
        if (waiter.answered().compareAndSet(false, true)) {
            waiter.result().setResult(ResponseEntity.noContent().build());
            waiters.remove(waiter);
        }
    }

    @Override
    public void start() {
        running = true;
    }

    /**
     * Runs before the web server's graceful shutdown (a higher phase stops first): every parked long
     * poll is answered 204 at once, so a stopping Boss does not sit out the workers' waits.
     */
    @Override
    public void stop() {
        running = false;
        waiters.forEach(this::answerEmpty);
    }

    @Override
    public boolean isRunning() {
        return running;
    }

    @PreDestroy
    void close() {
        waiters.forEach(this::answerEmpty);
        dispatcher.shutdownNow();
        timer.shutdownNow();
    }

    private static Thread daemon(Runnable runnable, String name) {
        Thread thread = new Thread(runnable, name);
        thread.setDaemon(true);
        return thread;
    }
}
