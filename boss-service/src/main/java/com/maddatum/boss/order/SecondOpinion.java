package com.maddatum.boss.order;

import com.maddatum.boss.order.Order.Failure;
import com.maddatum.boss.order.Order.HistoryEntry;
import java.util.HashSet;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.bson.types.ObjectId;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Where an order that already failed should go next, and what a script failure means. Without it a
 * broken Worker that claims fastest burns every attempt of the same order, and a script that fails
 * everywhere is retried on every Worker.
 *
 * <ul>
 *   <li>An order avoids the nodes where an attempt of it failed, as long as another live node that could
 *       run it exists ({@link #avoids}).
 *   <li>A script failure (status 500 or more) with attempts left, when another node could run the order,
 *       is re-queued once for a second opinion instead of failed ({@link Call#ASK_ANOTHER}).
 *   <li>A script failure with the same status and error type as one on another node is the job's fault:
 *       the order fails at once and no node is blamed ({@link Call#JOBS_FAULT}).
 * </ul>
 *
 * With a single Worker nothing changes: script failures fail at once, hand-backs retry on it.
 */
final class SecondOpinion {

    private static final Logger log = LoggerFactory.getLogger(SecondOpinion.class);
    /** Orders waiting after a failure are few; this only bounds memory against a pathological queue. */
    static final int MAX_REMEMBERED = 100_000;

    enum Call { FAIL, ASK_ANOTHER, JOBS_FAULT }

    /** The call on a script failure; {@code sameOn} names the node where it failed the same way before. */
    record Judgement(Call call, String sameOn) {}

    /** What a waiting order avoids: each node it failed on, with when it last failed there. */
    private record Known(long revision, java.util.Map<String, java.time.Instant> lastFailureOn) {

        Set<String> failedOn() {
            return lastFailureOn.keySet();
        }
    }

    private static final Known NONE = new Known(-1, java.util.Map.of());

    private final OrderStore store;
    private final Fleet fleet;
    /** The nodes each waiting, once-failed order avoids, by the revision they were read at. */
    private final ConcurrentHashMap<ObjectId, Known> failedOn = new ConcurrentHashMap<>();

    private final java.time.Clock clock;
    private final java.time.Duration avoidFor;

    SecondOpinion(OrderStore store, Fleet fleet, java.time.Clock clock, java.time.Duration avoidFor) {
        this.store = store;
        this.fleet = fleet;
        this.clock = clock;
        this.avoidFor = avoidFor;
    }

    /**
     * For one claim by {@code node}: whether it should pass a waiting order by. It should when it failed an
     * attempt of the order less than {@code boss.fleet.avoid-for} ago and some other node could run it. An
     * order never attempted is answered without looking anything up, and "could another node run it" (a
     * walk of the live nodes) is asked once per kind of order in a claim, however many such orders wait.
     */
    java.util.function.Predicate<ReadyIndex.Candidate> avoidedBy(String node) {
        java.time.Instant now = clock.instant();
        java.util.Map<java.util.List<Object>, Boolean> anotherCanRun = new java.util.HashMap<>();
        return candidate -> {
            if (candidate.attempt() == 0) {
                return false;
            }
            Known known = known(candidate);
            java.time.Instant failedHere = known.lastFailureOn().get(node);
            if (failedHere == null || java.time.Duration.between(failedHere, now).compareTo(avoidFor) >= 0) {
                return false;
            }
            ReadyIndex.Entry entry = candidate.entry();
            java.util.List<Object> kind = java.util.Arrays.asList(entry.labels(), entry.minGpuMemoryMiB(), known.failedOn());
            return anotherCanRun.computeIfAbsent(kind,
                    k -> fleet.anotherCanRun(entry.labels(), entry.minGpuMemoryMiB(), known.failedOn()));
        };
    }

    private Known known(ReadyIndex.Candidate candidate) {
        Known known = failedOn.get(candidate.id());
        if (known != null && known.revision() == candidate.revision()) {
            return known;
        }
        try {
            // Requeued by another replica, or by this one before a restart: read once per revision.
            return store.findById(candidate.id()).map(this::remember).orElse(NONE);
        } catch (RuntimeException e) {
            // Advice only: a claim must not fail because the history could not be read.
            log.debug("failed nodes not read order={} error={}", candidate.id(), e.toString());
            return NONE;
        }
    }

    /** Keeps what an order that now waits again must avoid, and since when. */
    Known remember(Order order) {
        java.util.Map<String, java.time.Instant> failed = java.util.Map.copyOf(order.lastFailureOn());
        if (failed.isEmpty()) {
            failedOn.remove(order.id());
            return NONE;
        }
        if (failedOn.size() >= MAX_REMEMBERED) {
            failedOn.clear();
        }
        Known known = new Known(order.revision(), failed);
        failedOn.put(order.id(), known);
        return known;
    }

    void forget(ObjectId id) {
        failedOn.remove(id);
    }

    /** What a script failure of {@code status} and {@code type} on {@code node} means for {@code current}. */
    Judgement judge(Order current, String node, int status, String type, boolean mayAskAnother) {
        Judgement judgement = judge(current, node, status, type, fleet);
        return judgement.call() == Call.ASK_ANOTHER && !mayAskAnother ? new Judgement(Call.FAIL, null) : judgement;
    }

    static Judgement judge(Order current, String node, int status, String type, Fleet fleet) {
        if (node == null || status < 500) {
            return new Judgement(Call.FAIL, null);
        }
        boolean askedBefore = false;
        for (HistoryEntry entry : current.history()) {
            Failure failure = entry.failure();
            if (failure == null || failure.kind() != Failure.Kind.SCRIPT || entry.node() == null) {
                continue;
            }
            if (entry.node().equals(node)) {
                // The same node again (its avoidance ran out while the other nodes were busy): no opinion
                // was given yet, so one is still to be asked, while attempts last.
                continue;
            }
            if (Objects.equals(failure.status(), status) && Objects.equals(failure.type(), type)) {
                return new Judgement(Call.JOBS_FAULT, entry.node());
            }
            askedBefore = true;
        }
        if (askedBefore || current.attempt() >= current.maxAttempts()) {
            return new Judgement(Call.FAIL, null);
        }
        Set<String> excluded = new HashSet<>(current.failedOn());
        excluded.add(node);
        return fleet.anotherCanRun(Set.copyOf(current.requiredLabels()), current.minGpuMemoryMiB(), excluded)
                ? new Judgement(Call.ASK_ANOTHER, null) : new Judgement(Call.FAIL, null);
    }
}
