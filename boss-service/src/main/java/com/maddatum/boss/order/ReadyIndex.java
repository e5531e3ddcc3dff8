package com.maddatum.boss.order;

import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
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
 *
 * <p>Only {@link OrderMirror} offers and removes; claimers {@link #take}. The queue holds what never
 * changes about an order (its place in the claim order and its labels), so an order re-offered at a
 * new attempt replaces nothing in the queue: its current attempt lives in {@code byId} alone, and a
 * queue entry whose {@code byId} entry is gone is dropped when a claimer meets it.
 */
@Component
class ReadyIndex {

    /**
     * What never changes about an order while it waits: its place in the claim order and its needs.
     *
     * @param minGpuMemoryMiB the GPU memory a claiming slot must have, or null when the order needs none
     */
    record Entry(ObjectId id, int priority, Instant createdDate, Set<String> labels, Double timeoutSeconds,
            Long minGpuMemoryMiB) {

        boolean runnableOn(Set<String> nodeLabels) {
            return nodeLabels.containsAll(labels);
        }

        /** Whether a slot with this much GPU memory (null: no GPU, or it did not say) may have the order. */
        boolean fitsGpuMemory(Long gpuMemoryMiB) {
            return minGpuMemoryMiB == null || (gpuMemoryMiB != null && gpuMemoryMiB >= minGpuMemoryMiB);
        }
    }

    /** A claimable order at the attempt and revision memory last saw. */
    record Candidate(Entry entry, int attempt, long revision) {

        static Candidate of(Order order) {
            return new Candidate(new Entry(order.id(), order.priority(), order.createdDate(),
                    Set.copyOf(order.requiredLabels()), order.timeoutSeconds(), order.minGpuMemoryMiB()),
                    order.attempt(), order.revision());
        }

        ObjectId id() {
            return entry.id();
        }
    }

    /** Where orders that need no label are counted; not a valid label, so no job's label can share it. */
    static final String NO_LABEL = "(none)";

    static final Comparator<Entry> CLAIM_ORDER = Comparator
            .comparingInt(Entry::priority).reversed()
            .thenComparing(Entry::createdDate)
            .thenComparing(Entry::id);

    private final ConcurrentSkipListSet<Entry> queue = new ConcurrentSkipListSet<>(CLAIM_ORDER);
    private final ConcurrentHashMap<ObjectId, Candidate> byId = new ConcurrentHashMap<>();
    /** Orders whose claim failed in a way that would repeat, by the revision that failed. */
    private final ConcurrentHashMap<ObjectId, Long> skipped = new ConcurrentHashMap<>();
    /** label -> claimable orders needing it; a label leaves the map when no waiting order needs it. */
    private final ConcurrentHashMap<String, Long> labelCounts = new ConcurrentHashMap<>();
    /**
     * The same orders grouped by the labels they require, each group in claim order and able to count
     * the orders before a given one: a job's place in the queue, or how many orders a kind of Worker
     * could take, is a few counts per group, not a walk of the queue. Each group is changed only inside
     * {@code compute} for its key.
     */
    private final ConcurrentHashMap<Set<String>, LabelGroup> byLabels = new ConcurrentHashMap<>();
    private final CopyOnWriteArrayList<Runnable> offerListeners = new CopyOnWriteArrayList<>();
    private final CopyOnWriteArrayList<LabelListener> labelListeners = new CopyOnWriteArrayList<>();

    /** Told when a label starts and stops being needed by some waiting order. */
    interface LabelListener {
        void needed(String label);

        void notNeeded(String label);
    }

    /** Adds (or refreshes) an unassigned order and wakes whoever waits for work. */
    void offer(Order order) {
        Long failed = skipped.get(order.id());
        if (failed != null) {
            if (failed == order.revision()) {
                return; // the same revision would fail the same way; a changed order gets another try
            }
            skipped.remove(order.id(), failed);
        }
        Candidate candidate = Candidate.of(order);
        byId.compute(order.id(), (id, previous) -> {
            if (previous == null) {
                count(candidate.entry(), 1);
            }
            return candidate;
        });
        queue.add(candidate.entry());
        offerListeners.forEach(Runnable::run);
    }

    /**
     * Removes and returns the first candidate this node can run, or null. Removal is the in-process
     * claim: two threads of this Boss never race for the same order in the database.
     */
    Candidate take(Set<String> nodeLabels) {
        return take(nodeLabels, candidate -> true);
    }

    /**
     * As {@link #take(Set)}, passing over (and leaving in the queue) the candidates {@code fits} refuses:
     * what else than labels decides whether this claimer may have an order.
     */
    Candidate take(Set<String> nodeLabels, java.util.function.Predicate<Candidate> fits) {
        for (Entry entry : queue) {
            if (!entry.runnableOn(nodeLabels)) {
                continue;
            }
            Candidate current = byId.get(entry.id());
            if (current == null) {
                // A leftover of an order no longer waiting: drop it, unless it was offered again meanwhile.
                if (queue.remove(entry) && byId.containsKey(entry.id())) {
                    queue.add(entry);
                }
                continue;
            }
            if (!fits.test(current)) {
                continue;
            }
            if (queue.remove(entry)) {
                Candidate candidate = drop(entry.id());
                if (candidate != null) {
                    return candidate;
                }
            }
        }
        return null;
    }

    /** Puts back a candidate whose claim could not be tried (the store was unreachable). */
    void restore(Candidate candidate) {
        if (byId.putIfAbsent(candidate.id(), candidate) == null) {
            count(candidate.entry(), 1);
            queue.add(candidate.entry());
        }
    }

    /** Keeps a candidate whose claim failed in a way that would repeat out of the queue until it changes. */
    void skip(Candidate candidate) {
        Candidate current = drop(candidate.id());
        if (current != null) {
            queue.remove(current.entry());
        }
        skipped.put(candidate.id(), candidate.revision());
    }

    /** Takes the order out of the queue: it is no longer unassigned (or no longer exists). */
    void remove(ObjectId id) {
        skipped.remove(id);
        Candidate candidate = drop(id);
        if (candidate != null) {
            queue.remove(candidate.entry());
        }
    }

    private Candidate drop(ObjectId id) {
        Candidate[] dropped = {null};
        byId.computeIfPresent(id, (key, candidate) -> {
            count(candidate.entry(), -1);
            dropped[0] = candidate;
            return null;
        });
        return dropped[0];
    }

    private void count(Entry entry, int delta) {
        rank(entry, delta);
        for (String label : entry.labels().isEmpty() ? Set.of(NO_LABEL) : entry.labels()) {
            labelCounts.compute(label, (l, count) -> {
                long now = (count == null ? 0 : count) + delta;
                if (count == null && now > 0) {
                    labelListeners.forEach(listener -> listener.needed(l));
                } else if (count != null && now == 0) {
                    labelListeners.forEach(listener -> listener.notNeeded(l));
                }
                return now == 0 ? null : now;
            });
        }
    }

    private void rank(Entry entry, int delta) {
        byLabels.compute(entry.labels(), (labels, group) -> {
            LabelGroup kept = group == null ? new LabelGroup(labels) : group;
            if (delta > 0) {
                kept.add(entry);
            } else {
                kept.remove(entry);
            }
            return kept.isEmpty() ? null : kept;
        });
    }

    /**
     * How many claimable orders a node with these labels would take before this one (those ahead of it
     * in claim order whose required labels the node has), or -1 when the order is not claimable here.
     * Costs a count per distinct set of required labels among the waiting orders, each O(log n).
     */
    long ahead(ObjectId id, Set<String> nodeLabels) {
        Candidate candidate = byId.get(id);
        if (candidate == null) {
            return -1;
        }
        long ahead = 0;
        for (Map.Entry<Set<String>, LabelGroup> group : byLabels.entrySet()) {
            if (nodeLabels.containsAll(group.getKey())) {
                ahead += group.getValue().rank(candidate.entry());
            }
        }
        return ahead;
    }

    /**
     * For every set of required labels a node with {@code nodeLabels} has: how many claimable orders need
     * it, and how many of those a slot with {@code gpuMemoryMiB} (null: no GPU) may take, as
     * {@link Entry#fitsGpuMemory} decides for a claim. A few counts per distinct set of required labels,
     * each O(log n); no order is visited.
     */
    List<LabelSetDemand> demand(Set<String> nodeLabels, Long gpuMemoryMiB) {
        List<LabelSetDemand> demand = new ArrayList<>();
        byLabels.forEach((labels, group) -> {
            if (nodeLabels.containsAll(labels)) {
                demand.add(group.demand(gpuMemoryMiB));
            }
        });
        return demand;
    }

    boolean contains(ObjectId id) {
        return byId.containsKey(id);
    }

    Candidate candidate(ObjectId id) {
        return byId.get(id);
    }

    int size() {
        return byId.size();
    }

    /** Claimable orders that require this label ({@link #NO_LABEL}: orders that require none). */
    long labelCount(String label) {
        return labelCounts.getOrDefault(label, 0L);
    }

    int skippedCount() {
        return skipped.size();
    }

    void onOffer(Runnable listener) {
        offerListeners.add(listener);
    }

    void onLabel(LabelListener listener) {
        labelListeners.add(listener);
    }

    Map<ObjectId, Candidate> snapshot() {
        return Map.copyOf(byId);
    }

    /**
     * The waiting orders that require one set of labels: all of them in claim order (a job's place), and
     * those that need GPU memory by how much they need (how many a slot of a given size cannot take).
     * Its own lock guards both trees.
     */
    private static final class LabelGroup {

        private static final Comparator<Entry> BY_GPU_MEMORY = Comparator.comparing(Entry::minGpuMemoryMiB)
                .thenComparing(CLAIM_ORDER);
        private static final ObjectId FIRST_ID = new ObjectId(new byte[12]);

        private final Set<String> labels;
        private final RankTree<Entry> inClaimOrder = new RankTree<>(CLAIM_ORDER);
        private final RankTree<Entry> byGpuMemory = new RankTree<>(BY_GPU_MEMORY);

        LabelGroup(Set<String> labels) {
            this.labels = labels;
        }

        synchronized void add(Entry entry) {
            if (inClaimOrder.add(entry) && entry.minGpuMemoryMiB() != null) {
                byGpuMemory.add(entry);
            }
        }

        synchronized void remove(Entry entry) {
            if (inClaimOrder.remove(entry) && entry.minGpuMemoryMiB() != null) {
                byGpuMemory.remove(entry);
            }
        }

        synchronized boolean isEmpty() {
            return inClaimOrder.isEmpty();
        }

        synchronized long rank(Entry entry) {
            return inClaimOrder.rank(entry);
        }

        synchronized LabelSetDemand demand(Long gpuMemoryMiB) {
            long all = inClaimOrder.size();
            long tooBig;
            if (gpuMemoryMiB == null) {
                tooBig = byGpuMemory.size();
            } else if (gpuMemoryMiB == Long.MAX_VALUE) {
                tooBig = 0;
            } else {
                tooBig = byGpuMemory.size() - byGpuMemory.rank(firstNeeding(gpuMemoryMiB + 1));
            }
            return new LabelSetDemand(labels, all, all - tooBig);
        }

        /** A key that sorts before every order needing {@code mib} or more, and after every order needing less. */
        private static Entry firstNeeding(long mib) {
            return new Entry(FIRST_ID, Integer.MAX_VALUE, Instant.MIN, Set.of(), null, mib);
        }
    }
}
