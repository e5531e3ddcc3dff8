package com.maddatum.boss.order;

import org.bson.Document;

/**
 * A say in a heartbeat's answer for something above the order package (a sweep's early stop), which the
 * order package must not know. Asked after a heartbeat extended the lease of an attempt that is not
 * cancelled.
 */
public interface HeartbeatAdvice {

    /**
     * Why the script should stop now ({@code "pruned"}), or null to let it run. {@code progress} is the
     * heartbeat's progress as sent (null when it sent none). Must be quick: the Worker waits for the answer.
     */
    String stopFor(Order order, Document progress);
}
