package com.maddatum.boss.order;

import java.time.Instant;
import java.util.Comparator;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentSkipListSet;
import java.util.concurrent.CopyOnWriteArrayList;
import org.bson.types.ObjectId;
import org.springframework.stereotype.Component;

/**
 * The claimable orders, in claim order (highest priority, then oldest, then id), held in memory so
 * that choosing what to claim never scans the collection: its cost does not grow with the number
 * of finished orders. The database stays the truth: a candidate is only a hint, claimed with a
 * conditional write on its {@code _id}, and a candidate that turns out stale is simply dropped.
 * Rebuilt from the store at start-up and, with a shared MongoDB, re-synced by {@link StoreSync}.
 */
@Component
class ReadyIndex {

    record Candidate(ObjectId id, int priority, Instant createdDate, int attempt, Set<String> labels) {

        static Candidate of(Order order) {
            return new Candidate(order.id(), order.priority(), order.createdDate(), order.attempt(),
                    Set.copyOf(order.requiredLabels()));
        }

        boolean runnableOn(Set<String> nodeLabels) {
            return nodeLabels.containsAll(labels);
        }
    }

    static final Comparator<Candidate> CLAIM_ORDER = Comparator
            .comparingInt(Candidate::priority).reversed()
            .thenComparing(Candidate::createdDate)
            .thenComparing(Candidate::id);

    private final ConcurrentSkipListSet<Candidate> queue = new ConcurrentSkipListSet<>(CLAIM_ORDER);
    private final ConcurrentHashMap<ObjectId, Candidate> byId = new ConcurrentHashMap<>();
    private final CopyOnWriteArrayList<Runnable> listeners = new CopyOnWriteArrayList<>();

    /** Adds (or refreshes) an unassigned order and wakes whoever waits for work. */
    void offer(Order order) {
        Candidate candidate = Candidate.of(order);
        Candidate previous = byId.put(candidate.id(), candidate);
        if (previous != null) {
            queue.remove(previous);
        }
        queue.add(candidate);
        listeners.forEach(Runnable::run);
    }

    /**
     * Removes and returns the first candidate this node can run, or null. Removal is the in-process
     * claim: two threads of this Boss never race for the same order in the database.
     */
    Candidate take(Set<String> nodeLabels) {
        for (Candidate candidate : queue) {
            if (candidate.runnableOn(nodeLabels) && queue.remove(candidate)) {
                byId.remove(candidate.id(), candidate);
                return candidate;
            }
        }
        return null;
    }

    /** Puts back a candidate whose claim failed for a reason other than losing the race. */
    void restore(Candidate candidate) {
        if (byId.putIfAbsent(candidate.id(), candidate) == null) {
            queue.add(candidate);
        }
    }

    void remove(ObjectId id) {
        Candidate candidate = byId.remove(id);
        if (candidate != null) {
            queue.remove(candidate);
        }
    }

    int size() {
        return byId.size();
    }

    /** label -> claimable orders that require it; orders requiring none count under "none". */
    Map<String, Long> labelCounts() {
        Map<String, Long> counts = new java.util.HashMap<>();
        for (Candidate candidate : byId.values()) {
            if (candidate.labels().isEmpty()) {
                counts.merge("none", 1L, Long::sum);
            }
            candidate.labels().forEach(label -> counts.merge(label, 1L, Long::sum));
        }
        return counts;
    }

    void onOffer(Runnable listener) {
        listeners.add(listener);
    }
}
