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

    /** Which orders a listing holds: all, one project's, one sweep's, or one sweep's within one project. */
    record Scope(String project, String sweep) {
        static final Scope ALL = new Scope(null, null);
    }

    /** A listing: the orders of a scope, of any status or of one. */
    record Filter(String project, String sweep, OrderStatus status) {

        /** A listing that ignores sweeps. */
        Filter(String project, OrderStatus status) {
            this(project, null, status);
        }

        Scope scope() {
            return new Scope(project, sweep);
        }

        Filter withStatus(OrderStatus other) {
            return new Filter(project, sweep, other);
        }
    }

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

    /** Each of the order's scopes, of any status and of its own: four listings, eight for a job in a sweep. */
    private static List<Filter> filters(OrderFacts facts) {
        List<Filter> filters = new java.util.ArrayList<>(8);
        for (Scope scope : facts.scopes()) {
            filters.add(new Filter(scope.project(), scope.sweep(), null));
            filters.add(new Filter(scope.project(), scope.sweep(), facts.status()));
        }
        return filters;
    }

    private static Long zeroToNull(long n) {
        return n == 0 ? null : n;
    }

    /** The ids on one page of a listing, newest first. */
    List<ObjectId> page(Filter filter, int page, int size) {
        return newestFirst(filter).skip((long) page * size).limit(size).toList();
    }

    /** A listing's ids, newest first, walked lazily: a page costs its offset plus its size. */
    java.util.stream.Stream<ObjectId> newestFirst(Filter filter) {
        ConcurrentSkipListSet<Listed> listing = listings.get(filter);
        return listing == null ? java.util.stream.Stream.empty() : listing.stream().map(Listed::id);
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
        return counts.keySet().stream().filter(f -> f.project() != null && f.sweep() == null && f.status() == null)
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
