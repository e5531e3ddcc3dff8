package com.maddatum.boss.readmodel;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.maddatum.boss.config.BossProperties;
import com.maddatum.boss.job.JobStore;
import com.maddatum.boss.order.Order;
import com.maddatum.boss.order.OrderQueries;
import com.maddatum.boss.order.OrderSort;
import com.maddatum.boss.order.OrderStatus;
import com.maddatum.boss.order.OrderView;
import com.maddatum.boss.web.ApiProblem;
import com.maddatum.boss.web.BsonView;
import com.maddatum.boss.web.Ids;
import com.maddatum.boss.web.Paging;
import io.swagger.v3.oas.annotations.Hidden;
import io.swagger.v3.oas.annotations.Operation;
import io.swagger.v3.oas.annotations.Parameter;
import io.swagger.v3.oas.annotations.enums.ParameterIn;
import io.swagger.v3.oas.annotations.media.Schema;
import io.swagger.v3.oas.annotations.tags.Tag;
import java.time.Duration;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.bson.Document;
import org.springframework.http.HttpHeaders;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.RestController;
import org.springframework.web.context.request.async.DeferredResult;

/**
 * Jobs as people follow them: a job with its order and outcome, the newest jobs by project and
 * status, the seed's order listing, and the counts the dashboard polls. All of these are cheap to
 * poll: listings and counts come from memory, documents are fetched by id.
 */
@RestController
@Tag(name = "jobs", description = "Submitting jobs and following them (people and the dashboard)")
class JobReadController {

    private final JobStore jobs;
    private final OrderQueries orders;
    private final JobDetails details;
    private final JobWaits waits;
    private final JobRows rows;
    private final int maxPageSize;

    JobReadController(JobStore jobs, OrderQueries orders, JobDetails details, JobWaits waits, JobRows rows,
            BossProperties properties) {
        this.jobs = jobs;
        this.orders = orders;
        this.details = details;
        this.waits = waits;
        this.rows = rows;
        this.maxPageSize = properties.limits().maxPageSize();
    }

    @Operation(summary = "The job's outcome (the seed's route)", description = "404 until the job has one. The "
            + "outcome is written before the order is marked done, so a job shown as done always has it.")
    @GetMapping("/retrieve/outcome/{jobId}")
    Map<String, Object> outcome(@PathVariable String jobId) {
        Ids.parse(jobId, "job");
        return orders.findByJobId(jobId).flatMap(details::outcomeOf).map(BsonView::plain)
                .orElseThrow(() -> ApiProblem.notFound("outcome for job", jobId));
    }

    /** {@code queue}: while the order waits, its place in the queue (see {@link QueuePlace}). */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    record JobDetail(Map<String, Object> job, OrderView order, Map<String, Object> outcome, QueuePlace.QueueView queue) {}

    @Operation(summary = "A job with its order (and the order's history), its outcome, and its place in the queue")
    @Parameter(name = "waitSeconds", in = ParameterIn.QUERY, schema = @Schema(type = "integer", minimum = "0"),
            description = "Hold the request until the job's order changes status or attempt, or this many seconds "
                    + "pass (at most boss.queue.max-wait); a finished job is answered at once.")
    @GetMapping("/jobs/{id}")
    JobDetail detail(@PathVariable String id) {
        return details.of(id);
    }

    @Hidden // documented as the waitSeconds parameter of detail(): the docs show one operation per route
    @GetMapping(value = "/jobs/{id}", params = "waitSeconds")
    DeferredResult<JobDetail> detailAfterChange(@PathVariable String id, @RequestParam int waitSeconds) {
        Duration wait = waits.capped(waitSeconds);
        return waits.untilChanged(id, details.of(id), wait);
    }

    record JobPage(int page, int size, long total, List<JobRows.JobSummary> items) {}

    @Operation(summary = "Jobs, newest first or by loss, filtered by project, sweep and status",
            description = "Each item has the order, the job, and for the table: loss, metric and metricName (a done "
                    + "job's), durationSeconds and links. sort=loss lists done jobs by loss, lowest first (-loss: "
                    + "highest first), then the jobs without a loss: done, running, assigned, unassigned, failed, "
                    + "cancelled, each newest first.")
    @GetMapping("/jobs")
    JobPage list(@RequestParam(required = false) String project, @RequestParam(required = false) String status,
            @RequestParam(required = false) String sweep, @RequestParam(required = false) String sort,
            @RequestParam(defaultValue = "0") int page, @RequestParam(defaultValue = "50") int size) {
        Paging.checkPage(page, size, maxPageSize);
        OrderStatus wanted = statusParam(status);
        OrderSort order = sortParam(sort);
        String projectName = blankToNull(project);
        String sweepId = blankToNull(sweep);
        List<Order> found = orders.page(projectName, sweepId, wanted, order, page, size);
        return new JobPage(page, size, orders.count(projectName, sweepId, wanted), rows.of(found));
    }

    private static String blankToNull(String value) {
        return value == null || value.isBlank() ? null : value;
    }

    /** {@code newest} (the default), {@code loss} (lowest first) or {@code -loss} (highest first). */
    static OrderSort sortParam(String value) {
        if (value == null || value.isBlank() || value.equals("newest")) {
            return OrderSort.NEWEST;
        }
        return switch (value) {
            case "loss" -> OrderSort.LOWEST_LOSS;
            case "-loss" -> OrderSort.HIGHEST_LOSS;
            default -> throw ApiProblem.invalidField("sort", "Unknown sort '" + value
                    + "'; use newest (the default), loss (lowest first) or -loss (highest first).");
        };
    }

    /** The seed's order listing, newest first, paged; the total is in {@code X-Total-Count}. */
    @Operation(summary = "Orders, newest first, paged (the seed's route)")
    @GetMapping("/retrieve/order")
    ResponseEntity<List<OrderView>> orders(@RequestParam(defaultValue = "0") int page,
            @RequestParam(defaultValue = "100") int size, @RequestParam(required = false) String status) {
        int pageSize = Paging.checkPage(page, size, maxPageSize);
        OrderStatus wanted = statusParam(status);
        List<OrderView> views = orders.page(null, wanted, page, pageSize).stream().map(OrderView::of).toList();
        HttpHeaders headers = new HttpHeaders();
        headers.add("X-Total-Count", Long.toString(orders.count(null, wanted)));
        return ResponseEntity.ok().headers(headers).body(views);
    }

    /** Project names seen in the orders, for the dashboard's pickers. */
    @Operation(summary = "Project names")
    @GetMapping("/projects")
    List<String> projects() {
        return orders.projects();
    }

    /** Orders by status, for the dashboard's live queue panel. */
    @Operation(summary = "Orders by status")
    @GetMapping("/stats")
    Map<String, Object> stats() {
        Map<String, Long> queue = new LinkedHashMap<>();
        orders.countByStatus().forEach((status, n) -> queue.put(status.wire(), n));
        return Map.of("queue", queue);
    }

    /** A status named in a query parameter; blank means "any". */
    static OrderStatus statusParam(String value) {
        if (value == null || value.isBlank()) {
            return null;
        }
        try {
            return OrderStatus.fromWire(value);
        } catch (IllegalArgumentException e) {
            throw ApiProblem.invalidField("status", "Unknown status '" + value + "'; use one of "
                    + Arrays.stream(OrderStatus.values()).map(OrderStatus::wire).toList() + ".");
        }
    }
}
