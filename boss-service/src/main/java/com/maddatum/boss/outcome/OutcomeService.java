package com.maddatum.boss.outcome;

import com.maddatum.boss.order.Order;
import com.maddatum.boss.order.OrderService;
import com.maddatum.boss.order.OrderService.Verdict;
import com.maddatum.boss.order.OrderStatus;
import com.maddatum.boss.web.ApiProblem;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Clock;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.bson.Document;
import org.bson.types.ObjectId;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.stereotype.Service;

/**
 * Records what a worker reports. The order's transition comes first and carries the new outcome's
 * id; the outcome is written after it under that id. Without transactions that order matters: if
 * the Boss dies in between, the worker (which never got its 200) calls back again, finds the order
 * already finished by its own attempt, and the outcome is written then, once.
 */
@Service
public class OutcomeService {

    private static final Logger log = LoggerFactory.getLogger(OutcomeService.class);

    private final OutcomeStore outcomes;
    private final OrderService orders;
    private final Clock clock;
    private final MeterRegistry meters;

    OutcomeService(OutcomeStore outcomes, OrderService orders, Clock clock, MeterRegistry meters) {
        this.outcomes = outcomes;
        this.orders = orders;
        this.clock = clock;
        this.meters = meters;
    }

    /** The answer to a callback: where the order stands and which outcome (if any) holds the report. */
    public record Recorded(String orderId, String orderStatus, String outcomeId, boolean duplicate) {}

    Recorded record(OutcomeReport report) {
        Order order = resolve(report);
        int attempt = report.attempt() != null ? report.attempt() : order.attempt();
        Verdict verdict = report.status() == 200 ? Verdict.DONE : report.retryable() ? Verdict.RETRY : Verdict.FAILED;
        ObjectId outcomeId = verdict == Verdict.RETRY ? null : new ObjectId();
        // The seed's bare form names no node: then the order's current holder is the one reporting.
        String node = report.node() != null ? report.node() : order.assignedTo();
        Optional<Order> finished = orders.finish(order.id(), node, attempt, verdict, outcomeId, report.reason());
        if (finished.isPresent()) {
            Order done = finished.get();
            meters.counter("boss.outcomes", "status", Integer.toString(report.status())).increment();
            if (outcomeId != null) {
                outcomes.putIfAbsent(report.toDocument(outcomeId, done.id(), done.jobId(), attempt, node,
                        done.projectName(), clock.instant()));
            }
            return new Recorded(done.id().toHexString(), done.status().wire(),
                    outcomeId == null ? null : outcomeId.toHexString(), false);
        }
        return repeated(report, attempt, order.id());
    }

    /** The transition missed: a repeat of a callback already applied is fine; anything else is stale. */
    private Recorded repeated(OutcomeReport report, int attempt, ObjectId orderId) {
        Order current = orders.findById(orderId).orElseThrow(() -> ApiProblem.notFound("order", orderId.toHexString()));
        boolean sameAttempt = current.attempt() == attempt
                && (report.node() == null || report.node().equals(lastNode(current)));
        if (sameAttempt && current.outcomeId() != null) {
            // Our earlier answer was lost, or we died before writing the outcome: write it now, once.
            outcomes.putIfAbsent(report.toDocument(current.outcomeId(), current.id(), current.jobId(), attempt,
                    lastNode(current), current.projectName(), clock.instant()));
            return new Recorded(current.id().toHexString(), current.status().wire(),
                    current.outcomeId().toHexString(), true);
        }
        boolean handedBack = report.retryable()
                && (current.status() == OrderStatus.UNASSIGNED || current.status() == OrderStatus.FAILED);
        if (sameAttempt && (current.status() == OrderStatus.CANCELLED || handedBack)) {
            // Cancelled while it ran, or a repeated hand-back: acknowledge so the worker stops retrying.
            return new Recorded(current.id().toHexString(), current.status().wire(), null, true);
        }
        log.warn("stale callback order={} attempt={} node={} current={}", orderId, attempt, report.node(),
                current.attempt());
        throw ApiProblem.staleAttempt(OrderService.describe(current, report.node(), attempt));
    }

    /** The node that held the order's latest attempt, from its history. */
    private static String lastNode(Order order) {
        List<Order.HistoryEntry> history = order.history();
        for (int i = history.size() - 1; i >= 0; i--) {
            if (history.get(i).node() != null && history.get(i).attempt() == order.attempt()) {
                return history.get(i).node();
            }
        }
        return null;
    }

    private Order resolve(OutcomeReport report) {
        if (report.orderId() != null) {
            Order order = orders.findById(report.orderId())
                    .orElseThrow(() -> ApiProblem.notFound("order", report.orderId().toHexString()));
            if (report.jobId() != null && !report.jobId().equals(order.jobId())) {
                throw ApiProblem.invalidField("jobId", "jobId does not match the order's job " + order.jobId() + ".");
            }
            return order;
        }
        return orders.findByJobId(report.jobId()).orElseThrow(() -> ApiProblem.notFound("job", report.jobId()));
    }

    public Optional<Document> findByJobId(String jobId) {
        return outcomes.findByJobId(jobId);
    }

    List<Document> history(String project, int limit) {
        return outcomes.history(project, limit);
    }

    /** node -> [succeeded, failed] jobs, recounted at most every ten seconds. */
    public Map<String, long[]> jobsByNode() {
        Cached cached = byNode;
        if (cached == null || cached.at().isBefore(clock.instant().minusSeconds(10))) {
            cached = new Cached(clock.instant(), outcomes.countsByNode());
            byNode = cached;
        }
        return cached.counts();
    }

    private record Cached(java.time.Instant at, Map<String, long[]> counts) {}

    private volatile Cached byNode;

    List<Document> leaderboard(String project, int limit) {
        return outcomes.leaderboard(project, limit);
    }
}
