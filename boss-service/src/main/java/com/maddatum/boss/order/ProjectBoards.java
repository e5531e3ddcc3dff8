package com.maddatum.boss.order;

import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentSkipListSet;
import org.bson.types.ObjectId;
import org.springframework.stereotype.Component;

/**
 * Each project's done orders, ranked by loss (the leaderboard) and in the order they finished (the
 * loss-over-time plot), kept in memory by {@link OrderMirror} so that neither read sorts the store.
 * A done order's loss is copied from its outcome when the order completes.
 */
@Component
class ProjectBoards {

    private record Ranked(double loss, Instant finished, ObjectId id) {}

    private record Finished(Instant finished, ObjectId id) {}

    private static final Comparator<Ranked> LOWEST_LOSS_FIRST = Comparator.comparingDouble(Ranked::loss)
            .thenComparing(Ranked::finished).thenComparing(Ranked::id);
    private static final Comparator<Finished> OLDEST_FIRST = Comparator.comparing(Finished::finished)
            .thenComparing(Finished::id);

    private final ConcurrentHashMap<String, ConcurrentSkipListSet<Ranked>> byLoss = new ConcurrentHashMap<>();
    private final ConcurrentHashMap<String, ConcurrentSkipListSet<Finished>> byTime = new ConcurrentHashMap<>();

    void move(OrderFacts before, OrderFacts after) {
        if (before != null && before.placedLike(after)) {
            return;
        }
        if (isDone(before)) {
            Ranked ranked = ranked(before);
            if (ranked != null) {
                byLoss.getOrDefault(before.project(), new ConcurrentSkipListSet<>(LOWEST_LOSS_FIRST)).remove(ranked);
            }
            byTime.getOrDefault(before.project(), new ConcurrentSkipListSet<>(OLDEST_FIRST)).remove(finished(before));
        }
        if (isDone(after)) {
            Ranked ranked = ranked(after);
            if (ranked != null) {
                byLoss.computeIfAbsent(after.project(), p -> new ConcurrentSkipListSet<>(LOWEST_LOSS_FIRST)).add(ranked);
            }
            byTime.computeIfAbsent(after.project(), p -> new ConcurrentSkipListSet<>(OLDEST_FIRST)).add(finished(after));
        }
    }

    private static boolean isDone(OrderFacts facts) {
        return facts != null && facts.status() == OrderStatus.DONE && facts.project() != null;
    }

    private static Ranked ranked(OrderFacts facts) {
        return facts.loss() == null ? null : new Ranked(facts.loss(), finishedAt(facts), facts.id());
    }

    private static Finished finished(OrderFacts facts) {
        return new Finished(finishedAt(facts), facts.id());
    }

    private static Instant finishedAt(OrderFacts facts) {
        return facts.finished() != null ? facts.finished() : facts.created();
    }

    /** The project's done orders with the lowest loss, best first. */
    List<ObjectId> best(String project, int limit) {
        ConcurrentSkipListSet<Ranked> ranked = byLoss.get(project);
        return ranked == null ? List.of() : ranked.stream().limit(limit).map(Ranked::id).toList();
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
