package com.maddatum.boss.order;

import java.util.Arrays;
import java.util.EnumSet;
import java.util.Locale;
import java.util.Set;

/**
 * The order lifecycle, in the seed's lowercase words on the wire and in the store. This enum is the
 * only place that decides which moves are legal; {@link OrderTransition} refuses to build any other.
 *
 * <pre>
 * unassigned -> assigned -> running -> done | failed | cancelled
 *      ^           |           |
 *      +-----------+-----------+   (requeue: lease lost, worker shut down, script not started)
 * </pre>
 */
public enum OrderStatus {
    UNASSIGNED, ASSIGNED, RUNNING, DONE, FAILED, CANCELLED;

    public boolean canTransitionTo(OrderStatus next) {
        return switch (this) {
            case UNASSIGNED -> next == ASSIGNED || next == CANCELLED;
            // An assigned order may finish without a heartbeat: a fast script reports before the first one.
            case ASSIGNED -> next == RUNNING || next == UNASSIGNED || next == DONE || next == FAILED
                    || next == CANCELLED;
            case RUNNING -> next == UNASSIGNED || next == DONE || next == FAILED || next == CANCELLED;
            case DONE, FAILED, CANCELLED -> false;
        };
    }

    public boolean isTerminal() {
        return this == DONE || this == FAILED || this == CANCELLED;
    }

    /** Held by a worker: these carry a lease and an attempt that heartbeats and callbacks must match. */
    public boolean isInFlight() {
        return this == ASSIGNED || this == RUNNING;
    }

    /** Every state from which {@code target} may be reached. */
    public static Set<OrderStatus> sourcesOf(OrderStatus target) {
        Set<OrderStatus> sources = EnumSet.noneOf(OrderStatus.class);
        Arrays.stream(values()).filter(s -> s.canTransitionTo(target)).forEach(sources::add);
        return sources;
    }

    public String wire() {
        return name().toLowerCase(Locale.ROOT);
    }

    public static OrderStatus fromWire(String value) {
        for (OrderStatus status : values()) {
            if (status.wire().equals(value)) {
                return status;
            }
        }
        throw new IllegalArgumentException("unknown order status '" + value + "'");
    }
}
