package com.maddatum.boss.order;

import com.maddatum.boss.config.BossProperties;
import com.maddatum.boss.web.ApiProblem;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.bson.Document;
import org.bson.types.ObjectId;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.stereotype.Service;

/**
 * The order verbs other packages use. Every change is one conditional write through
 * {@link OrderStore#apply}; its result is then mirrored into the in-memory {@link ReadyIndex} and
 * {@link LeaseTracker}, which only ever serve as hints for the next conditional write.
 */
@Service
public class OrderService {

    private static final Logger log = LoggerFactory.getLogger(OrderService.class);

    /** How a finished attempt ends the order. */
    public enum Verdict { DONE, FAILED, RETRY }

    private final OrderStore store;
    private final ReadyIndex ready;
    private final LeaseTracker leases;
    private final Clock clock;
    private final Duration lease;
    private final OrderMetrics metrics;

    OrderService(OrderStore store, ReadyIndex ready, LeaseTracker leases, Clock clock, BossProperties properties,
            OrderMetrics metrics) {
        this.store = store;
        this.ready = ready;
        this.leases = leases;
        this.clock = clock;
        this.lease = properties.lease().timeout();
        this.metrics = metrics;
    }

    public Order create(NewOrder spec) {
        Order order = store.insert(spec, clock.instant());
        metrics.seenLabels(order.requiredLabels());
        ready.offer(order);
        return order;
    }

    /**
     * Claims the best order this node can run: candidates come from the ready index in claim order,
     * and each is taken with a write conditional on {@code _id}, status and attempt. Losing that
     * write (another Boss replica claimed it, or it was cancelled) just moves on to the next one.
     */
    public Optional<Order> claim(String node, Set<String> nodeLabels) {
        long started = System.nanoTime();
        Optional<Order> claimed = claimFirst(node, nodeLabels);
        metrics.claim(Duration.ofNanos(System.nanoTime() - started), claimed.isPresent());
        return claimed;
    }

    private Optional<Order> claimFirst(String node, Set<String> nodeLabels) {
        ReadyIndex.Candidate candidate;
        while ((candidate = ready.take(nodeLabels)) != null) {
            Optional<Order> claimed;
            try {
                claimed = store.apply(candidate.id(),
                        OrderTransition.claim(node, candidate.attempt(), clock.instant(), lease));
            } catch (RuntimeException e) {
                ready.restore(candidate);
                throw e;
            }
            if (claimed.isPresent()) {
                Order order = claimed.get();
                leases.update(order);
                log.info("order claimed order={} job={} node={} attempt={}", order.id(), order.jobId(), node,
                        order.attempt());
                return claimed;
            }
            log.debug("stale ready candidate dropped order={}", candidate.id());
        }
        return Optional.empty();
    }

    /** A claimed order that never reached its worker goes back to the queue at once. */
    void release(Order order, String reason) {
        store.apply(order.id(), OrderTransition.requeue(order.assignedTo(), order.attempt(), clock.instant(), reason))
                .ifPresent(this::mirror);
    }

    /** Extends the lease (moving assigned to running on the first beat), or says why it cannot. */
    public Heartbeat heartbeat(ObjectId id, String node, int attempt, Document progress) {
        var now = clock.instant();
        Optional<Order> beat = store.apply(id, OrderTransition.heartbeat(node, attempt, now, lease, progress));
        if (beat.isEmpty()) {
            beat = store.apply(id, OrderTransition.start(node, attempt, now, lease, progress));
            beat.ifPresent(metrics::started);
        }
        if (beat.isPresent()) {
            mirror(beat.get());
            return new Heartbeat(beat.get(), false);
        }
        Order current = store.findById(id).orElseThrow(() -> ApiProblem.notFound("order", id.toHexString()));
        if (current.status() == OrderStatus.CANCELLED && current.attempt() == attempt) {
            return new Heartbeat(current, true);
        }
        throw ApiProblem.staleAttempt(describe(current, node, attempt));
    }

    /** The result of a heartbeat; {@code cancelRequested} tells the worker to stop the script. */
    public record Heartbeat(Order order, boolean cancelRequested) {}

