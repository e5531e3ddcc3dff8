package com.maddatum.boss.log;

import com.maddatum.boss.order.Order;
import org.springframework.stereotype.Component;

/**
 * Takes a batch of a running script's output from the Worker holding its order: by the logs route, or with
 * the outcome ({@code logs} in the callback's body, the run's last lines). Either way the same caps: a batch
 * of at most {@link #MAX_BATCH_CHARS}, kept within the order's own budget ({@code boss.limits.max-log-chars-per-order}).
 */
@Component
public class LogIntake {

    /** The most characters one batch may hold (the logs route's body limit). */
    public static final int MAX_BATCH_CHARS = 65536;

    private final LogStore logs;
    private final LogHub hub;

    LogIntake(LogStore logs, LogHub hub) {
        this.logs = logs;
        this.hub = hub;
    }

    /** Whether this attempt on this node holds the order now, so its output may be taken. */
    public static boolean heldBy(Order order, String node, int attempt) {
        return order.attempt() == attempt && node.equals(order.assignedTo()) && order.isInFlight();
    }

    /** Appends the batch and tells followers; the caller has checked {@link #heldBy} and the batch's size. */
    public void append(Order order, int attempt, String text) {
        logs.append(order.id(), order.jobId(), attempt, text);
        hub.publish(order.id(), text);
    }
}
