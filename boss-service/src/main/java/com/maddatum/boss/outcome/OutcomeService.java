package com.maddatum.boss.outcome;

import com.maddatum.boss.artifact.ArtifactIntake;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.maddatum.boss.job.JobStore;
import com.maddatum.boss.log.LogIntake;
import com.maddatum.boss.order.Order;
import com.maddatum.boss.order.OrderQueries;
import com.maddatum.boss.order.OrderService;
import com.maddatum.boss.order.OrderService.Ending;
import com.maddatum.boss.order.OrderService.Verdict;
import com.maddatum.boss.order.OrderStatus;
import com.maddatum.boss.order.OrderView;
import com.maddatum.boss.security.NodeAccess;
import com.maddatum.boss.web.ApiProblem;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Clock;
import java.util.Optional;
import org.bson.Document;
import org.bson.types.ObjectId;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.stereotype.Service;

/**
 * Records what a worker reports. The outcome is written first, keyed by (order, attempt), and only
 * then is the order moved, pointing at it: so an order is never done without a readable outcome, and
 * a repeat of the callback (the worker did not hear our answer, or we died in between) finds the
 * outcome already there and finishes the move. An outcome whose attempt lost the order meanwhile stays
 * in the store unreferenced; the job's outcome is always the one its order points at.
 *
 * <p>The seed's bare callback ({@code status, jobId, loss, metric}, no attempt) can only end an attempt
 * claimed by a worker that does not heartbeat and has not started it ({@link Order#acceptsBareCallback});
 * it is recorded under that attempt's node only when that is known: the caller's token is bound to that
 * node alone, or that node is the only one that ever held the order that way. Otherwise it is recorded
 * under no node, and no node is credited with the job.
 */
@Service
public class OutcomeService {

    private static final Logger log = LoggerFactory.getLogger(OutcomeService.class);

    private final OutcomeStore outcomes;
    private final JobStore jobs;
    private final OrderService orders;
    private final OrderQueries orderReads;
    private final NodeAccess nodes;
    private final Clock clock;
    private final MeterRegistry meters;
    private final ArtifactIntake artifacts;
    private final LogIntake logIntake;

    OutcomeService(OutcomeStore outcomes, JobStore jobs, OrderService orders, OrderQueries orderReads, NodeAccess nodes,
            Clock clock, MeterRegistry meters, ArtifactIntake artifacts, LogIntake logIntake) {
        this.logIntake = logIntake;
        this.outcomes = outcomes;
        this.jobs = jobs;
        this.orders = orders;
        this.orderReads = orderReads;
        this.nodes = nodes;
        this.clock = clock;
        this.meters = meters;
        this.artifacts = artifacts;
    }

    /**
     * The answer to a callback: where the order stands and which outcome (if any) holds the report; with
     * {@code ?next=true}, the next order claimed for the Worker ({@code next}, absent when there is none).
     */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record Recorded(String orderId, String orderStatus, String outcomeId, boolean duplicate, OrderView next) {

        public Recorded(String orderId, String orderStatus, String outcomeId, boolean duplicate) {
            this(orderId, orderStatus, outcomeId, duplicate, null);
        }

        Recorded withNext(OrderView order) {
            return new Recorded(orderId, orderStatus, outcomeId, duplicate, order);
        }
    }

    Recorded record(OutcomeReport report) {
        return record(report, null);
    }