    /**
     * Ends the attempt: done, failed (no retry: a script that reported an error would report it
     * again), or back to the queue for an infrastructure failure while attempts remain.
     * Empty when the order is not held by this attempt any more; the caller decides what that means.
     */
    public Optional<Order> finish(ObjectId id, String node, int attempt, Verdict verdict, ObjectId outcomeId,
            String reason) {
        var now = clock.instant();
        OrderTransition transition = switch (verdict) {
            case DONE -> OrderTransition.complete(node, attempt, outcomeId, now);
            case FAILED -> OrderTransition.fail(node, attempt, outcomeId, now, reason);
            case RETRY -> store.findById(id).filter(o -> o.attempt() >= o.maxAttempts()).isPresent()
                    ? OrderTransition.fail(node, attempt, null, now, reason + "; no attempts left")
                    : OrderTransition.requeue(node, attempt, now, reason);
        };
        Optional<Order> finished = store.apply(id, transition);
        finished.ifPresent(order -> {
            mirror(order);
            if (order.status() == OrderStatus.UNASSIGNED) {
                metrics.requeued(reason);
            } else {
                metrics.finished(order);
            }
            log.info("order finished order={} job={} node={} attempt={} status={}", order.id(), order.jobId(),
                    node, attempt, order.status().wire());
        });
        return finished;
    }

    /** Cancels the job's order wherever it is; a worker holding it hears so on its next heartbeat. */
    public Order cancel(String jobId, String reason) {
        Order order = store.findByJobId(jobId).orElseThrow(() -> ApiProblem.notFound("job", jobId));
        Optional<Order> cancelled = store.apply(order.id(), OrderTransition.cancel(clock.instant(), reason));
        if (cancelled.isEmpty()) {
            Order current = store.findById(order.id()).orElse(order);
            throw ApiProblem.conflict("The job's order is already " + current.status().wire() + ".");
        }
        ready.remove(order.id());
        mirror(cancelled.get());
        log.info("order cancelled order={} job={}", order.id(), jobId);
        return cancelled.get();
    }

    /** Re-queues or fails every order whose lease ran out; returns how many it moved. */
    int reapExpired() {
        var now = clock.instant();
        int moved = 0;
        for (Order expired : leases.expiredBy(now)) {
            Optional<Order> result = store.apply(expired.id(), OrderTransition.expire(expired, now));
            if (result.isPresent()) {
                moved++;
                metrics.leaseExpired();
                if (result.get().status() == OrderStatus.UNASSIGNED) {
                    metrics.requeued(result.get().reason());
                }
                log.warn("lease expired order={} job={} node={} attempt={} now={}", expired.id(), expired.jobId(),
                        expired.assignedTo(), expired.attempt(), result.get().status().wire());
                mirror(result.get());
            } else {
                // Extended by a heartbeat on another replica, or finished: refresh our copy.
                store.findById(expired.id()).ifPresent(this::mirror);
            }
        }
        return moved;
    }

    /** Mirrors the stored state into the in-memory indexes. */
    void mirror(Order order) {
        leases.update(order);
        if (order.status() == OrderStatus.UNASSIGNED) {
            metrics.seenLabels(order.requiredLabels());
            ready.offer(order);
        } else {
            ready.remove(order.id());
        }
    }

    public Optional<Order> findByJobId(String jobId) {
        return store.findByJobId(jobId);
    }

    public Optional<Order> findById(ObjectId id) {
        return store.findById(id);
    }

    public List<Order> page(String project, OrderStatus status, int page, int size) {
        return store.page(project, status, page, size);
    }

    public long count(String project, OrderStatus status) {
        return store.count(project, status);
    }

    public List<String> projects() {
        return store.projects();
    }

    /** Orders by status (wire names), for the dashboard's queue panel. */
    public Map<String, Long> queueCounts() {
        Map<String, Long> counts = new java.util.LinkedHashMap<>();
        metrics.counts().forEach((status, n) -> counts.put(status.wire(), n));
        return counts;
    }

    /** node name -> the orders it holds right now. */
    public Map<String, List<Order>> heldByNode() {
        return leases.byNode();
    }

    public static String describe(Order current, String node, int attempt) {
        return "Order " + current.id().toHexString() + " is " + current.status().wire() + " at attempt " + current.attempt()
                + (current.assignedTo() == null ? "" : " on node " + current.assignedTo())
                + "; this request is for attempt " + attempt + (node == null ? "" : " on node " + node) + ".";
    }
}
