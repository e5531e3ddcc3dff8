package com.maddatum.boss.order;

import java.time.Instant;
import java.util.Set;
import org.bson.types.ObjectId;

/**
 * How one attempt ended on one node, as the quarantine counts it.
 *
 * @param kind {@code DONE} (the node is fine, and {@code confirms} names the nodes whose script failure on
 *     this order now counts against them: it succeeded elsewhere); {@code INFRASTRUCTURE} (a hand-back that
 *     was not a deliberate stop); {@code LEASE_EXPIRED}; {@code SCRIPT} (a script failure that counts only once
 *     the order succeeds on another node); {@code JOBS_FAULT} (it failed the same way on another node: nobody
 *     is blamed, and {@code excuses} names that other node)
 */
public record AttemptEnding(Kind kind, String node, ObjectId orderId, String jobId, int attempt, Integer status,
        String errorType, String message, Instant at, Set<String> confirms, Set<String> excuses) {

    public enum Kind { DONE, INFRASTRUCTURE, LEASE_EXPIRED, SCRIPT, JOBS_FAULT }

    public AttemptEnding {
        confirms = Set.copyOf(confirms);
        excuses = Set.copyOf(excuses);
        message = message != null && message.length() > 500 ? message.substring(0, 500) + "..." : message;
    }
}