    /**
     * Records the report; {@code logs}, the run's last lines sent with it, are appended to the order's log once
     * the report moved the order: a stale, refused or repeated callback's lines are dropped, so two calls of one
     * report racing each other append them once.
     */
    Recorded record(OutcomeReport report, String logs) {
        Order order = resolve(report);
        boolean bare = report.attempt() == null;
        int attempt = bare ? order.attempt() : report.attempt();
        // A bare callback names no node: a token bound to one node says who sent it; otherwise the holder,
        // unless several seed workers held the order, when nobody can tell and none is named.
        String node = bare ? nodes.soleNode().orElse(order.bareCallbackNode()) : report.node();
        nodes.require(bare || node == null ? order.assignedTo() : node);
        if (!heldBy(order, attempt, node, bare)) {
            return repeated(report, attempt, order.id(), bare);
        }
        Verdict verdict = report.status() == 200 ? Verdict.DONE : report.retryable() ? Verdict.RETRY : Verdict.FAILED;
        // A hand-back stores nothing, unless this attempt's outcome is stored already (see below).
        ObjectId fresh = new ObjectId();
        Document built = verdict == Verdict.RETRY ? null : report.toDocument(fresh, order.id(), order.jobId(), attempt,
                node, order.projectName(), clock.instant(), withSeed(report.manifest(), order.jobId()));
        OutcomeStore.Saved saved = verdict == Verdict.RETRY ? outcomes.standing(order.id(), attempt).orElse(null)
                : outcomes.save(built);
        String reason = report.reason();
        if (saved != null) {
            // A repeat whose first call stored its outcome but died before the order moved: the stored
            // outcome stands, and the order ends as that outcome says, not as the repeat does.
            verdict = saved.ok() ? Verdict.DONE : Verdict.FAILED;
            reason = saved.reason();
        }
        ObjectId outcomeId = saved == null ? null : saved.id();
        Document error = report.error();
        Optional<Order> finished = orders.finish(order.id(), node, attempt,
                new Ending(verdict, outcomeId, reason, saved == null ? null : saved.loss(),
                        saved == null ? report.status() : saved.status(),
                        error == null ? null : error.getString("type"), error == null ? null : error.getString("message"),
                        saved != null && !saved.id().equals(fresh), report.startedAt()),
                bare);
        if (finished.isEmpty()) {
            return repeated(report, attempt, order.id(), bare);
        }
        Order done = finished.get();
        appendLastLines(order, attempt, bare || node == null ? null : logs);
        attachArtifacts(done, saved != null && saved.id().equals(fresh) ? built : null);
        meters.counter("boss.outcomes", "status", Integer.toString(saved == null ? report.status() : saved.status()))
                .increment();
        return new Recorded(done.id().toHexString(), done.status().wire(),
                outcomeId == null ? null : outcomeId.toHexString(), false);
    }

    /**
     * The run's last lines, after its outcome is stored and its order moved. Logs are best effort (they were
     * before, on their own route): a failure to keep them is logged and never fails the callback, whose outcome
     * is already stored and whose repeat would drop them anyway.
     */
    private void appendLastLines(Order order, int attempt, String logs) {
        if (logs == null || logs.isEmpty()) {
            return;
        }
        try {
            logIntake.append(order, attempt, logs);
        } catch (RuntimeException e) {
            log.warn("last log lines of a callback not kept order={} attempt={} chars={} error={}", order.id(), attempt,
                    logs.length(), e.toString());
        }
    }

    /**
     * Attaches to the job the artifacts of the outcome the order ended with: the attempt that won the order,
     * as stored first (a repeat does not replace it). An order re-queued for another attempt points at no
     * outcome, so a failed attempt's files never stand in for the next one's. {@code stored} is that outcome
     * when this call wrote it; otherwise it is read.
     */
    private void attachArtifacts(Order order, Document stored) {
        if (!order.status().isTerminal() || order.outcomeId() == null) {
            return;
        }
        Document outcome = stored != null ? stored : outcomes.findById(order.outcomeId()).orElse(null);
        if (outcome == null || (outcome.get("artifacts") == null && outcome.get("skippedArtifacts") == null)) {
            return;
        }
        boolean ok = outcome.get("status") instanceof Number status && status.intValue() == 200;
        Double loss = ok && outcome.get("loss") instanceof Number n ? n.doubleValue() : null;
        artifacts.accept(new ArtifactIntake.Delivery(order.jobId(), order.projectName(), order.outcomeId(), loss,
                outcome.get("artifacts"), outcome.get("skippedArtifacts")));
    }

