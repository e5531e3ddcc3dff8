package com.maddatum.boss.outcome;

import io.swagger.v3.oas.annotations.Operation;
import io.swagger.v3.oas.annotations.tags.Tag;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.maddatum.boss.job.JobStore;
import com.maddatum.boss.web.Paging;
import com.maddatum.boss.web.BsonView;
import java.time.Instant;
import java.util.Date;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.bson.Document;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.RestController;

/** Which configuration is winning: a project's successful outcomes, lowest loss first, with their jobs. */
@RestController
@Tag(name = "projects")
class LeaderboardController {

    private final OutcomeService outcomes;
    private final JobStore jobs;

    LeaderboardController(OutcomeService outcomes, JobStore jobs) {
        this.outcomes = outcomes;
        this.jobs = jobs;
    }

    @JsonInclude(JsonInclude.Include.NON_NULL)
    record Entry(int rank, String jobId, Double loss, Double metric, String metricName, String node,
            Instant finishedAt, Map<String, Object> job) {}

    @Operation(summary = "A project's successful outcomes, lowest loss first, with their jobs")
    @GetMapping("/projects/{name}/leaderboard")
    List<Entry> leaderboard(@PathVariable String name, @RequestParam(defaultValue = "20") int limit) {
        return entries(outcomes.leaderboard(name, Paging.checkRange("limit", limit, 1, 1000)));
    }

    /** Every successful outcome of a project, oldest first, for the loss-over-time and parameter plots. */
    @Operation(summary = "A project's successful outcomes, oldest first")
    @GetMapping("/projects/{name}/outcomes")
    List<Entry> outcomes(@PathVariable String name, @RequestParam(defaultValue = "2000") int limit) {
        return entries(outcomes.history(name, Paging.checkRange("limit", limit, 1, 10_000)));
    }

    private List<Entry> entries(List<Document> found) {
        Map<String, Document> byId = jobs.findAll(found.stream().map(o -> o.getString("jobId")).toList());
        List<Entry> entries = new ArrayList<>();
        for (Document outcome : found) {
            Document job = byId.get(outcome.getString("jobId"));
            Date finished = outcome.getDate("finishedAt") != null ? outcome.getDate("finishedAt") : outcome.getDate("receivedAt");
            entries.add(new Entry(entries.size() + 1, outcome.getString("jobId"), number(outcome, "loss"),
                    number(outcome, "metric"), outcome.getString("metricName"), outcome.getString("node"),
                    finished == null ? null : finished.toInstant(), job == null ? null : BsonView.plain(job)));
        }
        return entries;
    }

    private static Double number(Document d, String field) {
        Object value = d.get(field);
        return value instanceof Number n ? n.doubleValue() : null;
    }
}
