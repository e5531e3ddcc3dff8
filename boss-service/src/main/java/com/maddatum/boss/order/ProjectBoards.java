package com.maddatum.boss.order;

import com.maddatum.boss.order.OrderCatalog.Scope;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentSkipListSet;
import java.util.stream.Stream;
import org.bson.types.ObjectId;
import org.springframework.stereotype.Component;

/**
 * Done orders ranked by loss, for each listing scope (all orders, a project, a sweep: the leaderboard
 * and {@code GET /jobs?sort=loss}), the done orders without a loss (which that sort lists after the
 * ranked ones), and each project's done orders in the order they finished (the loss-over-time plot),
 * kept in memory by {@link OrderMirror} so that none of these reads sorts the store. A done order's
 * loss is copied from its outcome when the order completes.
 */
@Component
class ProjectBoards {

    private record Ranked(double loss, Instant finished, ObjectId id) {}

    private record Finished(Instant finished, ObjectId id) {}

    private record Unranked(Instant created, ObjectId id) {}

    private static final Comparator<Ranked> LOWEST_LOSS_FIRST = Comparator.comparingDouble(Ranked::loss)
            .thenComparing(Ranked::finished).thenComparing(Ranked::id);
    private static final Comparator<Finished> OLDEST_FIRST = Comparator.comparing(Finished::finished)
            .thenComparing(Finished::id);
    /** As every listing shows orders. */
    private static final Comparator<Unranked> NEWEST_FIRST = Comparator.comparing(Unranked::created)
            .thenComparing(Unranked::id).reversed();

    private final ConcurrentHashMap<Scope, ConcurrentSkipListSet<Ranked>> byLoss = new ConcurrentHashMap<>();
    private final ConcurrentHashMap<Scope, ConcurrentSkipListSet<Unranked>> withoutLoss = new ConcurrentHashMap<>();
    /** Sizes of the two above: a skip list counts itself by walking. */
    private final ConcurrentHashMap<Scope, Long> rankedCounts = new ConcurrentHashMap<>();
    private final ConcurrentHashMap<Scope, Long> withoutLossCounts = new ConcurrentHashMap<>();
    private final ConcurrentHashMap<String, ConcurrentSkipListSet<Finished>> byTime = new ConcurrentHashMap<>();

    void move(OrderFacts before, OrderFacts after) {
        if (before != null && before.placedLike(after)) {
            return;
        }
        if (isDone(before)) {
            place(before, -1);
        }
        if (isDone(after)) {
            place(after, 1);
        }
    }

    private void place(OrderFacts facts, int delta) {
        for (Scope scope : facts.scopes()) {
            if (facts.loss() == null) {
                Unranked unranked = new Unranked(facts.created(), facts.id());
                update(withoutLoss, withoutLossCounts, scope, unranked, NEWEST_FIRST, delta);
            } else {
                Ranked ranked = new Ranked(facts.loss(), finishedAt(facts), facts.id());
                update(byLoss, rankedCounts, scope, ranked, LOWEST_LOSS_FIRST, delta);
            }
        }
        if (facts.project() != null) {
            Finished finished = new Finished(finishedAt(facts), facts.id());
            if (delta > 0) {
                byTime.computeIfAbsent(facts.project(), p -> new ConcurrentSkipListSet<>(OLDEST_FIRST)).add(finished);
            } else {
                byTime.getOrDefault(facts.project(), new ConcurrentSkipListSet<>(OLDEST_FIRST)).remove(finished);
            }
        }
    }

    private static <T> void update(ConcurrentHashMap<Scope, ConcurrentSkipListSet<T>> sets,
            ConcurrentHashMap<Scope, Long> counts, Scope scope, T entry, Comparator<T> order, int delta) {
        boolean changed = delta > 0
                ? sets.computeIfAbsent(scope, s -> new ConcurrentSkipListSet<>(order)).add(entry)
                : sets.getOrDefault(scope, new ConcurrentSkipListSet<>(order)).remove(entry);
        if (changed) {
            counts.compute(scope, (s, n) -> {
                long next = (n == null ? 0 : n) + delta;
                return next == 0 ? null : next;
            });
        }
    }

    private static boolean isDone(OrderFacts facts) {
        return facts != null && facts.status() == OrderStatus.DONE;
    }

    private static Instant finishedAt(OrderFacts facts) {
        return facts.finished() != null ? facts.finished() : facts.created();
    }

    /** The project's done orders with the lowest loss, best first. */
    List<ObjectId> best(String project, int limit) {
        return ranked(new Scope(project, null), false).limit(limit).toList();
    }

    /** The scope's done orders that have a loss, lowest first (or highest first), walked lazily. */
    Stream<ObjectId> ranked(Scope scope, boolean highestFirst) {
        ConcurrentSkipListSet<Ranked> ranked = byLoss.get(scope);
        if (ranked == null) {
            return Stream.empty();
        }
        return (highestFirst ? ranked.descendingSet() : ranked).stream().map(Ranked::id);
    }

    long rankedCount(Scope scope) {
        return rankedCounts.getOrDefault(scope, 0L);
    }

    /** The scope's done orders without a loss, newest first, walked lazily. */
    Stream<ObjectId> withoutLoss(Scope scope) {
        ConcurrentSkipListSet<Unranked> unranked = withoutLoss.get(scope);
        return unranked == null ? Stream.empty() : unranked.stream().map(Unranked::id);
    }

    long withoutLossCount(Scope scope) {
        return withoutLossCounts.getOrDefault(scope, 0L);
    }

    /** The project's {@code limit} most recently finished done orders, oldest of them first. */
    List<ObjectId> latest(String project, int limit) {
        ConcurrentSkipListSet<Finished> finished = byTime.get(project);
        if (finished == null) {
            return List.of();
        }
        List<ObjectId> newestFirst = new ArrayList<>(limit);
        for (var it = finished.descendingIterator(); it.hasNext() && newestFirst.size() < limit; ) {
            newestFirst.add(it.next().id());
        }
        java.util.Collections.reverse(newestFirst);
        return newestFirst;
    }
}
