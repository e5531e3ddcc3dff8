package com.maddatum.boss.order;

import com.maddatum.boss.config.BossProperties;
import com.maddatum.boss.store.StoreFailures;
import com.maddatum.boss.web.ApiProblem;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import java.util.Set;
import java.util.function.Function;
import org.bson.Document;
import org.bson.types.ObjectId;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.stereotype.Service;

/**
 * The order verbs other packages use. Every change is one conditional write through
 * {@link OrderStore#apply}, and whatever the store holds afterwards (changed by us, or found changed
 * by someone else) goes through {@link OrderMirror#apply} into memory. When a write fails in a way
 * that leaves its effect unknown (the store applied it, then the commit or the answer failed), the
 * order is read again by id and that state is mirrored before the failure is passed on, so memory
 * never misses a write that landed.
 */
@Service
public class OrderService {

    private static final Logger log = LoggerFactory.getLogger(OrderService.class);

    /** How a finished attempt ends the order. */
    public enum Verdict { DONE, FAILED, RETRY }

    private final OrderStore store;
    private final OrderMirror mirror;
    private final ReadyIndex ready;
    private final LeaseTracker leases;
    private final Clock clock;
    private final BossProperties.Lease lease;
    private final OrderMetrics metrics;
    private final Fleet fleet;
    private final SecondOpinion opinions;

    OrderService(OrderStore store, OrderMirror mirror, ReadyIndex ready, LeaseTracker leases, Clock clock,
            BossProperties properties, OrderMetrics metrics, Fleet fleet) {
        this.store = store;
        this.mirror = mirror;
        this.ready = ready;
        this.leases = leases;
        this.clock = clock;
        this.lease = properties.lease();
        this.metrics = metrics;
        this.fleet = fleet;
        this.opinions = new SecondOpinion(store, fleet, clock, properties.fleet().avoidFor());
    }

    public Order create(NewOrder spec) {
        ObjectId id = new ObjectId();
        try {
            Order order = store.insert(id, spec, clock.instant());
            mirror.apply(order);
            return order;
        } catch (RuntimeException e) {
            refresh(id, e);
            throw e;
        }
    }

    /**
     * Claims the best order this node can run: candidates come from the ready index in claim order,
     * and each is taken with a write conditional on its revision. Losing that write (another Boss
     * replica claimed it, or it was cancelled) just moves on to the next one.
     *
     * @param heartbeats whether the claimer will heartbeat; one that will not (the seed's worker) gets
     *     the job's own time limit plus the lease, or {@code boss.lease.seed-timeout}, as its lease
     */
    public Optional<Order> claim(String node, Set<String> nodeLabels, boolean heartbeats) {
        return claim(Claimer.of(node, nodeLabels, heartbeats));
    }

    /**
     * As {@link #claim(String, Set, boolean)}, for a claimer that may say more about itself. A drained or
     * quarantined node gets nothing; one drained while it claimed gives the order straight back.
     */
    public Optional<Order> claim(Claimer claimer) {
        long started = System.nanoTime();
        Optional<Order> claimed = fleet.mayClaim(claimer.node())
                ? claimFirst(claimer).flatMap(order -> keptBy(claimer.node(), order)) : Optional.empty();
        metrics.claim(Duration.ofNanos(System.nanoTime() - started), claimed.isPresent());
        return claimed;
    }

    /**
     * A drain that lands while a claim is under way must not leave the node with new work: checked once
     * more after the claim, and the order released if the node may no longer have it.
     */
    private Optional<Order> keptBy(String node, Order order) {
        opinions.forget(order.id());
        if (fleet.stillMayClaim(node)) {
            return Optional.of(order);
        }
        log.info("claim given back: the node was drained or quarantined while it claimed order={} node={}",
                order.id(), node);
        release(order, "node " + node + " was drained or quarantined while it claimed");
        return Optional.empty();
    }

    /**
     * Whether this waiting order may go to this claimer, beyond its labels (which the ready index
     * matches itself). Asked for every candidate the claimer's labels match, so it must be cheap: an
     * order that never failed is answered without looking anything up. An order that needs GPU memory goes
     * only to a slot that said it has that much; one that did not say (the seed's worker, a CPU slot) never
     * gets it. A refused order keeps its place for the next claimer.
     */
    private static boolean fits(Claimer claimer, ReadyIndex.Candidate candidate,
            java.util.function.Predicate<ReadyIndex.Candidate> avoided) {
        return candidate.entry().fitsGpuMemory(claimer.gpuMemoryMiB()) && !avoided.test(candidate);
    }

