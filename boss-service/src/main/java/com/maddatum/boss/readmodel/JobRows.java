package com.maddatum.boss.readmodel;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.maddatum.boss.job.JobStore;
import com.maddatum.boss.order.Order;
import com.maddatum.boss.order.OrderStatus;
import com.maddatum.boss.order.OrderView;
import com.maddatum.boss.web.BsonView;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.bson.Document;
import org.bson.types.ObjectId;
import org.springframework.stereotype.Component;

/**
 * The rows of {@code GET /jobs}: each order with its job and what a person opens the table for (how
 * good the result was, how long it took, where to read more), so that the table needs no request per
 * row. A done job's metric and parameters come from {@link BoardEntries}, which reads each done job
 * from the store once; the other jobs are read by id, one request per page.
 */
@Component
class JobRows {

    /** Where to read more, as paths on this Boss (like the {@code Location} of a created job). */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    record Links(String job, String outcome, String logs) {}

    /**
     * One job in the table. {@code loss}, {@code metric} and {@code metricName} are a done job's;
     * {@code durationSeconds} runs from the start of the current attempt (its first heartbeat, or its
     * claim by a worker that does not heartbeat) to its end, or to now while it runs.
     */
    record JobSummary(OrderView order, Map<String, Object> job,
            @JsonInclude(JsonInclude.Include.NON_NULL) Double loss,
            @JsonInclude(JsonInclude.Include.NON_NULL) Double metric,
            @JsonInclude(JsonInclude.Include.NON_NULL) String metricName,
            @JsonInclude(JsonInclude.Include.NON_NULL) Double durationSeconds,
            Links links) {}

    private final JobStore jobs;
    private final BoardEntries boardRows;
    private final Clock clock;

    JobRows(JobStore jobs, BoardEntries boardRows, Clock clock) {
        this.jobs = jobs;
        this.boardRows = boardRows;
        this.clock = clock;
    }

    List<JobSummary> of(List<Order> orders) {
        Map<ObjectId, BoardEntries.Row> done = boardRows.rowsOf(orders);
        List<String> unread = orders.stream().filter(o -> !done.containsKey(o.id()) || done.get(o.id()).job() == null)
                .map(Order::jobId).toList();
        Map<String, Document> byId = unread.isEmpty() ? Map.of() : jobs.findAll(unread);
        Instant now = clock.instant();
        return orders.stream().map(o -> {
            BoardEntries.Row row = done.get(o.id());
            Map<String, Object> job = row != null && row.job() != null ? row.job()
                    : byId.containsKey(o.jobId()) ? BsonView.plain(byId.get(o.jobId())) : null;
            return new JobSummary(OrderView.of(o), job, o.loss(), row == null ? null : row.metric(),
                    row == null ? null : row.metricName(), durationSeconds(o, now), links(o));
        }).toList();
    }

    private static Links links(Order order) {
        String job = "/jobs/" + order.jobId();
        return new Links(job, order.outcomeId() == null ? null : "/retrieve/outcome/" + order.jobId(), job + "/logs");
    }

    static Double durationSeconds(Order order, Instant now) {
        Instant start = order.startedAt() != null ? order.startedAt() : claimOfCurrentAttempt(order);
        Instant end = order.status().isTerminal() ? order.finishedAt() : now;
        if (start == null || end == null) {
            return null;
        }
        return Math.max(0, Duration.between(start, end).toMillis()) / 1000.0;
    }

    /**
     * When the current attempt was claimed, or null when it never was: the history's latest claim, unless
     * the order went back to the queue after it (an order claimed, handed back, then cancelled never ran).
     */
    private static Instant claimOfCurrentAttempt(Order order) {
        List<Order.HistoryEntry> history = order.history();
        for (int i = history.size() - 1; i >= 0; i--) {
            OrderStatus status = history.get(i).status();
            if (status == OrderStatus.ASSIGNED) {
                return history.get(i).at();
            }
            if (status == OrderStatus.UNASSIGNED) {
                return null;
            }
        }
        return null;
    }
}
