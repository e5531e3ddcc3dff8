package com.maddatum.boss.readmodel;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.maddatum.boss.order.OrderQueries;
import com.maddatum.boss.web.Paging;
import io.swagger.v3.oas.annotations.Operation;
import io.swagger.v3.oas.annotations.tags.Tag;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.bson.types.ObjectId;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.RestController;

/**
 * Which configuration is winning: a project's done jobs ranked by loss, and its latest done jobs in
 * the order they finished, each with its job. Ranking comes from memory and rows from
 * {@link BoardEntries}; {@code limit} is capped (1,000) so that one request cannot join the whole history.
 */
@RestController
@Tag(name = "projects")
class ProjectBoardController {

    static final int MAX_LIMIT = 1000;

    private final OrderQueries orders;
    private final BoardEntries rows;

    ProjectBoardController(OrderQueries orders, BoardEntries rows) {
        this.orders = orders;
        this.rows = rows;
    }

    @JsonInclude(JsonInclude.Include.NON_NULL)
    record Entry(int rank, String jobId, Double loss, Double metric, String metricName, String node,
            Instant finishedAt, Map<String, Object> job) {}

    @Operation(summary = "A project's done jobs, lowest loss first, with their jobs")
    @GetMapping("/projects/{name}/leaderboard")
    List<Entry> leaderboard(@PathVariable String name, @RequestParam(defaultValue = "20") int limit) {
        return entries(orders.best(name, Paging.checkRange("limit", limit, 1, MAX_LIMIT)));
    }

    /** The latest done jobs of a project, oldest of them first, for the loss-over-time and parameter plots. */
    @Operation(summary = "A project's latest done jobs, in the order they finished (at most 1,000)")
    @GetMapping("/projects/{name}/outcomes")
    List<Entry> outcomes(@PathVariable String name, @RequestParam(defaultValue = "500") int limit) {
        return entries(orders.latest(name, Paging.checkRange("limit", limit, 1, MAX_LIMIT)));
    }

    private List<Entry> entries(List<ObjectId> ids) {
        List<Entry> entries = new ArrayList<>();
        for (BoardEntries.Row row : rows.rows(ids)) {
            entries.add(new Entry(entries.size() + 1, row.jobId(), row.loss(), row.metric(), row.metricName(),
                    row.node(), row.finishedAt(), row.job()));
        }
        return entries;
    }
}
