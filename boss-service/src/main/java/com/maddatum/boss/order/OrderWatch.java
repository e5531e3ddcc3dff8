package com.maddatum.boss.order;

import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Predicate;
import org.bson.types.ObjectId;
import org.springframework.stereotype.Component;

/**
 * Waits for an order to reach a state, fed by {@link OrderMirror} with every state it applies, so a
 * person's long poll ({@code GET /jobs/{id}?waitSeconds=N}) costs nothing until its order changes: no
 * timer re-reads the store. A watch is forgotten as soon as its future completes, however it completes
 * (the state came, the caller's timeout, a cancel), so watches cannot pile up.
 */
@Component
public class OrderWatch {

    private record Watch(Predicate<Order> until, CompletableFuture<Order> future) {}

    private final OrderStore store;
    private final ConcurrentHashMap<ObjectId, Set<Watch>> watches = new ConcurrentHashMap<>();

    OrderWatch(OrderStore store) {
        this.store = store;
    }

    /**
     * A future that completes with the order once a state of it satisfies {@code until} (at once if the
     * stored state already does), or with null if the order is deleted. It never times out by itself:
     * the caller completes or cancels it when it stops waiting.
     */
    public CompletableFuture<Order> until(ObjectId orderId, Predicate<Order> until) {
        Watch watch = new Watch(until, new CompletableFuture<>());
        watches.compute(orderId, (id, set) -> {
            Set<Watch> kept = set == null ? ConcurrentHashMap.newKeySet() : set;
            kept.add(watch);
            return kept;
        });
        watch.future().whenComplete((order, error) -> watches.computeIfPresent(orderId, (id, set) -> {
            set.remove(watch);
            return set.isEmpty() ? null : set;
        }));
        // A change applied between the caller's read and our registration would not be seen otherwise.
        try {
            store.findById(orderId).filter(until).ifPresent(watch.future()::complete);
        } catch (RuntimeException e) {
            watch.future().cancel(false);
            throw e;
        }
        return watch.future();
    }

    /**
     * Runs inside the mirror's apply, under the order's lock: it only completes futures, and whoever
     * waits on one must continue on a thread of its own.
     */
    void changed(Order order) {
        Set<Watch> set = watches.get(order.id());
        if (set == null) {
            return;
        }
        for (Watch watch : List.copyOf(set)) {
            if (watch.until().test(order)) {
                watch.future().complete(order);
            }
        }
    }

    void forgotten(ObjectId id) {
        Set<Watch> set = watches.get(id);
        if (set != null) {
            List.copyOf(set).forEach(watch -> watch.future().complete(null));
        }
    }

    /** How many waits are registered; a test checks none is left behind. */
    public int watching() {
        return watches.values().stream().mapToInt(Set::size).sum();
    }
}
