package com.maddatum.boss.order;

import static com.maddatum.boss.order.Order.*;

import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.EnumSet;
import java.util.function.Predicate;
import java.util.Set;
import org.bson.Document;
import org.bson.types.ObjectId;
import org.springframework.data.mongodb.core.query.Update;

/**
 * The verbs of an order. Each names the states (and the attempt, the node, the lease) it expects;
 * {@link OrderStore#apply} checks them against the stored order and writes with a compare-and-set
 * on the order's revision, so the change lands only on the exact version that was checked. An
 * order that is not as expected is a normal miss, never an exception. The constructor checks every
 * move against {@link OrderStatus}'s table, so a verb that would break the state machine cannot
 * even be built.
 */
public final class OrderTransition {

    private final Set<OrderStatus> from;
    private final OrderStatus to;
    private final Predicate<Order> guard;
    private final Update update;
    private final Instant at;

    private OrderTransition(Set<OrderStatus> from, OrderStatus to, Predicate<Order> guard, Update update,
            HistoryEntry entry, Instant at) {
        for (OrderStatus source : from) {
            if (source != to && !source.canTransitionTo(to)) {
                throw new IllegalStateException("illegal transition " + source + " -> " + to);
            }
        }
        this.from = Set.copyOf(from);
        this.to = to;
        this.guard = guard;
        this.at = at;
        this.update = update.set(STATUS, to.wire()).set(MODIFIED_AT, Date.from(at));
        if (entry != null) {
            this.update.push(HISTORY, entry.toDocument());
        }
    }

    /**
     * unassigned -> assigned. {@code attemptBefore} is the attempt the claimer saw; it becomes +1.
     * {@code seed} marks a claimer that will not heartbeat (the seed's worker): its lease is the long
     * one it was given, and only such a claim may later be completed by a bare callback.
     */
    static OrderTransition claim(String node, int attemptBefore, Instant now, Duration lease, boolean seed) {
        int attempt = attemptBefore + 1;
        Update update = new Update().set(ATTEMPT, attempt).set(ASSIGNED_TO, node)
                .set(LEASE_EXPIRES_AT, Date.from(now.plus(lease))).set(SEED_CLAIM, seed)
                .unset(STARTED_AT).unset(LAST_HEARTBEAT_AT).unset(PROGRESS);
        if (seed) {
            update.addToSet(SEED_NODES, node);
        }
        return new OrderTransition(EnumSet.of(OrderStatus.UNASSIGNED), OrderStatus.ASSIGNED,
                o -> o.attempt() == attemptBefore, update,
                new HistoryEntry(OrderStatus.ASSIGNED, now, node, attempt, seed ? "claimed (no heartbeats)" : "claimed"),
                now);
    }

    /** assigned -> running, on the first heartbeat of this attempt. */
    static OrderTransition start(String node, int attempt, Instant now, Duration lease, Document progress) {
        return new OrderTransition(EnumSet.of(OrderStatus.ASSIGNED), OrderStatus.RUNNING,
                held(node, attempt),
                heartbeatUpdate(now, lease, progress).set(STARTED_AT, Date.from(now)),
                new HistoryEntry(OrderStatus.RUNNING, now, node, attempt, "started"), now);
    }

    /** running -> running: extends the lease. Not a change of state, so no history line. */
    static OrderTransition heartbeat(String node, int attempt, Instant now, Duration lease, Document progress) {
        return new OrderTransition(EnumSet.of(OrderStatus.RUNNING), OrderStatus.RUNNING,
                held(node, attempt), heartbeatUpdate(now, lease, progress), null, now);
    }

    /**
     * assigned|running -> done, pointing at the outcome already written; the outcome's {@code loss}
     * is copied onto the order so that leaderboards are kept in memory from orders alone.
     */
    static OrderTransition complete(String node, int attempt, ObjectId outcomeId, Instant now, Double loss) {
        OrderTransition done = finish(OrderStatus.DONE, node, attempt, outcomeId, now, "outcome reported", null);
        done.update.set(LOSS, loss);
        return done;
    }

