package com.maddatum.boss.readmodel;

import com.maddatum.boss.job.JobStore;
import com.maddatum.boss.order.Order;
import com.maddatum.boss.order.OrderQueries;
import com.maddatum.boss.outcome.OutcomeStore;
import com.maddatum.boss.web.ApiProblem;
import com.maddatum.boss.web.BsonView;
import com.maddatum.boss.web.Ids;
import io.swagger.v3.oas.annotations.Operation;
import io.swagger.v3.oas.annotations.tags.Tag;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Date;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import org.bson.Document;
import org.bson.types.ObjectId;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.RestController;

/**
 * Jobs side by side: "why did this run give a different loss" in one request. Job fields and run
 * manifests are shown only where they differ (the names of the equal ones are listed), the results always.
 * Costs up to ten reads of a job and of an outcome by id.
 */
@RestController
@Tag(name = "jobs")
class JobCompareController {

    static final int MAX_IDS = 10;
    /** Where a job came from, not what it ran; the ids are the answer's own first field. */
    private static final Set<String> NOT_COMPARED = Set.of("_id", "rerunOf", "reruns");
    private static final String[] OUTCOME_FIELDS = {"status", "loss", "metric", "metricName", "startedAt", "finishedAt",
            "manifest", "details.durationSeconds"};

    private final JobStore jobs;
    private final OrderQueries orders;
    private final OutcomeStore outcomes;

    JobCompareController(JobStore jobs, OrderQueries orders, OutcomeStore outcomes) {
        this.jobs = jobs;
        this.orders = orders;
        this.outcomes = outcomes;
    }

    record Same(List<String> job, List<String> manifest) {}

    record Comparison(List<String> ids, Map<String, List<Object>> job, Map<String, List<Object>> manifest,
            Map<String, List<Object>> metrics, Same same) {}

    @Operation(summary = "Compare jobs: the job fields and run manifests that differ, and the results, side by side",
            description = "ids: 2 to 10 job ids, comma-separated. Nested fields are named by dotted paths "
                    + "(hiddenLayers.1.dropout, gpu.model); a job without a field, or without an outcome yet, has "
                    + "null there. metrics.status is the order's status.")
    @GetMapping("/jobs/compare")
    Comparison compare(@RequestParam(required = false) String ids) {
        List<String> wanted = ids == null ? List.of()
                : Arrays.stream(ids.split(",")).map(String::trim).filter(s -> !s.isEmpty()).toList();
        if (wanted.size() < 2 || wanted.size() > MAX_IDS) {
            throw ApiProblem.invalidField("ids", "ids must name 2 to " + MAX_IDS + " jobs, comma-separated; it names "
                    + wanted.size() + ".");
        }
        wanted.forEach(id -> Ids.parse(id, "job"));
        Map<String, Document> found = jobs.findAll(wanted);
        List<Map<String, Object>> jobViews = new ArrayList<>();
        List<Optional<Order>> jobOrders = new ArrayList<>();
        for (String id : wanted) {
            Document job = found.get(id);
            if (job == null) {
                throw ApiProblem.notFound("job", id);
            }
            jobViews.add(BsonView.plain(job));
            jobOrders.add(orders.findByJobId(id));
        }
        Map<ObjectId, Document> outcomeById = outcomes.findAll(jobOrders.stream().flatMap(Optional::stream)
                .map(Order::outcomeId).filter(Objects::nonNull).toList(), OUTCOME_FIELDS);
        List<Document> jobOutcomes = jobOrders.stream().map(o -> o.map(Order::outcomeId).map(outcomeById::get)
                .orElse(null)).toList();

        JobComparison.Split job = JobComparison.split(jobViews, NOT_COMPARED);
        JobComparison.Split manifest = JobComparison.split(jobOutcomes.stream()
                .map(o -> o != null && o.get("manifest") instanceof Document m ? BsonView.plain(m) : null).toList(), Set.of());
        return new Comparison(wanted, job.differ(), manifest.differ(), metrics(jobOrders, jobOutcomes),
                new Same(job.same(), manifest.same()));
    }

    private static Map<String, List<Object>> metrics(List<Optional<Order>> jobOrders, List<Document> jobOutcomes) {
        Map<String, List<Object>> metrics = new LinkedHashMap<>();
        for (String name : new String[] {"loss", "metric", "metricName", "durationSeconds", "status"}) {
            metrics.put(name, new ArrayList<>());
        }
        for (int i = 0; i < jobOutcomes.size(); i++) {
            Document outcome = jobOutcomes.get(i);
            metrics.get("loss").add(outcome == null ? null : outcome.get("loss"));
            metrics.get("metric").add(outcome == null ? null : outcome.get("metric"));
            metrics.get("metricName").add(outcome == null ? null : outcome.get("metricName"));
            metrics.get("durationSeconds").add(durationSeconds(outcome));
            metrics.get("status").add(jobOrders.get(i).map(o -> o.status().wire()).orElse(null));
        }
        return metrics;
    }

    /** The worker's own measure (startedAt to finishedAt), else what the script said (nn.py and sk.py say it). */
    private static Double durationSeconds(Document outcome) {
        if (outcome == null) {
            return null;
        }
        if (outcome.get("startedAt") instanceof Date started && outcome.get("finishedAt") instanceof Date finished) {
            return (finished.getTime() - started.getTime()) / 1000.0;
        }
        return outcome.get("details") instanceof Document details && details.get("durationSeconds") instanceof Number n
                ? n.doubleValue() : null;
    }
}
