package com.maddatum.boss.job;

import io.swagger.v3.oas.annotations.Operation;
import io.swagger.v3.oas.annotations.media.Content;
import io.swagger.v3.oas.annotations.media.ExampleObject;
import io.swagger.v3.oas.annotations.media.Schema;
import io.swagger.v3.oas.annotations.responses.ApiResponse;
import io.swagger.v3.oas.annotations.tags.Tag;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.maddatum.boss.config.BossProperties;
import com.maddatum.boss.order.Order;
import com.maddatum.boss.order.OrderService;
import com.maddatum.boss.order.OrderStatus;
import com.maddatum.boss.order.OrderView;
import com.maddatum.boss.outcome.OutcomeService;
import com.maddatum.boss.web.ApiProblem;
import com.maddatum.boss.web.BsonView;
import com.maddatum.boss.web.Ids;
import com.maddatum.boss.web.JsonInput;
import com.maddatum.boss.web.Paging;
import java.net.URI;
import java.util.List;
import java.util.Map;
import org.bson.Document;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.RestController;
import tools.jackson.databind.JsonNode;

/** Submitting jobs (the seed's {@code /job/create}) and the human-facing job reads and actions. */
@RestController
@Tag(name = "jobs", description = "Submitting jobs and following them (people and the dashboard)")
class JobController {

    static final String SEED_JOB = """
            {"hiddenLayers": [{"activation": "relu", "widthModifier": 4, "dropout": 0.2},
                              {"activation": "relu", "widthModifier": 2.3, "dropout": 0.2}],
             "dataFileName": "wine_data.csv", "scriptName": "nn.py", "projectName": "wine_data",
             "depedentVariable": "proline", "crossValidateOnly": true, "epochs": 300, "batchSize": 100000,
             "optimizer": "rmsprop", "learningRate": 0.05, "lastLayerActivator": "", "priority": 0,
             "maxAttempts": 3, "requiredLabels": []}""";

    private final JobService service;
    private final JobStore jobs;
    private final OrderService orders;
    private final OutcomeService outcomes;
    private final JsonInput json;
    private final int maxPageSize;

    JobController(JobService service, JobStore jobs, OrderService orders, OutcomeService outcomes, JsonInput json,
            BossProperties properties) {
        this.service = service;
        this.jobs = jobs;
        this.orders = orders;
        this.outcomes = outcomes;
        this.json = json;
        this.maxPageSize = properties.limits().maxPageSize();
    }

    record CreatedView(@JsonProperty("_id") String id, String jobId, String orderId, String status) {}

    @Operation(summary = "Submit a job (the seed's route)", description = "Stores the job exactly as sent and "
            + "queues its order. scriptName is required; priority, maxAttempts, requiredLabels, timeoutSeconds "
            + "and projectName are read by the Boss; everything else is the script's.")
    @io.swagger.v3.oas.annotations.parameters.RequestBody(content = @Content(mediaType = "application/json",
            schema = @Schema(type = "object"), examples = @ExampleObject(name = "the seed's job", value = SEED_JOB)))
    @ApiResponse(responseCode = "201", description = "stored and queued", content = @Content(examples = @ExampleObject(
            value = "{\"_id\":\"6b09...7a\",\"jobId\":\"6b09...7a\",\"orderId\":\"6b09...7b\",\"status\":\"unassigned\"}")))
    @PostMapping("/job/create")
    ResponseEntity<CreatedView> create(@RequestBody JsonNode body) {
        JobService.Created created = service.create(json.toDocument(body, "A job"));
        Order order = created.order();
        return ResponseEntity.created(URI.create("/jobs/" + created.jobId()))
                .body(new CreatedView(created.jobId(), created.jobId(), order.id().toHexString(),
                        order.status().wire()));
    }

    /** The seed's job fetch: the job exactly as submitted, plus {@code _id}. */
    @Operation(summary = "The job exactly as submitted, plus _id (the seed's route)")
    @GetMapping("/retrieve/job/{id}")
    Map<String, Object> retrieve(@PathVariable String id) {
        return BsonView.plain(job(id));
    }

    @Operation(summary = "The job's outcome")
    @GetMapping("/retrieve/outcome/{jobId}")
    Map<String, Object> outcome(@PathVariable String jobId) {
        Ids.parse(jobId, "job");
        return outcomes.findByJobId(jobId).map(BsonView::plain)
                .orElseThrow(() -> ApiProblem.notFound("outcome for job", jobId));
    }

    @JsonInclude(JsonInclude.Include.NON_NULL)
    record JobDetail(Map<String, Object> job, OrderView order, Map<String, Object> outcome) {}

    @Operation(summary = "A job with its order (and the order's history) and its outcome")
    @GetMapping("/jobs/{id}")
    JobDetail detail(@PathVariable String id) {
        Document job = job(id);
        return new JobDetail(BsonView.plain(job),
                orders.findByJobId(id).map(OrderView::of).orElse(null),
                outcomes.findByJobId(id).map(BsonView::plain).orElse(null));
    }

    record JobSummary(OrderView order, Map<String, Object> job) {}

    record JobPage(int page, int size, long total, List<JobSummary> items) {}

    @Operation(summary = "Jobs, newest first, filtered by project and status")
    @GetMapping("/jobs")
    JobPage list(@RequestParam(required = false) String project, @RequestParam(required = false) String status,
            @RequestParam(defaultValue = "0") int page, @RequestParam(defaultValue = "50") int size) {
        Paging.checkPage(page, size, maxPageSize);
        OrderStatus wanted = OrderStatus.fromQuery(status);
        String projectName = project == null || project.isBlank() ? null : project;
        List<Order> found = orders.page(projectName, wanted, page, size);
        Map<String, Document> byId = jobs.findAll(found.stream().map(Order::jobId).toList());
        List<JobSummary> items = found.stream()
                .map(o -> new JobSummary(OrderView.of(o),
                        byId.containsKey(o.jobId()) ? BsonView.plain(byId.get(o.jobId())) : null))
                .toList();
        return new JobPage(page, size, orders.count(projectName, wanted), items);
    }

    /** Project names seen in the orders, for the dashboard's pickers. */
    @Operation(summary = "Project names")
    @GetMapping("/projects")
    List<String> projects() {
        return orders.projects();
    }

    @Operation(summary = "Cancel a job; a worker running it hears so on its next heartbeat")
    @PostMapping("/jobs/{id}/cancel")
    OrderView cancel(@PathVariable String id) {
        job(id);
        return OrderView.of(orders.cancel(id, "cancelled by request"));
    }

    private Document job(String id) {
        return jobs.findById(Ids.parse(id, "job")).orElseThrow(() -> ApiProblem.notFound("job", id));
    }
}