    private Optional<Order> claimFirst(Claimer claimer) {
        String node = claimer.node();
        boolean heartbeats = claimer.heartbeats();
        ReadyIndex.Candidate candidate;
        boolean skippedOne = false;
        java.util.function.Predicate<ReadyIndex.Candidate> avoided = opinions.avoidedBy(node);
        while ((candidate = ready.take(claimer.labels(), c -> fits(claimer, c, avoided))) != null) {
            OrderStore.Result result;
            try {
                result = store.apply(candidate.id(), OrderTransition.claim(node, candidate.attempt(),
                        clock.instant(), leaseFor(candidate, heartbeats), !heartbeats));
            } catch (RuntimeException e) {
                if (StoreFailures.isStoreFailure(e)) {
                    // The store or the network failed, not this order: it stays claimable, the caller hears 5xx.
                    ready.restore(candidate);
                    refresh(candidate.id(), e);
                    throw e;
                }
                if (changedSince(candidate, e)) {
                    throw e; // our write landed (its commit failed): it is mirrored now, and reaped if nobody runs it
                }
                if (skippedOne) {
                    // A second one in the same claim looks less like one bad document than like a fault of
                    // ours: keep it claimable and say so, rather than drain the queue.
                    ready.restore(candidate);
                    throw e;
                }
                skip(candidate, e);
                skippedOne = true;
                continue;
            }
            reflect(candidate.id(), result.current());
            if (result.applied()) {
                Order order = result.current();
                log.info("order claimed order={} job={} node={} attempt={} heartbeats={}", order.id(), order.jobId(),
                        node, order.attempt(), heartbeats);
                return Optional.of(order);
            }
            log.debug("stale ready candidate dropped order={}", candidate.id());
        }
        return Optional.empty();
    }

    private Duration leaseFor(ReadyIndex.Candidate candidate, boolean heartbeats) {
        if (heartbeats) {
            return lease.timeout();
        }
        Double seconds = candidate.entry().timeoutSeconds();
        return seconds == null ? lease.seedTimeout()
                : Duration.ofMillis((long) Math.min(seconds * 1000, Long.MAX_VALUE / 4)).plus(lease.timeout());
    }

    /**
     * Re-reads the candidate after its claim threw for a reason of its own: true when the order is no
     * longer as it was taken (the write landed). An order that cannot even be read again is unchanged.
     */
    private boolean changedSince(ReadyIndex.Candidate candidate, RuntimeException failure) {
        try {
            Optional<Order> now = store.findById(candidate.id());
            now.ifPresentOrElse(mirror::apply, () -> mirror.forget(candidate.id()));
            return now.isEmpty() || now.get().revision() != candidate.revision();
        } catch (RuntimeException unreadable) {
            if (StoreFailures.isStoreFailure(unreadable)) {
                ready.restore(candidate); // nothing is known about our write: keep the order claimable
                throw unreadable;
            }
            if (unreadable != failure) {
                // The JVM may throw the very same instance again (a hot ClassCastException loses its stack
                // and is reused), and an exception cannot suppress itself.
                failure.addSuppressed(unreadable);
            }
            return false;
        }
    }

    /**
     * A claim that failed for a reason that would fail it again (a document this Boss cannot read or
     * write) must not make every {@code /bored} answer 500: the order leaves the queue until it
     * changes, and that is logged once and counted.
     */
    private void skip(ReadyIndex.Candidate candidate, RuntimeException e) {
        ready.skip(candidate);
        metrics.claimSkipped();
        log.error("order skipped: claiming it failed and would fail again order={} revision={} error={}",
                candidate.id(), candidate.revision(), e.toString());
    }

    /** A claimed order that never reached its worker goes back to the queue at once, with its attempt back. */
    public void release(Order order, String reason) {
        write(order.id(), current -> OrderTransition.unclaim(order.assignedTo(), order.attempt(), clock.instant(),
                reason));
    }

    /**
     * Puts back a claim its Worker never heard of (see {@link OrderTransition#unheard}); false when the order
     * is no longer assigned, unstarted, to that node at that attempt (it was started, or moved on).
     */
    public boolean releaseUnheard(ObjectId id, String node, int attempt, String reason) {
        boolean released = write(id, current -> OrderTransition.unheard(node, attempt, clock.instant(), reason))
                .applied();
        if (released) {
            metrics.requeued(reason);
            log.info("unheard claim released order={} node={} attempt={}", id, node, attempt);
        }
        return released;
    }