    /** assigned|running -> failed: the script ran and reported an error, which a retry would repeat. */
    static OrderTransition fail(String node, int attempt, ObjectId outcomeId, Instant now, String reason) {
        return fail(node, attempt, outcomeId, now, reason, null);
    }

    /** As {@link #fail(String, int, ObjectId, Instant, String)}, saying how the attempt failed. */
    static OrderTransition fail(String node, int attempt, ObjectId outcomeId, Instant now, String reason,
            Failure failure) {
        return finish(OrderStatus.FAILED, node, attempt, outcomeId, now, reason, failure);
    }

    /**
     * assigned|running -> unassigned: an infrastructure failure (worker shut down, script could not
     * start, the order could not be delivered). The attempt stays; the next claim increments it.
     */
    static OrderTransition requeue(String node, int attempt, Instant now, String reason) {
        return requeue(node, attempt, now, reason, null);
    }

    /** As {@link #requeue(String, int, Instant, String)}, saying how the attempt failed (null: it did not). */
    static OrderTransition requeue(String node, int attempt, Instant now, String reason, Failure failure) {
        return new OrderTransition(EnumSet.of(OrderStatus.ASSIGNED, OrderStatus.RUNNING), OrderStatus.UNASSIGNED,
                held(node, attempt), backToQueue(reason),
                new HistoryEntry(OrderStatus.UNASSIGNED, now, node, attempt, reason, failure), now);
    }

    /**
     * assigned -> unassigned, undoing a claim whose answer never reached its Worker (the long poll had
     * already been answered, or the node was drained while it claimed): the attempt it took is given back,
     * since nothing ran, so a job does not lose one of its attempts to a race it had no part in.
     */
    static OrderTransition unclaim(String node, int attempt, Instant now, String reason) {
        return new OrderTransition(EnumSet.of(OrderStatus.ASSIGNED), OrderStatus.UNASSIGNED,
                held(node, attempt).and(o -> o.startedAt() == null),
                backToQueue(reason).set(ATTEMPT, attempt - 1),
                new HistoryEntry(OrderStatus.UNASSIGNED, now, node, attempt, reason), now);
    }

    /**
     * assigned -> unassigned for a claim whose answer was lost (a callback that claimed the next order, then
     * never reached its Worker): nothing of it started. Unlike {@link #unclaim} the attempt number stays spent,
     * since a Worker might yet hold the lost answer: a new claim then gets another attempt, and that Worker's
     * heartbeats and callback are refused as stale, never mistaken for the new holder's. No run was spent, so
     * {@code maxAttempts} grows by one: the job keeps every run it was given.
     */
    static OrderTransition unheard(String node, int attempt, Instant now, String reason) {
        return new OrderTransition(EnumSet.of(OrderStatus.ASSIGNED), OrderStatus.UNASSIGNED,
                held(node, attempt).and(o -> o.startedAt() == null), backToQueue(reason).inc(MAX_ATTEMPTS, 1),
                new HistoryEntry(OrderStatus.UNASSIGNED, now, node, attempt, reason), now);
    }

    private static Update backToQueue(String reason) {
        return new Update().unset(ASSIGNED_TO).unset(LEASE_EXPIRES_AT).set(SEED_CLAIM, false).set(REASON, reason);
    }

