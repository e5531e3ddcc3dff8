package com.maddatum.boss.outcome;

import com.maddatum.boss.order.Claimer;
import com.maddatum.boss.order.Claims;
import com.maddatum.boss.order.Order;
import com.maddatum.boss.order.OrderQueries;
import com.maddatum.boss.order.OrderService;
import com.maddatum.boss.order.OrderStatus;
import com.maddatum.boss.order.OrderView;
import java.util.Optional;
import org.bson.types.ObjectId;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.stereotype.Component;

/**
 * Callback-and-claim ({@code POST /callback?next=true}): once an outcome is stored and its order moved, the
 * Boss claims the next order for the same node exactly as {@code /bored} would, and the callback's answer
 * carries it, so a busy Worker never waits for a separate claim. Only a callback that named its order,
 * attempt and node, and that was accepted for the first time, claims; a refused one never gets here.
 *
 * <p>A repeat of the callback (the Worker did not hear the first answer) claims nothing new: it gets the
 * order the first call claimed, when that order is still waiting unstarted for this node, and if the repeat
 * did not ask for a next order (a spool retrying in the background, a Worker shutting down) that order is
 * put back in the queue at once ({@link NextClaims}).
 */
@Component
class NextOrder {

    private static final Logger log = LoggerFactory.getLogger(NextOrder.class);

    private final Claims claims;
    private final OrderService orders;
    private final OrderQueries orderReads;
    private final NextClaims links;

    NextOrder(Claims claims, OrderService orders, OrderQueries orderReads, NextClaims links) {
        this.claims = claims;
        this.orders = orders;
        this.orderReads = orderReads;
        this.links = links;
    }

    /** What the callback's answer carries as {@code next}; null for none. */
    OrderView after(OutcomeService.Recorded recorded, OutcomeReport report, boolean next, Long gpuMemoryMiB) {
        if (report.attempt() == null || report.node() == null || recorded.orderId() == null) {
            return null; // the seed's bare callback, or one naming no node: it claims nothing
        }
        String key = NextClaims.key(new ObjectId(recorded.orderId()), report.attempt());
        if (recorded.duplicate()) {
            try {
                return repeated(key, report.node(), next);
            } catch (RuntimeException e) {
                log.warn("repeated callback answered without a next order order={} node={} error={}",
                        recorded.orderId(), report.node(), e.toString());
                return null;
            }
        }
        return next ? claim(key, claims.claimer(report.node(), true, gpuMemoryMiB), recorded.orderId()) : null;
    }

    /**
     * A rich callback refused as stale (409) may still be the repeat of one that claimed: its first call was
     * accepted, claimed the next order, and its answer was lost; meanwhile the reported order moved on (a
     * second opinion's claim by another node), so the repeat no longer matches. That claim is put back now,
     * never answered: a refused callback claims nothing, and its Worker drops it.
     */
    void refused(OutcomeReport report) {
        if (report.orderId() == null || report.attempt() == null || report.node() == null) {
            return;
        }
        try {
            repeated(NextClaims.key(report.orderId(), report.attempt()), report.node(), false);
        } catch (RuntimeException e) {
            log.warn("refused callback: its first call's next order not looked for order={} node={} error={}",
                    report.orderId(), report.node(), e.toString());
        }
    }

    private OrderView claim(String key, Claimer claimer, String reported) {
        Optional<Order> claimed;
        try {
            claimed = claims.claim(claimer);
        } catch (RuntimeException e) {
            // The outcome is stored: failing the callback now would only make the Worker repeat it. It asks
            // /bored instead.
            log.warn("callback answered without a next order order={} node={} error={}", reported, claimer.node(),
                    e.toString());
            return null;
        }
        if (claimed.isEmpty()) {
            return null;
        }
        Order order = claimed.get();
        try {
            if (!links.link(key, order.id(), order.attempt())) {
                // A repeat of this very callback came first: the Worker is not listening to this answer any more,
                // and it never carried the order, so the attempt is given back.
                orders.release(order, "claimed by a callback whose Worker had already repeated it");
                return null;
            }
            return claims.answer(order);
        } catch (RuntimeException e) {
            // Claimed, but no answer will carry it (the link or the answer failed): back to the queue at once
            // rather than leased to a Worker that never hears of it until the lease ends. Its attempt stays spent
            // (releaseUnheard, not release): a link that failed may still have landed, and a later repeat that
            // finds it must not take the order back from whoever claims it next at that same attempt number.
            log.warn("callback's next order put back unanswered order={} next={} node={} error={}", reported,
                    order.id(), claimer.node(), e.toString());
            try {
                orders.releaseUnheard(order.id(), claimer.node(), order.attempt(),
                        "claimed by a callback that could not answer it");
            } catch (RuntimeException again) {
                log.warn("unanswered next order left to its lease order={} error={}", order.id(), again.toString());
            }
            return null;
        }
    }

    private OrderView repeated(String key, String node, boolean next) {
        Optional<NextClaims.Link> link = links.seal(key);
        if (link.isEmpty()) {
            return null;
        }
        ObjectId id = link.get().next();
        int attempt = link.get().nextAttempt();
        Optional<Order> current = orderReads.findById(id);
        boolean unheard = current.isPresent() && current.get().status() == OrderStatus.ASSIGNED
                && current.get().attempt() == attempt && node.equals(current.get().assignedTo())
                && current.get().startedAt() == null;
        if (!unheard) {
            return null; // started (so it was heard), or moved on: nothing to give or put back
        }
        if (next) {
            log.info("repeated callback answered with the order its first call claimed order={} node={} attempt={}",
                    id, node, attempt);
            return claims.answer(current.get());
        }
        orders.releaseUnheard(id, node, attempt, "claimed by a callback whose answer was lost (node " + node + ")");
        return null;
    }
}