    /** Extends the lease (moving assigned to running on the first beat), or says why it cannot. */
    public Heartbeat heartbeat(ObjectId id, String node, int attempt, Document progress) {
        var now = clock.instant();
        boolean[] starting = {false};
        OrderStore.Result beat = write(id, current -> {
            starting[0] = current.status() == OrderStatus.ASSIGNED;
            return starting[0] ? OrderTransition.start(node, attempt, now, lease.timeout(), progress)
                    : OrderTransition.heartbeat(node, attempt, now, lease.timeout(), progress);
        });
        Order current = beat.current();
        if (current == null) {
            throw ApiProblem.notFound("order", id.toHexString());
        }
        if (beat.applied()) {
            if (starting[0]) {
                metrics.started(current);
            }
            return new Heartbeat(current, false);
        }
        if (current.status() == OrderStatus.CANCELLED && current.attempt() == attempt) {
            return new Heartbeat(current, true);
        }
        throw ApiProblem.staleAttempt(describe(current, node, attempt));
    }

    /** The result of a heartbeat; {@code cancelRequested} tells the worker to stop the script. */
    public record Heartbeat(Order order, boolean cancelRequested) {}

    /**
     * How an attempt ended, as a callback reports it: the verdict, and the reported status and error,
     * which the fleet's second opinion and quarantine read. {@code storedBefore}: the outcome was stored by
     * an earlier call whose Boss died before the order moved; the order then ends as that outcome says (it
     * is the job's outcome), with no second opinion.
     */
    public record Ending(Verdict verdict, ObjectId outcomeId, String reason, Double loss, int status,
            String errorType, String errorMessage, boolean storedBefore, Instant startedAt) {

        public Ending(Verdict verdict, ObjectId outcomeId, String reason, Double loss, int status,
                String errorType, String errorMessage, boolean storedBefore) {
            this(verdict, outcomeId, reason, loss, status, errorType, errorMessage, storedBefore, null);
        }

        public Ending(Verdict verdict, ObjectId outcomeId, String reason, Double loss) {
            // 0: no status reported, so no node is blamed and no second opinion is asked.
            this(verdict, outcomeId, reason, loss, verdict == Verdict.DONE ? 200 : 0, null, null, false);
        }

        /**
         * When the attempt's script started, for an order that never heard a heartbeat (a job shorter than the
         * Worker's first beat sends none): as its Worker reported it, kept between this attempt's claim (the
         * order's creation when its history lacks it) and now, since it is another machine's clock; null when it
         * reported none.
         */
        Instant startedFor(Order order, Instant now) {
            if (startedAt == null || order.startedAt() != null) {
                return null;
            }
            Instant start = startedAt.isAfter(now) ? now : startedAt;
            Instant earliest = order.claimedAt() != null ? order.claimedAt() : order.createdDate();
            if (earliest != null && earliest.isAfter(now)) {
                earliest = now; // the claim's replica's clock ahead of this one's: never a start after the end
            }
            return earliest != null && start.isBefore(earliest) ? earliest : start;
        }
    }

