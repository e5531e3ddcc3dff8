package com.maddatum.boss.order;

import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.bson.types.ObjectId;
import org.springframework.stereotype.Component;

/**
 * The orders held by workers, with their lease, so that the reaper looks at a handful of in-flight
 * orders instead of querying a collection that grows with every finished job. Like
 * {@link ReadyIndex} it is a hint: the reaper's write is conditional on the stored lease. Only
 * {@link OrderMirror} changes it.
 */
@Component
class LeaseTracker {

    private final ConcurrentHashMap<ObjectId, Order> inFlight = new ConcurrentHashMap<>();

    /** Records the order's latest state: tracked while in flight, forgotten otherwise. */
    void update(Order order) {
        if (order.isInFlight()) {
            inFlight.put(order.id(), order);
        } else {
            inFlight.remove(order.id());
        }
    }

    void forget(ObjectId id) {
        inFlight.remove(id);
    }

    List<Order> expiredBy(Instant now) {
        return inFlight.values().stream()
                .filter(o -> o.leaseExpiresAt() != null && o.leaseExpiresAt().isBefore(now))
                .toList();
    }

    /** node name -> the orders it holds. */
    Map<String, List<Order>> byNode() {
        return inFlight.values().stream()
                .filter(o -> o.assignedTo() != null)
                .collect(java.util.stream.Collectors.groupingBy(Order::assignedTo));
    }

    Map<OrderStatus, Long> countByStatus() {
        return inFlight.values().stream()
                .collect(java.util.stream.Collectors.groupingBy(Order::status, java.util.stream.Collectors.counting()));
    }
}
