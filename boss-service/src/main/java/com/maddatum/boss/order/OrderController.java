package com.maddatum.boss.order;

import io.swagger.v3.oas.annotations.Operation;
import io.swagger.v3.oas.annotations.media.Content;
import io.swagger.v3.oas.annotations.media.ExampleObject;
import io.swagger.v3.oas.annotations.responses.ApiResponse;
import io.swagger.v3.oas.annotations.tags.Tag;
import com.maddatum.boss.config.BossProperties;
import com.maddatum.boss.security.NodeAccess;
import com.maddatum.boss.web.ApiProblem;
import com.maddatum.boss.web.Ids;
import com.maddatum.boss.web.JsonInput;
import com.maddatum.boss.worker.WorkerRegistry;
import jakarta.validation.Valid;
import jakarta.validation.constraints.Min;
import jakarta.validation.constraints.NotBlank;
import jakarta.validation.constraints.NotNull;
import jakarta.validation.constraints.Size;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import org.bson.Document;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.RestController;
import org.springframework.web.context.request.async.DeferredResult;
import tools.jackson.databind.JsonNode;

/** The worker-facing order routes: the seed's {@code /bored}, and heartbeats. */
@RestController
@Tag(name = "worker protocol", description = "What workers call: claim, heartbeat, callback, logs")
class OrderController {

    private static final Logger log = LoggerFactory.getLogger(OrderController.class);

    private final OrderService orders;
    private final Claims claims;
    private final ClaimWaiters waiters;
    private final WorkerRegistry workers;
    private final NodeAccess nodes;
    private final JsonInput json;
    private final BossProperties properties;
    private final ObjectProvider<HeartbeatAdvice> advice;

    OrderController(OrderService orders, Claims claims, ClaimWaiters waiters, WorkerRegistry workers, NodeAccess nodes,
            JsonInput json, BossProperties properties, ObjectProvider<HeartbeatAdvice> advice) {
        this.orders = orders;
        this.claims = claims;
        this.waiters = waiters;
        this.workers = workers;
        this.nodes = nodes;
        this.json = json;
        this.properties = properties;
        this.advice = advice;
    }

    /**
     * The seed's "I am bored": 200 with the claimed order, or 204 when there is no work. With
     * {@code waitSeconds} the request is held (up to {@code boss.claim.max-wait}) until work arrives.
     * A worker that heartbeats says so with {@code heartbeats=true} and gets {@code boss.lease.timeout};
     * one that does not (the seed's worker) gets a lease as long as the job's own time limit, and only
     * such a claim can be completed by the seed's bare callback. A slot bound to a GPU sends that GPU's
     * memory as {@code gpuMemoryMiB}: only then can it be given a job with {@code minGpuMemoryMiB}.
     */
    @Operation(summary = "Claim the best order this node can run (the seed's route)", description = "200 with the "
            + "order, now assigned and leased, and its job inside (job: as GET /retrieve/job/{id} returns it; left out "
            + "when it cannot be read, and the seed's worker ignores it); 204 when there is none. waitSeconds long-polls; heartbeats=true "
            + "takes the short lease that heartbeats keep alive; gpuMemoryMiB is the memory of the GPU of the "
            + "asking slot (without it, no order with minGpuMemoryMiB is given).")
    @ApiResponse(responseCode = "200", content = @Content(examples = @ExampleObject(value = "{\"_id\":\"6b09...7b\","
            + "\"jobId\":\"6b09...7a\",\"createdDate\":\"2026-11-27T08:00:00Z\",\"status\":\"assigned\",\"attempt\":1,"
            + "\"assignedTo\":\"gpu-1\",\"leaseExpiresAt\":\"2026-11-27T08:05:00Z\",\"job\":{\"_id\":\"6b09...7a\","
            + "\"scriptName\":\"nn.py\",\"dataFileName\":\"wine_data.csv\"}}")))
    @ApiResponse(responseCode = "204", description = "no work for this node")
    @PostMapping("/bored/{nodeName}")
    DeferredResult<ResponseEntity<Object>> bored(@PathVariable String nodeName,
            @RequestParam(defaultValue = "0") int waitSeconds, @RequestParam(defaultValue = "false") boolean heartbeats,
            @RequestParam(required = false) Long gpuMemoryMiB) {
        String node = WorkerRegistry.checkNodeName(nodeName, "nodeName");
        if (waitSeconds < 0) {
            throw ApiProblem.invalidField("waitSeconds", "waitSeconds must be 0 or more.");
        }
        if (gpuMemoryMiB != null && gpuMemoryMiB < 0) {
            throw ApiProblem.invalidField("gpuMemoryMiB", "gpuMemoryMiB must be an integer, 0 or more.");
        }
        nodes.require(node);
        // Per call, not per node: each slot of a Worker is bound to its own GPU (or to none) and says so.
        Claimer claimer = claims.claimer(node, heartbeats, gpuMemoryMiB);
        Optional<Order> claimed = claims.claim(claimer);
        if (claimed.isPresent() || waitSeconds == 0) {
            DeferredResult<ResponseEntity<Object>> now = new DeferredResult<>();
            now.setResult(claimed.<ResponseEntity<Object>>map(o -> ResponseEntity.ok(claims.answer(o)))
                    .orElseGet(() -> ResponseEntity.noContent().build()));
            return now;
        }
        Duration cap = properties.claim().maxWait();
        Duration wait = Duration.ofSeconds(waitSeconds).compareTo(cap) > 0 ? cap : Duration.ofSeconds(waitSeconds);
        return waiters.await(claimer, wait);
    }