    /**
     * Ends the attempt: done, failed (no retry: a script that reported an error would report it
     * again), or back to the queue for an infrastructure failure while attempts remain. With
     * {@code bare} the attempt must be one a bare callback may end (see {@link Order#acceptsBareCallback}).
     * Empty when the order is not held by this attempt any more; the caller decides what that means.
     */
    public Optional<Order> finish(ObjectId id, String node, int attempt, Ending ending, boolean bare) {
        var now = clock.instant();
        SecondOpinion.Judgement[] judged = {null};
        boolean[] startedHere = {false};
        OrderStore.Result result = write(id, current -> {
            judged[0] = null;
            OrderTransition transition = switch (ending.verdict()) {
                case DONE -> OrderTransition.complete(node, attempt, ending.outcomeId(), now, ending.loss());
                case FAILED -> {
                    judged[0] = opinions.judge(current, node, ending.status(), ending.errorType(),
                            !ending.storedBefore());
                    yield scriptFailed(node, attempt, ending, now, judged[0]);
                }
                case RETRY -> current.attempt() >= current.maxAttempts()
                        ? OrderTransition.fail(node, attempt, null, now, ending.reason() + "; no attempts left",
                                handBack(ending))
                        : OrderTransition.requeue(node, attempt, now, ending.reason(), handBack(ending));
            };
            Instant started = transition.to().isTerminal() ? ending.startedFor(current, now) : null;
            startedHere[0] = started != null;
            if (started != null) {
                transition = transition.alsoStarted(started);
            }
            return bare ? transition.onlyForBareCallback(node == null) : transition;
        });
        Optional<Order> finished = result.changed();
        finished.ifPresent(order -> {
            if (order.status() == OrderStatus.UNASSIGNED) {
                metrics.requeued(ending.reason());
                opinions.remember(order);
            } else {
                if (startedHere[0]) {
                    metrics.started(order); // no heartbeat started it: its dispatch latency is known only now
                }
                metrics.finished(order);
            }
            log.info("order finished order={} job={} node={} attempt={} status={}", order.id(), order.jobId(),
                    node, attempt, order.status().wire());
            tellFleet(order, node, attempt, ending, judged[0], now);
        });
        return finished;
    }

    /** A script's own failure: failed, or back to the queue once for another node's opinion. */
    private static OrderTransition scriptFailed(String node, int attempt, Ending ending, java.time.Instant now,
            SecondOpinion.Judgement judgement) {
        Order.Failure failure = ending.status() >= 500
                ? new Order.Failure(Order.Failure.Kind.SCRIPT, ending.status(), ending.errorType()) : null;
        return switch (judgement.call()) {
            case ASK_ANOTHER -> OrderTransition.requeue(node, attempt, now, ending.reason()
                    + "; re-queued once for a second opinion on another Worker", failure);
            case JOBS_FAULT -> OrderTransition.fail(node, attempt, ending.outcomeId(), now, ending.reason()
                    + "; it failed the same way on node " + judgement.sameOn()
                    + ": the job's fault, not a Worker's, so it is not retried", failure);
            case FAIL -> OrderTransition.fail(node, attempt, ending.outcomeId(), now, ending.reason(), failure);
        };
    }

    /**
     * A hand-back blames the machine, unless the Worker stopped on purpose or the Boss was the cause: a
     * rolling deploy must never count against anyone (the Worker's {@code WorkerShutdown}, or
     * {@code NotStarted} because it shut down), and neither may a Boss restart or a store election that made
     * every Worker claiming at that moment fail to fetch its job ({@code JobNotFetched}): that would
     * quarantine a healthy fleet at once. Nor does an order a slot gave back unrun because a GPU check
     * changed its GPU while it waited ({@code SlotChanged}): the check has already dealt with that GPU.
     */
    static Order.Failure handBack(Ending ending) {
        String type = ending.errorType();
        boolean stopped = "WorkerShutdown".equals(type) || "JobNotFetched".equals(type) || "SlotChanged".equals(type)
                || ("NotStarted".equals(type)
                && ending.errorMessage() != null && ending.errorMessage().contains("SHUTDOWN"));
        return new Order.Failure(stopped ? Order.Failure.Kind.STOPPED : Order.Failure.Kind.INFRASTRUCTURE,
                ending.status(), type);
    }

    /** Tells the fleet how this attempt ended, by the failure its history line recorded. */
    private void tellFleet(Order order, String node, int attempt, Ending ending, SecondOpinion.Judgement judgement,
            java.time.Instant now) {
        if (node == null) {
            return; // a result nobody can attribute is held against nobody
        }
        Order.HistoryEntry last = order.history().isEmpty() ? null : order.history().get(order.history().size() - 1);
        Order.Failure failure = last == null ? null : last.failure();
        AttemptEnding.Kind kind;
        Set<String> confirms = Set.of();
        Set<String> excuses = Set.of();
        if (order.status() == OrderStatus.DONE) {
            kind = AttemptEnding.Kind.DONE;
            confirms = scriptFailuresElsewhere(order, node);
        } else if (failure == null || failure.kind() == Order.Failure.Kind.STOPPED) {
            return;
        } else if (failure.kind() == Order.Failure.Kind.SCRIPT) {
            boolean jobsFault = judgement != null && judgement.call() == SecondOpinion.Call.JOBS_FAULT;
            kind = jobsFault ? AttemptEnding.Kind.JOBS_FAULT : AttemptEnding.Kind.SCRIPT;
            excuses = jobsFault ? Set.of(judgement.sameOn()) : Set.of();
        } else {
            kind = AttemptEnding.Kind.INFRASTRUCTURE;
        }
        tell(new AttemptEnding(kind, node, order.id(), order.jobId(), attempt, ending.status(), ending.errorType(),
                ending.errorMessage() != null ? ending.errorMessage() : ending.reason(), now, confirms, excuses));
    }

