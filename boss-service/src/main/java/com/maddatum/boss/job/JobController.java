package com.maddatum.boss.job;

import io.swagger.v3.oas.annotations.Hidden;
import io.swagger.v3.oas.annotations.Operation;
import io.swagger.v3.oas.annotations.Parameter;
import io.swagger.v3.oas.annotations.enums.ParameterIn;
import io.swagger.v3.oas.annotations.media.Content;
import io.swagger.v3.oas.annotations.media.ExampleObject;
import io.swagger.v3.oas.annotations.media.Schema;
import io.swagger.v3.oas.annotations.responses.ApiResponse;
import io.swagger.v3.oas.annotations.tags.Tag;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.maddatum.boss.idempotency.IdempotentCreates;
import com.maddatum.boss.order.Order;
import com.maddatum.boss.order.OrderQueries;
import com.maddatum.boss.order.OrderService;
import com.maddatum.boss.order.OrderView;
import com.maddatum.boss.web.ApiProblem;
import com.maddatum.boss.web.BsonView;
import com.maddatum.boss.web.Ids;
import com.maddatum.boss.web.JsonInput;
import java.net.URI;
import java.time.Duration;
import java.util.Map;
import org.bson.Document;
import org.bson.types.ObjectId;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RequestHeader;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.RestController;
import org.springframework.web.context.request.async.DeferredResult;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * Submitting jobs (the seed's {@code /job/create}), the seed's job fetch, and cancelling. What people
 * read about jobs is in {@code readmodel}.
 */
@RestController
@Tag(name = "jobs", description = "Submitting jobs and following them (people and the dashboard)")
class JobController {

    /** A trial's record of its varied parameters (see the sweep package's TrialJobs): the Boss's, never a submitter's. */
    static final String SWEEP_PARAMS = "sweepParams";


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
    private final OrderQueries orderReads;
    private final IdempotentCreates idempotent;
    private final FinishWaits finishes;

    JobController(JobService service, JobStore jobs, OrderService orders, OrderQueries orderReads, JsonInput json,
            IdempotentCreates idempotent, FinishWaits finishes) {
        this.service = service;
        this.jobs = jobs;
        this.orders = orders;
        this.json = json;
        this.orderReads = orderReads;
        this.idempotent = idempotent;
        this.finishes = finishes;
    }

    record CreatedView(@JsonProperty("_id") String id, String jobId, String orderId, String status) {}

    @Operation(summary = "Submit a job (the seed's route)", description = "Stores the job exactly as sent and "
            + "queues its order. scriptName is required; priority, maxAttempts, requiredLabels, timeoutSeconds, "
            + "projectName and seed are read by the Boss; everything else is the script's. A dataFileName that names a "
            + "dataset gets the latest version's dataSha256 recorded in the job (a submitter may pin dataSha256). "
            + "A job without a seed "
            + "gets one the Boss chooses (seedSource \"boss\"); rerunOf and reruns are the Boss's to write. With an "
            + "Idempotency-Key, sending the same body again (within boss.idempotency.keep-for) creates nothing and "
            + "answers as the first time, with Idempotent-Replayed: true; the same key with another body is a 422.")
    @io.swagger.v3.oas.annotations.parameters.RequestBody(content = @Content(mediaType = "application/json",
            schema = @Schema(type = "object"), examples = @ExampleObject(name = "the seed's job", value = SEED_JOB)))
    @ApiResponse(responseCode = "201", description = "stored and queued (or, replayed, as it was)", content = @Content(
            schema = @Schema(implementation = CreatedView.class), examples = @ExampleObject(
            value = "{\"_id\":\"6b09...7a\",\"jobId\":\"6b09...7a\",\"orderId\":\"6b09...7b\",\"status\":\"unassigned\"}")))
    @Parameter(name = "waitSeconds", in = ParameterIn.QUERY, schema = @Schema(type = "integer", minimum = "0"),
            description = "Hold the answer until the job is done, failed or cancelled, or this many seconds pass "
                    + "(at most boss.queue.max-wait). 201 either way: the fields above, status as it is then, and the "
                    + "job, order, outcome and queue place as GET /jobs/{id} shows them.")
    @PostMapping("/job/create")
    ResponseEntity<?> create(@RequestBody JsonNode body, @Parameter(description = "1-255 visible ASCII characters, "
            + "e.g. a UUID; repeats of this request with this key create one job")
            @RequestHeader(name = IdempotentCreates.KEY_HEADER, required = false) String idempotencyKey) {
        // A trial's job sent back (GET /retrieve/job, then here) is not a trial: its sweepParams, the Boss's record of
        // what the sweep varied (dotted paths as keys, which a submitted body may not have), are dropped, not refused.
        if (body instanceof ObjectNode object && object.has(SWEEP_PARAMS)) {
            body = object.deepCopy();
            ((ObjectNode) body).remove(SWEEP_PARAMS);
        }
        Document job = json.toDocument(body, "A job");
        return idempotent.once("job/create", idempotencyKey, body, jobId -> created(service.create(jobId, job)));
    }

    private static ResponseEntity<CreatedView> created(JobService.Created created) {
        Order order = created.order();
        return ResponseEntity.created(URI.create("/jobs/" + created.jobId()))
                .body(new CreatedView(created.jobId(), created.jobId(), order.id().toHexString(),
                        order.status().wire()));
    }

    /**
     * {@code POST /job/create?waitSeconds=N}: created as usual, answered once the job is done, failed or
     * cancelled, or after N seconds (at most {@code boss.queue.max-wait}). Always 201, with the seed's
     * fields ({@code status} as it is when answered) and the job as {@code GET /jobs/{id}} shows it.
     */
    @Hidden // documented as the waitSeconds parameter of create(): the docs show one operation per route
    @PostMapping(value = "/job/create", params = "waitSeconds")
    @SuppressWarnings("unchecked")
    DeferredResult<ResponseEntity<Object>> createAndWait(@RequestBody JsonNode body, @RequestParam int waitSeconds,
            @RequestHeader(name = IdempotentCreates.KEY_HEADER, required = false) String idempotencyKey) {
        Duration wait = finishes.capped(waitSeconds);
        ResponseEntity<?> answer = create(body, idempotencyKey);
        java.net.URI location = answer.getHeaders().getLocation();
        if (answer.getStatusCode().value() != 201 || location == null) {
            // A 409 (the first request with this key is still creating) or a 4xx: answered as is.
            DeferredResult<ResponseEntity<Object>> now = new DeferredResult<>();
            now.setResult((ResponseEntity<Object>) answer);
            return now;
        }
        // Fresh or replayed, the job is the one at Location: a client whose create-and-wait timed out
        // retries with the same key and waits for the same job, rather than getting the 201 back at once.
        String path = location.getPath();
        String jobId = path.substring(path.lastIndexOf('/') + 1);
        Order order = orderReads.findByJobId(jobId).orElseThrow(() -> ApiProblem.notFound("order of job", jobId));
        org.springframework.http.HttpHeaders headers = new org.springframework.http.HttpHeaders();
        String replayed = answer.getHeaders().getFirst(IdempotentCreates.REPLAYED_HEADER);
        if (replayed != null) {
            headers.set(IdempotentCreates.REPLAYED_HEADER, replayed);
        }
        return finishes.untilFinished(jobId, order.id(), wait, headers);
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
    ResponseEntity<?> rerun(@PathVariable String id, @RequestBody(required = false) JsonNode body,
            @Parameter(description = "as on POST /job/create: a double click or a retry makes one rerun")
            @RequestHeader(name = IdempotentCreates.KEY_HEADER, required = false) String idempotencyKey) {
        boolean empty = body == null || body.isNull() || body.isMissingNode();
        JsonNode request = empty ? tools.jackson.databind.node.JsonNodeFactory.instance.objectNode() : body;
        return idempotent.once("jobs/" + id + "/rerun", idempotencyKey, request, jobId -> {
            Document overrides = empty ? new Document() : json.toDocument(body, "A rerun's overrides");
            JobService.Rerun rerun = service.rerun(id, overrides, jobId);
            JobService.Created created = rerun.created();
            return ResponseEntity.created(URI.create("/jobs/" + created.jobId()))
                    .body(new RerunView(created.jobId(), created.jobId(), created.order().id().toHexString(),
                            created.order().status().wire(), rerun.rerunOf()));
        });
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
