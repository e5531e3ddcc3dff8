package com.maddatum.boss.job;

import io.swagger.v3.oas.annotations.Operation;
import io.swagger.v3.oas.annotations.media.Content;
import io.swagger.v3.oas.annotations.media.ExampleObject;
import io.swagger.v3.oas.annotations.media.Schema;
import io.swagger.v3.oas.annotations.responses.ApiResponse;
import io.swagger.v3.oas.annotations.tags.Tag;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.maddatum.boss.order.Order;
import com.maddatum.boss.order.OrderService;
import com.maddatum.boss.order.OrderView;
import com.maddatum.boss.web.ApiProblem;
import com.maddatum.boss.web.BsonView;
import com.maddatum.boss.web.Ids;
import com.maddatum.boss.web.JsonInput;
import java.net.URI;
import java.util.Map;
import org.bson.Document;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RestController;
import tools.jackson.databind.JsonNode;

/**
 * Submitting jobs (the seed's {@code /job/create}), the seed's job fetch, and cancelling. What people
 * read about jobs is in {@code readmodel}.
 */
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
    private final JsonInput json;

    JobController(JobService service, JobStore jobs, OrderService orders, JsonInput json) {
        this.service = service;
        this.jobs = jobs;
        this.orders = orders;
        this.json = json;
    }

    record CreatedView(@JsonProperty("_id") String id, String jobId, String orderId, String status) {}

    @Operation(summary = "Submit a job (the seed's route)", description = "Stores the job exactly as sent and "
            + "queues its order. scriptName is required; priority, maxAttempts, requiredLabels, timeoutSeconds, "
            + "projectName and seed are read by the Boss; everything else is the script's. A job without a seed "
            + "gets one the Boss chooses (seedSource \"boss\"); rerunOf and reruns are the Boss's to write.")
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

    record RerunView(@JsonProperty("_id") String id, String jobId, String orderId, String status, String rerunOf) {}

    @Operation(summary = "Run a job again", description = "A new job with the original's fields and the body's "
            + "over them (shallow; a null removes a field), the same seed and data file unless the body says "
            + "otherwise ({\"seed\": null} asks for a new seed). The new job has rerunOf; the original lists it "
            + "in reruns.")
    @io.swagger.v3.oas.annotations.parameters.RequestBody(required = false, content = @Content(
            mediaType = "application/json", schema = @Schema(type = "object"),
            examples = @ExampleObject(name = "more epochs", value = "{\"epochs\": 500}")))
    @ApiResponse(responseCode = "201", description = "stored and queued", content = @Content(examples = @ExampleObject(
            value = "{\"_id\":\"6b0a...01\",\"jobId\":\"6b0a...01\",\"orderId\":\"6b0a...02\",\"status\":"
                    + "\"unassigned\",\"rerunOf\":\"6b09...7a\"}")))
    @PostMapping("/jobs/{id}/rerun")
    ResponseEntity<RerunView> rerun(@PathVariable String id, @RequestBody(required = false) JsonNode body) {
        Document overrides = body == null || body.isNull() || body.isMissingNode() ? new Document()
                : json.toDocument(body, "A rerun's overrides");
        JobService.Rerun rerun = service.rerun(id, overrides);
        JobService.Created created = rerun.created();
        return ResponseEntity.created(URI.create("/jobs/" + created.jobId()))
                .body(new RerunView(created.jobId(), created.jobId(), created.order().id().toHexString(),
                        created.order().status().wire(), rerun.rerunOf()));
    }

    /** The seed's job fetch: the job exactly as submitted, plus {@code _id}. */
    @Operation(summary = "The job exactly as submitted, plus _id (the seed's route)")
    @GetMapping("/retrieve/job/{id}")
    Map<String, Object> retrieve(@PathVariable String id) {
        return BsonView.plain(job(id));
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