    private static Set<String> scriptFailuresElsewhere(Order order, String node) {
        Set<String> nodes = new java.util.HashSet<>();
        for (Order.HistoryEntry entry : order.history()) {
            if (entry.failure() != null && entry.failure().kind() == Order.Failure.Kind.SCRIPT && entry.node() != null
                    && !entry.node().equals(node)) {
                nodes.add(entry.node());
            }
        }
        return nodes;
    }

    private void tell(AttemptEnding ending) {
        try {
            fleet.ended(ending);
        } catch (RuntimeException e) {
            // The order has moved; a lost ending only delays a quarantine.
            log.warn("attempt ending not recorded node={} order={} error={}", ending.node(), ending.orderId(),
                    e.toString());
        }
    }

    /** Cancels the job's order wherever it is; a worker holding it hears so on its next heartbeat. */
    public Order cancel(String jobId, String reason) {
        Order order = store.findByJobId(jobId).orElseThrow(() -> ApiProblem.notFound("job", jobId));
        OrderStore.Result result = write(order.id(), current -> OrderTransition.cancel(clock.instant(), reason));
        if (!result.applied()) {
            String state = result.current() == null ? "gone" : result.current().status().wire();
            throw ApiProblem.conflict("The job's order is already " + state + ".");
        }
        log.info("order cancelled order={} job={}", order.id(), jobId);
        return result.current();
    }

    /** Re-queues or fails every order whose lease ran out; returns how many it moved. */
    int reapExpired() {
        var now = clock.instant();
        int moved = 0;
        for (Order expired : leases.expiredBy(now)) {
            OrderStore.Result result = write(expired.id(), current -> OrderTransition.expire(current, now));
            if (result.applied()) {
                moved++;
                metrics.leaseExpired();
                if (result.current().status() == OrderStatus.UNASSIGNED) {
                    metrics.requeued(result.current().reason());
                    opinions.remember(result.current());
                }
                log.warn("lease expired order={} job={} node={} attempt={} now={}", expired.id(), expired.jobId(),
                        expired.assignedTo(), expired.attempt(), result.current().status().wire());
                if (expired.assignedTo() != null) {
                    tell(new AttemptEnding(AttemptEnding.Kind.LEASE_EXPIRED, expired.assignedTo(), expired.id(),
                            expired.jobId(), expired.attempt(), null, "LeaseExpired", result.current().reason(), now,
                            Set.of(), Set.of()));
                }
            }
        }
        return moved;
    }

    /** One conditional write, mirrored whatever its outcome; re-read and mirrored when it threw. */
    private OrderStore.Result write(ObjectId id, Function<Order, OrderTransition> choose) {
        OrderStore.Result result;
        try {
            result = store.apply(id, choose);
        } catch (RuntimeException e) {
            refresh(id, e);
            throw e;
        }
        reflect(id, result.current());
        return result;
    }

    private void reflect(ObjectId id, Order current) {
        if (current == null) {
            mirror.forget(id);
        } else {
            mirror.apply(current);
        }
    }

    /** After a failed write: whatever the store now holds is what memory must hold. */
    private void refresh(ObjectId id, RuntimeException failure) {
        try {
            reflect(id, store.findById(id).orElse(null));
        } catch (RuntimeException unreadable) {
            if (unreadable != failure) {
                // The JVM may throw the very same instance again (a hot ClassCastException loses its stack
                // and is reused), and an exception cannot suppress itself.
                failure.addSuppressed(unreadable);
            }
            log.warn("order not re-read after a failed write order={} error={}", id, unreadable.toString());
        }
    }

    public static String describe(Order current, String node, int attempt) {
        return "Order " + current.id().toHexString() + " is " + current.status().wire() + " at attempt " + current.attempt()
                + (current.assignedTo() == null ? "" : " on node " + current.assignedTo())
                + "; this request is for attempt " + attempt + (node == null ? "" : " on node " + node) + ".";
    }
}
