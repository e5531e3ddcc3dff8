package com.maddatum.boss.order;

import java.time.Instant;
import java.util.Comparator;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentSkipListSet;
import org.bson.types.ObjectId;
import org.springframework.stereotype.Component;

/**
 * Every order's place in the listings people page through ({@code GET /jobs}, {@code /retrieve/order})
 * and the counters they poll ({@code /stats}, {@code /projects}, {@code /workers}, the queue gauges),
 * kept in memory by {@link OrderMirror} so that none of those reads scans the store: a page costs its
 * size (plus the pages skipped before it), a count costs nothing. Memory grows with the number of
 * orders, a few hundred bytes each; the store is never asked to sort or count.
 */
@Component
class OrderCatalog {

    /** A listing: all orders, or those of one project and/or one status. */
    record Filter(String project, OrderStatus status) {}

    private record Listed(Instant created, ObjectId id) {}

    private record NodeStatus(String node, OrderStatus status) {}

    /** Newest first, as every listing shows them. */
    private static final Comparator<Listed> NEWEST_FIRST = Comparator.comparing(Listed::created)
            .thenComparing(Listed::id).reversed();

    private final ConcurrentHashMap<Filter, ConcurrentSkipListSet<Listed>> listings = new ConcurrentHashMap<>();
    private final ConcurrentHashMap<Filter, Long> counts = new ConcurrentHashMap<>();
    private final ConcurrentHashMap<NodeStatus, Long> finishedByNode = new ConcurrentHashMap<>();
    /** node -> orders assigned to or running on it: whether a node has a free slot, without a walk. */
    private final ConcurrentHashMap<String, Long> heldByNode = new ConcurrentHashMap<>();

    /** Moves an order from where {@code before} placed it to where {@code after} does (either may be null). */
    void move(OrderFacts before, OrderFacts after) {
        if (before != null && before.placedLike(after)) {
            return;
        }
        if (before != null) {
            place(before, -1);
        }
        if (after != null) {
            place(after, 1);
        }
    }

    private void place(OrderFacts facts, int delta) {
        Listed listed = new Listed(facts.created(), facts.id());
        for (Filter filter : filters(facts)) {
            ConcurrentSkipListSet<Listed> listing = listings.computeIfAbsent(filter,
                    f -> new ConcurrentSkipListSet<>(NEWEST_FIRST));
            if (delta > 0) {
                listing.add(listed);
            } else {
                listing.remove(listed);
            }
            counts.compute(filter, (f, n) -> zeroToNull((n == null ? 0 : n) + delta));
        }
        if (facts.node() != null && facts.status().isTerminal()) {
            finishedByNode.compute(new NodeStatus(facts.node(), facts.status()),
                    (key, n) -> zeroToNull((n == null ? 0 : n) + delta));
        }
        if (facts.node() != null && facts.status().isInFlight()) {
            heldByNode.compute(facts.node(), (node, n) -> zeroToNull((n == null ? 0 : n) + delta));
        }
    }

    private static List<Filter> filters(OrderFacts facts) {
        if (facts.project() == null) {
            return List.of(new Filter(null, null), new Filter(null, facts.status()));
        }
        return List.of(new Filter(null, null), new Filter(null, facts.status()), new Filter(facts.project(), null),
                new Filter(facts.project(), facts.status()));
    }

    private static Long zeroToNull(long n) {
        return n == 0 ? null : n;
    }

    /** The ids on one page of a listing, newest first. */
    List<ObjectId> page(Filter filter, int page, int size) {
        ConcurrentSkipListSet<Listed> listing = listings.get(filter);
        if (listing == null) {
            return List.of();
        }
        return listing.stream().skip((long) page * size).limit(size).map(Listed::id).toList();
    }

    /** Every id in a listing; meant for the small ones (the live statuses). */
    List<ObjectId> all(Filter filter) {
        ConcurrentSkipListSet<Listed> listing = listings.get(filter);
        return listing == null ? List.of() : listing.stream().map(Listed::id).toList();
    }

    long count(Filter filter) {
        return counts.getOrDefault(filter, 0L);
    }

    Map<OrderStatus, Long> countByStatus() {
        Map<OrderStatus, Long> byStatus = new EnumMap<>(OrderStatus.class);
        for (OrderStatus status : OrderStatus.values()) {
            byStatus.put(status, count(new Filter(null, status)));
        }
        return byStatus;
    }

    /** Project names that have at least one order, sorted. */
    List<String> projects() {
        return counts.keySet().stream().filter(f -> f.project() != null && f.status() == null)
                .map(Filter::project).sorted().toList();
    }

    /** How many orders the node holds right now (assigned or running). */
    long heldBy(String node) {
        return heldByNode.getOrDefault(node, 0L);
    }

    /** node -> finished orders it held at the end, by terminal status. */
    Map<String, Map<OrderStatus, Long>> finishedByNode() {
        Map<String, Map<OrderStatus, Long>> byNode = new LinkedHashMap<>();
        finishedByNode.forEach((key, n) -> byNode.computeIfAbsent(key.node(), k -> new EnumMap<>(OrderStatus.class))
                .put(key.status(), n));
        return byNode;
    }
}