    /** assigned|running -> unassigned|failed when the lease ran out: the worker was lost. */
    static OrderTransition expire(Order order, Instant now) {
        String node = order.assignedTo();
        boolean exhausted = order.attempt() >= order.maxAttempts();
        String reason = "lease expired on node " + node + " (attempt " + order.attempt() + " of "
                + order.maxAttempts() + ")" + (exhausted ? "; no attempts left" : "");
        Failure lost = new Failure(Failure.Kind.LEASE_EXPIRED, null, null);
        Predicate<Order> guard = o -> o.attempt() == order.attempt()
                && o.leaseExpiresAt() != null && o.leaseExpiresAt().isBefore(now);
        if (exhausted) {
            return new OrderTransition(EnumSet.of(OrderStatus.ASSIGNED, OrderStatus.RUNNING), OrderStatus.FAILED,
                    guard, new Update().set(FINISHED_AT, Date.from(now)).set(REASON, reason).unset(LEASE_EXPIRES_AT),
                    new HistoryEntry(OrderStatus.FAILED, now, node, order.attempt(), reason, lost), now);
        }
        return new OrderTransition(EnumSet.of(OrderStatus.ASSIGNED, OrderStatus.RUNNING), OrderStatus.UNASSIGNED,
                guard, backToQueue(reason),
                new HistoryEntry(OrderStatus.UNASSIGNED, now, node, order.attempt(), reason, lost), now);
    }

    /** Any live state -> cancelled. A worker holding it learns so from its next heartbeat. */
    static OrderTransition cancel(Instant now, String reason) {
        return new OrderTransition(OrderStatus.sourcesOf(OrderStatus.CANCELLED), OrderStatus.CANCELLED,
                o -> true, new Update().set(FINISHED_AT, Date.from(now)).set(REASON, reason).unset(LEASE_EXPIRES_AT),
                new HistoryEntry(OrderStatus.CANCELLED, now, null, 0, reason), now);
    }

    /**
     * The same verb, allowed only where a bare callback may act: the current attempt is a seed claim
     * that never heartbeated ({@link Order#acceptsBareCallback}). A heartbeating worker's attempt, or
     * one that has started, can only be ended by a callback that names its attempt. With
     * {@code senderUnknown} the order keeps no holder, so that no node's counts include it.
     */
    /** This ending also records when the attempt started, for an order no heartbeat marked started. */
    OrderTransition alsoStarted(Instant startedAt) {
        update.set(STARTED_AT, Date.from(startedAt));
        return this;
    }

    OrderTransition onlyForBareCallback(boolean senderUnknown) {
        if (senderUnknown) {
            update.unset(ASSIGNED_TO); // no node is credited with a result nobody can attribute
        }
        return new OrderTransition(from, to, guard.and(Order::acceptsBareCallback), update, null, at);
    }

    private static OrderTransition finish(OrderStatus to, String node, int attempt, ObjectId outcomeId,
            Instant now, String reason, Failure failure) {
        Update update = new Update().set(FINISHED_AT, Date.from(now)).set(REASON, reason).unset(LEASE_EXPIRES_AT);
        if (outcomeId != null) {
            update.set(OUTCOME_ID, outcomeId);
        }
        return new OrderTransition(EnumSet.of(OrderStatus.ASSIGNED, OrderStatus.RUNNING), to,
                held(node, attempt), update, new HistoryEntry(to, now, node, attempt, reason, failure), now);
    }

    /** The fencing guard: only the holder of this attempt (and, when named, on this node) may act. */
    private static Predicate<Order> held(String node, int attempt) {
        return o -> o.attempt() == attempt && (node == null || node.equals(o.assignedTo()));
    }

    private static Update heartbeatUpdate(Instant now, Duration lease, Document progress) {
        Update update = new Update().set(LEASE_EXPIRES_AT, Date.from(now.plus(lease)))
                .set(LAST_HEARTBEAT_AT, Date.from(now));
        if (progress != null) {
            update.set(PROGRESS, progress);
        }
        return update;
    }

    /** Whether the stored order is in a state this verb may move on from. */
    boolean allows(Order current) {
        return from.contains(current.status()) && guard.test(current);
    }

    Update update() {
        return update;
    }

    Instant at() {
        return at;
    }

    public OrderStatus to() {
        return to;
    }

    Set<OrderStatus> from() {
        return from;
    }
}
