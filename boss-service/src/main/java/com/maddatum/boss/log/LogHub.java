package com.maddatum.boss.log;

import com.maddatum.boss.order.Order;
import com.maddatum.boss.order.OrderQueries;
import jakarta.annotation.PreDestroy;
import java.io.IOException;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import org.bson.types.ObjectId;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.scheduling.annotation.Scheduled;
import org.springframework.stereotype.Component;
import org.springframework.web.servlet.mvc.method.annotation.SseEmitter;

/**
 * Followers of a running order's log ({@code GET /jobs/{id}/logs?follow=true}): each new batch is
 * pushed to them as an SSE {@code log} event, and an {@code end} event closes the stream once the
 * order has finished. (Followers see batches that reach this Boss replica.)
 */
@Component
class LogHub {

    private static final Logger log = LoggerFactory.getLogger(LogHub.class);
    /** Batches waiting for a follower that is slow to read: beyond this many, a batch is not pushed (still stored). */
    private static final int MAX_QUEUED = 1024;
    /** How long after its order finished a stream stays open for the run's last lines (see {@link #settled}). */
    static final Duration LAST_LINES_GRACE = Duration.ofSeconds(2);
    /** Rounds (a second apart) after which a finished order's stream ends even if its clock says it is not settled. */
    private static final int ROUNDS_AT_THE_MOST = 3;

    private final Map<ObjectId, List<SseEmitter>> followers = new ConcurrentHashMap<>();
    /** Finished orders not yet settled: how many rounds of {@link #endFinished} have seen them finished. */
    private final Map<ObjectId, Integer> finishing = new ConcurrentHashMap<>();
    private final ExecutorService sender = new ThreadPoolExecutor(1, 1, 0L, TimeUnit.MILLISECONDS,
            new ArrayBlockingQueue<>(MAX_QUEUED), runnable -> {
                Thread thread = new Thread(runnable, "log-followers");
                thread.setDaemon(true);
                return thread;
            }, (dropped, executor) -> {
                log.warn("log followers too slow: a batch was not pushed to them (it is stored; GET /jobs/{id}/logs "
                        + "reads it)");
                if (dropped instanceof End end) {
                    // An end is never dropped (its streams would stay open for 30 min). Completing takes the lock a
                    // blocked send holds, so not on this thread, which is the scheduler's.
                    Thread closer = new Thread(end::closeWithoutSending, "log-followers-close");
                    closer.setDaemon(true);
                    closer.start();
                }
            });
    private final OrderQueries orders;
    private final Clock clock;

    LogHub(OrderQueries orders, Clock clock) {
        this.orders = orders;
        this.clock = clock;
    }

    void follow(ObjectId orderId, SseEmitter emitter) {
        List<SseEmitter> list = followers.computeIfAbsent(orderId, id -> new CopyOnWriteArrayList<>());
        list.add(emitter);
        Runnable forget = () -> list.remove(emitter);
        emitter.onCompletion(forget);
        emitter.onTimeout(forget);
        emitter.onError(error -> forget.run());
    }

    /**
     * Queues the batch for the order's followers. Sending happens on the hub's own thread: a follower on a slow
     * link blocks its send once its socket buffer is full, and that must never hold up the Worker's request (a
     * callback carrying the run's last lines, or a logs batch) that brought the text.
     */
    void publish(ObjectId orderId, String text) {
        List<SseEmitter> list = followers.get(orderId);
        if (list == null || list.isEmpty()) {
            return;
        }
        sender.execute(() -> {
            for (SseEmitter emitter : list) {
                try {
                    emitter.send(SseEmitter.event().name("log").data(text));
                } catch (IOException | IllegalStateException gone) {
                    emitter.completeWithError(gone);
                }
            }
        });
    }

    @PreDestroy
    void stop() {
        sender.shutdownNow();
    }

    /**
     * True once no more lines can come for a finished order: the run's last lines arrive with its callback and
     * are appended just after the order moved, so a stream is ended only {@link #LAST_LINES_GRACE} after that.
     */
    boolean settled(Order order) {
        return order.status().isTerminal() && (order.finishedAt() == null
                || !order.finishedAt().plus(LAST_LINES_GRACE).isAfter(clock.instant()));
    }

    /**
     * Closes the streams of orders that have finished: settled ones at once; one whose finish is too recent
     * by the Boss's clock after {@link #ROUNDS_AT_THE_MOST} rounds at the most, by when the lines its callback
     * carried are in (they are appended just after the order moved).
     */
    @Scheduled(fixedDelay = 1000)
    void endFinished() {
        followers.forEach((orderId, list) -> {
            if (list.isEmpty()) {
                followers.remove(orderId, list);
                finishing.remove(orderId);
                return;
            }
            orders.findById(orderId).filter(order -> order.status().isTerminal()).ifPresent(order -> {
                if (!settled(order) && finishing.merge(orderId, 1, Integer::sum) < ROUNDS_AT_THE_MOST) {
                    return;
                }
                followers.remove(orderId);
                finishing.remove(orderId);
                // Behind any batch still queued for these followers, so the end never overtakes the last lines.
                sender.execute(new End(list, order.status().wire()));
            });
        });
    }

    private record End(List<SseEmitter> emitters, String status) implements Runnable {
        @Override
        public void run() {
            for (SseEmitter emitter : emitters) {
                try {
                    emitter.send(SseEmitter.event().name("end").data(status));
                    emitter.complete();
                } catch (IOException | IllegalStateException gone) {
                    emitter.completeWithError(gone);
                }
            }
        }

        void closeWithoutSending() {
            emitters.forEach(SseEmitter::complete);
        }
    }
}
