package com.maddatum.boss.sweep;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.maddatum.boss.order.Order;
import com.maddatum.boss.order.OrderQueries;
import com.maddatum.boss.order.OrderStatus;
import com.maddatum.boss.outcome.OutcomeStore;
import com.maddatum.boss.web.BsonView;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;
import org.bson.Document;
import org.springframework.stereotype.Component;

/**
 * A sweep as people read it: where each trial stands (a live trial by its order, an ended one as recorded, a
 * trial whose order ended but which the driver has not noticed yet as its order and outcome say), the counts,
 * and the trials ranked by the metric. Reads the sweep's trials, the orders of its live ones, and one outcome
 * for the best trial; it writes nothing.
 */
@Component
class SweepViews {

    private final TrialStore trials;
    private final OrderQueries orders;
    private final OutcomeStore outcomes;
    private final TrialPoints points;

    SweepViews(TrialStore trials, OrderQueries orders, OutcomeStore outcomes, TrialPoints points) {
        this.trials = trials;
        this.orders = orders;
        this.outcomes = outcomes;
        this.points = points;
    }

    record Counts(long queued, long running, long done, long failed, long cancelled, long pruned) {}

    record Progress(long done, long planned) {}

    record Best(int trial, String jobId, Map<String, Object> params, double value, boolean pruned,
            Map<String, Object> outcome) {}

    /**
     * {@code best}: the best finished (not pruned) trial; null (and shown) until one has a value.
     * {@code stopReason}: only when the Boss cancelled the sweep itself.
     */
    record SweepView(String sweepId, String name, String projectName, String method, String status,
            Map<String, Object> metric, List<Map<String, Object>> parameters, int maxJobs, int parallelism, long seed,
            Map<String, Object> earlyStop, Map<String, Object> base, Instant createdAt, Counts counts, Progress progress,
            @JsonInclude(JsonInclude.Include.ALWAYS) Best best, String stopReason) {}

    /** {@code value}: null (and shown) until the trial has one. */
    record Entry(int trial, String jobId, String status, boolean pruned,
            @JsonInclude(JsonInclude.Include.ALWAYS) Double value, Map<String, Object> params, List<String> jobs,
            String error) {}

    record Leaderboard(Map<String, Object> metric, List<Entry> trials) {}

    record CurvePoint(double step, double value) {}

    /** One trial as it stands now. */
    private record Row(Trial trial, String status, boolean pruned, Double value) {}

    SweepView view(Sweep sweep) {
        List<Row> rows = rows(sweep);
        Map<String, Long> byStatus = rows.stream().collect(Collectors.groupingBy(
                r -> r.pruned() ? "pruned" : r.status(), Collectors.counting()));
        Counts counts = new Counts(byStatus.getOrDefault("queued", 0L), byStatus.getOrDefault("running", 0L),
                byStatus.getOrDefault("done", 0L), byStatus.getOrDefault("failed", 0L),
                byStatus.getOrDefault("cancelled", 0L), byStatus.getOrDefault("pruned", 0L));
        long ended = counts.done() + counts.failed() + counts.cancelled() + counts.pruned();
        // As Optuna's best_trial: a finished trial, never a pruned one (it saved no model to fetch).
        Best best = ranked(sweep, rows).stream().filter(r -> r.value() != null && !r.pruned() && "done".equals(r.status()))
                .findFirst().map(this::best).orElse(null);
        return new SweepView(sweep.id().toHexString(), sweep.name(), sweep.projectName(), sweep.method(),
                sweep.status().wire(), sweep.metric().toDocument(),
                sweep.parameters().stream().map(p -> (Map<String, Object>) p.toDocument()).toList(), sweep.maxJobs(),
                sweep.parallelism(), sweep.seed(), sweep.earlyStop() == null ? null : sweep.earlyStop().toDocument(),
                BsonView.plain(sweep.base()), sweep.createdAt(), counts, new Progress(ended, sweep.planned()), best,
                sweep.stopReason());
    }

    Leaderboard leaderboard(Sweep sweep) {
        Set<String> varying = sweep.parameters().stream().filter(ParameterSpec::varies).map(ParameterSpec::path)
                .collect(Collectors.toSet());
        List<Entry> entries = ranked(sweep, rows(sweep)).stream().map(row -> {
            Map<String, Object> params = new LinkedHashMap<>();
            row.trial().params().forEach((path, value) -> {
                if (varying.contains(path)) {
                    params.put(path, value);
                }
            });
            Trial t = row.trial();
            return new Entry(t.trial(), t.jobId(), row.status(), row.pruned(), row.value(), BsonView.plain(params),
                    t.jobs().size() > 1 ? t.jobs() : null, t.error());
        }).toList();
        return new Leaderboard(sweep.metric().toDocument(), entries);
    }

    Optional<List<CurvePoint>> curve(Sweep sweep, int trial) {
        String sweepId = sweep.id().toHexString();
        if (trials.find(sweepId, trial).isEmpty()) {
            return Optional.empty();
        }
        return Optional.of(points.curve(sweepId, trial).stream().map(p -> new CurvePoint(p.step(), p.value())).toList());
    }

    /**
     * Best first: by the metric (goal-aware), a finished trial before a pruned one at the same value, then by
     * trial number; trials without a value last, by trial number.
     */
    static List<Row> ranked(Sweep sweep, List<Row> rows) {
        Comparator<Double> byValue = sweep.metric().maximize() ? Comparator.reverseOrder() : Comparator.naturalOrder();
        Comparator<Row> order = Comparator.comparing((Row r) -> r.value() == null)
                .thenComparing(Row::value, Comparator.nullsLast(byValue))
                .thenComparing(Row::pruned)
                .thenComparingInt(r -> r.trial().trial());
        List<Row> sorted = new ArrayList<>(rows);
        sorted.sort(order);
        return sorted;
    }

    private Best best(Row row) {
        Trial t = row.trial();
        Optional<Order> order = orders.findByJobId(t.jobId());
        Map<String, Object> outcome = order.map(Order::outcomeId).flatMap(outcomes::findById).map(o -> {
            Document shown = new Document(o);
            shown.remove("logTail"); // up to 64 KiB: GET /jobs/{id} has it
            return BsonView.plain(shown);
        }).orElse(null);
        return new Best(t.trial(), t.jobId(), BsonView.plain(t.params()), row.value(), row.pruned(), outcome);
    }

    private List<Row> rows(Sweep sweep) {
        List<Row> rows = new ArrayList<>();
        for (Trial trial : trials.all(sweep.id().toHexString())) {
            rows.add(row(sweep, trial));
        }
        return rows;
    }

    private Row row(Sweep sweep, Trial trial) {
        if (!trial.live()) {
            return new Row(trial, trial.rerunRequested() ? "queued" : trial.status(), trial.pruned(), trial.value());
        }
        Optional<Order> order = orders.findByJobId(trial.jobId());
        if (order.isEmpty()) {
            return new Row(trial, "queued", false, null); // its job is being created
        }
        OrderStatus status = order.get().status();
        if (!status.isTerminal()) {
            return new Row(trial, status == OrderStatus.UNASSIGNED ? "queued" : "running", false, null);
        }
        Document outcome = order.get().outcomeId() == null ? null
                : outcomes.findById(order.get().outcomeId()).orElse(null);
        TrialResult result = TrialResult.of(order.get(), outcome, sweep.metric()).orRemembered(trial, sweep.metric());
        return new Row(trial, result.status(), result.pruned(), result.value());
    }
}
