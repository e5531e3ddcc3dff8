package com.maddatum.boss.readmodel;

import com.maddatum.boss.job.JobStore;
import com.maddatum.boss.order.Order;
import com.maddatum.boss.order.OrderQueries;
import com.maddatum.boss.order.OrderStatus;
import com.maddatum.boss.outcome.OutcomeStore;
import com.maddatum.boss.web.BsonView;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.bson.Document;
import org.bson.types.ObjectId;
import org.springframework.stereotype.Component;

/**
 * The leaderboard's and the loss plot's rows: a done job's loss, metric, node and parameters. A done
 * order, its outcome and its job never change again, so each row is read from the store once and kept
 * (the most recently used {@link #MAX_KEPT}): a dashboard polling every two seconds then costs the
 * store only the rows of jobs that finished since its last look, and its reads no longer compete with
 * claims for the store.
 */
@Component
class BoardEntries {

    static final int MAX_KEPT = 5000;

    /** One done job as the boards show it. */
    record Row(String jobId, Double loss, Double metric, String metricName, String node, Instant finishedAt,
            Map<String, Object> job) {}

    private final OrderQueries orders;
    private final OutcomeStore outcomes;
    private final JobStore jobs;
    private final Map<ObjectId, Row> kept = new LinkedHashMap<>(256, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<ObjectId, Row> eldest) {
            return size() > MAX_KEPT;
        }
    };

    BoardEntries(OrderQueries orders, OutcomeStore outcomes, JobStore jobs) {
        this.orders = orders;
        this.outcomes = outcomes;
        this.jobs = jobs;
    }

    /** The rows of these done orders, in the order given. */
    List<Row> rows(List<ObjectId> ids) {
        List<ObjectId> missing = new ArrayList<>();
        synchronized (kept) {
            ids.stream().filter(id -> !kept.containsKey(id)).forEach(missing::add);
        }
        Map<ObjectId, Row> read = read(missing);
        List<Row> rows = new ArrayList<>(ids.size());
        synchronized (kept) {
            kept.putAll(read);
            for (ObjectId id : ids) {
                Row row = kept.get(id);
                if (row != null) {
                    rows.add(row);
                }
            }
        }
        return rows;
    }

    private Map<ObjectId, Row> read(List<ObjectId> ids) {
        Map<ObjectId, Row> read = new LinkedHashMap<>();
        if (ids.isEmpty()) {
            return read;
        }
        List<Order> found = orders.findAll(ids);
        Map<ObjectId, Document> outcomeById = outcomes.findAll(
                found.stream().map(Order::outcomeId).filter(Objects::nonNull).toList(), "metric", "metricName", "node");
        Map<String, Document> jobById = jobs.findAll(found.stream().map(Order::jobId).toList());
        for (Order order : found) {
            if (order.status() != OrderStatus.DONE) {
                continue; // only what can no longer change is kept
            }
            Document outcome = order.outcomeId() == null ? null : outcomeById.get(order.outcomeId());
            Document job = jobById.get(order.jobId());
            read.put(order.id(), new Row(order.jobId(), order.loss(),
                    outcome != null && outcome.get("metric") instanceof Number n ? n.doubleValue() : null,
                    outcome == null ? null : outcome.getString("metricName"),
                    outcome == null ? null : outcome.getString("node"), order.finishedAt(),
                    job == null ? null : BsonView.plain(job)));
        }
        return read;
    }
}