    record HeartbeatRequest(
            @NotBlank @Size(max = 128) String node,
            @NotNull @Min(1) Integer attempt,
            JsonNode progress) {}

    /** {@code stop}: present ({@code "pruned"}) when the script should stop although nobody cancelled it. */
    record HeartbeatResponse(String orderId, String status, int attempt, Instant leaseExpiresAt,
            boolean cancelRequested, String stop) {}

    @Operation(summary = "Extend the lease; learn whether the job was cancelled", description = "409 when the "
            + "attempt is stale (the lease was lost); the worker must then stop the script. progress.points "
            + "([[step, value], ...], a sweep trial's intermediate values) is read for early stopping, not stored "
            + "in the order; stop: \"pruned\" in the answer asks the worker to stop the script as for a cancel.")
    @io.swagger.v3.oas.annotations.parameters.RequestBody(content = @Content(examples = @ExampleObject(
            value = "{\"node\":\"gpu-1\",\"attempt\":1,\"progress\":{\"epoch\":12,\"loss\":0.31}}")))
    @PostMapping("/orders/{id}/heartbeat")
    HeartbeatResponse heartbeat(@PathVariable String id, @Valid @RequestBody HeartbeatRequest request) {
        var orderId = Ids.parse(id, "order");
        String node = WorkerRegistry.checkNodeName(request.node(), "node");
        nodes.require(node);
        Document progress = request.progress() == null || request.progress().isNull()
                ? null : json.toDocument(request.progress(), "progress");
        // The points are a sweep's (up to a thousand per beat): the order keeps only the latest step and value.
        Document kept = progress == null || !progress.containsKey("points") ? progress : without(progress, "points");
        OrderService.Heartbeat beat = orders.heartbeat(orderId, node, request.attempt(), kept);
        workers.seen(node);
        Order order = beat.order();
        return new HeartbeatResponse(id, order.status().wire(), order.attempt(), order.leaseExpiresAt(),
                beat.cancelRequested(), beat.cancelRequested() ? null : stopFor(order, progress));
    }

    /** What the advice says; a failure there must not cost the Worker its heartbeat (and so its lease). */
    private String stopFor(Order order, Document progress) {
        HeartbeatAdvice adviser = advice.getIfAvailable();
        if (adviser == null) {
            return null;
        }
        try {
            return adviser.stopFor(order, progress);
        } catch (RuntimeException e) {
            log.warn("heartbeat advice failed order={} job={} error={}", order.id(), order.jobId(), e.toString());
            return null;
        }
    }

    private static Document without(Document document, String key) {
        Document copy = new Document(document);
        copy.remove(key);
        return copy;
    }
}
