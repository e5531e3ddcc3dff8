package com.maddatum.boss.order;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import org.bson.types.ObjectId;
import org.springframework.stereotype.Component;

/**
 * The one writer of everything this Boss keeps in memory about orders: the {@link ReadyIndex}, the
 * {@link LeaseTracker}, the {@link OrderCatalog}, the {@link ProjectBoards} and the {@link ScriptDurations};
 * and the one that tells the {@link OrderWatch} what changed. Every state a verb
 * wrote, a re-read found or a resync brought passes through {@link #apply}, which takes it only when
 * its revision is not older than the one memory holds for that order, and applies it to every view
 * under that order's lock. So a late heartbeat's answer can never undo a callback that came after it,
 * and two views never disagree about one order for longer than one apply.
 *
 * <p>An equal revision is applied again on purpose: it is the same state, so the views are unchanged,
 * except that an order a claimer took out of the ready index and then failed to claim is put back.
 */
@Component
class OrderMirror {

    private final ConcurrentHashMap<ObjectId, OrderFacts> known = new ConcurrentHashMap<>();
    private final ReadyIndex ready;
    private final LeaseTracker leases;
    private final OrderCatalog catalog;
    private final ProjectBoards boards;
    private final ScriptDurations durations;
    private final OrderWatch watch;

    OrderMirror(ReadyIndex ready, LeaseTracker leases, OrderCatalog catalog, ProjectBoards boards,
            ScriptDurations durations, OrderWatch watch) {
        this.ready = ready;
        this.leases = leases;
        this.catalog = catalog;
        this.boards = boards;
        this.durations = durations;
        this.watch = watch;
    }

    /** Applies the stored state of an order unless memory already holds a newer one; true when applied. */
    boolean apply(Order order) {
        long revision = order.revision();
        boolean[] applied = {false};
        known.compute(order.id(), (id, before) -> {
            if (before != null && before.revision() > revision) {
                return before;
            }
            OrderFacts after = OrderFacts.of(order);
            if (order.status() == OrderStatus.UNASSIGNED) {
                ready.offer(order);
            } else {
                ready.remove(id);
            }
            leases.update(order);
            catalog.move(before, after);
            boards.move(before, after);
            durations.move(before, order);
            watch.changed(order);
            applied[0] = true;
            return after;
        });
        return applied[0];
    }

    /** Drops an order the store no longer has (deleted by hand). */
    void forget(ObjectId id) {
        known.computeIfPresent(id, (key, before) -> {
            ready.remove(id);
            leases.forget(id);
            catalog.move(before, null);
            boards.move(before, null);
            watch.forgotten(id);
            return null;
        });
    }

    /** The revision memory holds for an order, or -1 when it knows none. */
    long revisionOf(ObjectId id) {
        OrderFacts facts = known.get(id);
        return facts == null ? -1 : facts.revision();
    }

    /** The orders memory believes are unassigned, assigned or running. */
    List<ObjectId> liveIds() {
        List<ObjectId> live = new ArrayList<>();
        for (OrderStatus status : OrderStatus.values()) {
            if (!status.isTerminal()) {
                live.addAll(catalog.all(new OrderCatalog.Filter(null, status)));
            }
        }
        return live;
    }

    /** Every order memory knows; for the audit's rebuild only, as it grows with history. */
    java.util.Set<ObjectId> knownIds() {
        return java.util.Set.copyOf(known.keySet());
    }

    OrderFacts facts(ObjectId id) {
        return known.get(id);
    }

    int size() {
        return known.size();
    }
}
