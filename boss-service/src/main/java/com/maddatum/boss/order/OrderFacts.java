package com.maddatum.boss.order;

import java.time.Instant;
import java.util.Objects;
import org.bson.types.ObjectId;

/**
 * What memory keeps of every order, finished or not: enough to count, page and rank orders without
 * asking the store, and the revision that orders every change (see {@link OrderMirror}).
 */
record OrderFacts(ObjectId id, long revision, OrderStatus status, String project, String node, Instant created,
        Instant finished, Double loss, String sweep) {

    static OrderFacts of(Order order) {
        Instant created = order.createdDate() != null ? order.createdDate() : order.id().getDate().toInstant();
        return new OrderFacts(order.id(), order.revision(), order.status(), order.projectName(), order.assignedTo(),
                created, order.finishedAt(), order.loss(), order.sweepId());
    }

    /** Every listing scope the order belongs to: all orders, its project, its sweep, and both. */
    java.util.List<OrderCatalog.Scope> scopes() {
        java.util.List<OrderCatalog.Scope> scopes = new java.util.ArrayList<>(4);
        scopes.add(OrderCatalog.Scope.ALL);
        if (project != null) {
            scopes.add(new OrderCatalog.Scope(project, null));
        }
        if (sweep != null) {
            scopes.add(new OrderCatalog.Scope(null, sweep));
        }
        if (project != null && sweep != null) {
            scopes.add(new OrderCatalog.Scope(project, sweep));
        }
        return scopes;
    }

    /** Whether a listing, a counter or a board would place the two versions differently. */
    boolean placedLike(OrderFacts other) {
        return other != null && status == other.status && Objects.equals(project, other.project)
                && Objects.equals(sweep, other.sweep) && Objects.equals(node, other.node) && Objects.equals(loss, other.loss)
                && Objects.equals(finished, other.finished);
    }
}