    /**
     * The manifest with the job's seed, for a worker that did not record it (the seed's Node worker sends no
     * manifest at all): the Boss chose or stored the seed, so it can say which one the script was given.
     */
    private Document withSeed(Document manifest, String jobId) {
        if (manifest != null && manifest.get("seed") != null) {
            return manifest;
        }
        Optional<Document> job = ObjectId.isValid(jobId) ? jobs.findById(new ObjectId(jobId)) : Optional.empty();
        Object seed = job.map(j -> j.get("seed")).orElse(null);
        if (seed == null) {
            return manifest;
        }
        Document seeded = manifest == null ? new Document() : new Document(manifest);
        seeded.put("seed", seed);
        seeded.put("seedSource", job.get().get("seedSource") instanceof String source ? source : "job");
        return seeded;
    }

    private static boolean heldBy(Order order, int attempt, String node, boolean bare) {
        return order.isInFlight() && order.attempt() == attempt
                && (node == null || node.equals(order.assignedTo()))
                && (!bare || order.acceptsBareCallback());
    }

    /** The order is not held by this attempt: a repeat of a callback already applied is fine; anything else is stale. */
    private Recorded repeated(OutcomeReport report, int attempt, ObjectId orderId, boolean bare) {
        Order current = orderReads.findById(orderId)
                .orElseThrow(() -> ApiProblem.notFound("order", orderId.toHexString()));
        if (bare) {
            if (current.status() == OrderStatus.CANCELLED) {
                return new Recorded(current.id().toHexString(), current.status().wire(), null, true);
            }
            log.warn("bare callback refused order={} status={} attempt={}", orderId, current.status().wire(),
                    current.attempt());
            throw ApiProblem.staleAttempt("A callback without attempt can only complete an order claimed by a worker "
                    + "that does not heartbeat, before it starts; " + OrderService.describe(current, null, attempt)
                    + " Send orderId, attempt and node.");
        }
        boolean sameAttempt = current.attempt() == attempt
                && (report.node() == null || report.node().equals(current.assignedTo()));
        if (sameAttempt && current.outcomeId() != null) {
            // Our earlier answer was lost: the outcome was written before the order moved, so it is there.
            // Its artifacts too, unless the Boss died before recording them: recording is idempotent, so again.
            attachArtifacts(current, null);
            return new Recorded(current.id().toHexString(), current.status().wire(),
                    current.outcomeId().toHexString(), true);
        }
        boolean handedBack = report.retryable()
                && (current.status() == OrderStatus.UNASSIGNED || current.status() == OrderStatus.FAILED);
        if (sameAttempt && (current.status() == OrderStatus.CANCELLED || handedBack || askedAnother(current, attempt))) {
            // Cancelled while it ran, or a repeated hand-back: acknowledge so the worker stops retrying.
            return new Recorded(current.id().toHexString(), current.status().wire(), null, true);
        }
        log.warn("stale callback order={} attempt={} node={} current={}", orderId, attempt, report.node(),
                current.attempt());
        throw ApiProblem.staleAttempt(OrderService.describe(current, report.node(), attempt));
    }

    /** The attempt's script failure sent the order back for a second opinion: a repeat is acknowledged. */
    private static boolean askedAnother(Order current, int attempt) {
        return current.status() == OrderStatus.UNASSIGNED && current.history().stream().anyMatch(h -> h.attempt() == attempt
                && h.status() == OrderStatus.UNASSIGNED && h.failure() != null
                && h.failure().kind() == Order.Failure.Kind.SCRIPT);
    }

    private Order resolve(OutcomeReport report) {
        if (report.orderId() != null) {
            Order order = orderReads.findById(report.orderId())
                    .orElseThrow(() -> ApiProblem.notFound("order", report.orderId().toHexString()));
            if (report.jobId() != null && !report.jobId().equals(order.jobId())) {
                throw ApiProblem.invalidField("jobId", "jobId does not match the order's job " + order.jobId() + ".");
            }
            return order;
        }
        return orderReads.findByJobId(report.jobId()).orElseThrow(() -> ApiProblem.notFound("job", report.jobId()));
    }
}
