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
import java.util.function.Function;
import org.bson.Document;
import org.bson.RawBsonDocument;
import org.bson.codecs.DocumentCodec;
import org.bson.types.ObjectId;
import org.springframework.stereotype.Component;

/**
 * The rows of the leaderboard, the loss plot and the done jobs in {@code GET /jobs}: a done job's loss,
 * metric, node and parameters. A done
 * order, its outcome and its job never change again, so each row is read from the store once and kept
 * (the most recently used, at most {@link #MAX_KEPT} rows and {@link #MAX_KEPT_BYTES} of job documents,
 * as measured in BSON: a job may be a megabyte of parameters): a dashboard polling every two seconds
 * then costs the store only the rows of jobs that finished since its last look, and its reads no longer
 * compete with claims for the store.
 */
@Component
class BoardEntries {

    static final int MAX_KEPT = 5000;
    static final long MAX_KEPT_BYTES = 64L * 1024 * 1024;
    private final long maxKeptBytes;

    /**
     * One done job as the boards show it. The job is kept as its BSON bytes and decoded per answer:
     * decoded into maps, strings and boxed numbers it would take several times as much heap, and the
     * byte budget would mean nothing.
     */
    record Row(String jobId, Double loss, Double metric, String metricName, String node, Instant finishedAt,
            RawBsonDocument rawJob) {

        Map<String, Object> job() {
            return rawJob == null ? null : BsonView.plain(rawJob.decode(new DocumentCodec()));
        }

        /** What keeping this row costs, roughly: the job's bytes and a fixed amount for the rest. */
        long bytes() {
            return ROW_BYTES + (rawJob == null ? 0 : rawJob.getByteBuffer().remaining());
        }
    }

    private long keptBytes;

    private final OrderQueries orders;
    private final OutcomeStore outcomes;
    private final JobStore jobs;
    /** In access order: the least recently shown row is evicted first. */
    private final Map<ObjectId, Row> kept = new LinkedHashMap<>(256, 0.75f, true);

    @org.springframework.beans.factory.annotation.Autowired
    BoardEntries(OrderQueries orders, OutcomeStore outcomes, JobStore jobs) {
        this(orders, outcomes, jobs, MAX_KEPT_BYTES);
    }

    BoardEntries(OrderQueries orders, OutcomeStore outcomes, JobStore jobs, long maxKeptBytes) {
        this.maxKeptBytes = maxKeptBytes;
        this.orders = orders;
        this.outcomes = outcomes;
        this.jobs = jobs;
    }

    /** The rows of these done orders, in the order given. */
    List<Row> rows(List<ObjectId> ids) {
        Map<ObjectId, Row> found = collect(ids, orders::findAll);
        List<Row> rows = new ArrayList<>(ids.size());
        for (ObjectId id : ids) {
            Row row = found.get(id);
            if (row != null) {
                rows.add(row);
            }
        }
        return rows;
    }

    /** The rows of those of these orders that are done, by order id; the orders are already read. */
    Map<ObjectId, Row> rowsOf(List<Order> some) {
        Map<ObjectId, Order> done = new LinkedHashMap<>();
        some.stream().filter(o -> o.status() == OrderStatus.DONE).forEach(o -> done.put(o.id(), o));
        return collect(List.copyOf(done.keySet()), ids -> ids.stream().map(done::get).toList());
    }

    private Map<ObjectId, Row> collect(List<ObjectId> ids, Function<List<ObjectId>, List<Order>> fetch) {
        Map<ObjectId, Row> found = new java.util.HashMap<>();
        List<ObjectId> missing = new ArrayList<>();
        synchronized (kept) {
            for (ObjectId id : ids) {
                Row row = kept.get(id);
                if (row == null) {
                    missing.add(id);
                } else {
                    found.put(id, row);
                }
            }
        }
        Map<ObjectId, Row> read = missing.isEmpty() ? Map.of() : read(fetch.apply(missing));
        synchronized (kept) {
            read.forEach(this::keep); // may evict rows of this very answer: they are in found already
        }
        found.putAll(read);
        return found;
    }

    /** Caller holds the lock on {@code kept}. */
    private void keep(ObjectId id, Row row) {
        Row before = kept.put(id, row);
        keptBytes += row.bytes() - (before == null ? 0 : before.bytes());
        var eldest = kept.entrySet().iterator();
        while ((keptBytes > maxKeptBytes || kept.size() > MAX_KEPT) && eldest.hasNext()) {
            Map.Entry<ObjectId, Row> victim = eldest.next();
            keptBytes -= victim.getValue().bytes();
            eldest.remove();
        }
    }

    long keptBytes() {
        synchronized (kept) {
            return keptBytes;
        }
    }

    private Map<ObjectId, Row> read(List<Order> found) {
        Map<ObjectId, Row> read = new LinkedHashMap<>();
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
                    job == null ? null : new RawBsonDocument(withoutReruns(job), new DocumentCodec())));
        }
        return read;
    }

    /**
     * {@code reruns} is the one field of a done job that still changes (each rerun adds to it): rows
     * leave it out rather than show a stale list; {@code GET /jobs/{id}} reads it fresh.
     */
    private static Document withoutReruns(Document job) {
        if (!job.containsKey("reruns")) {
            return job;
        }
        Document copy = new Document(job);
        copy.remove("reruns");
        return copy;
    }

    /** A row without its job: ids, numbers and the boxes around them. */
    private static final long ROW_BYTES = 512;

}
