package com.maddatum.boss.log;

import io.swagger.v3.oas.annotations.Operation;
import io.swagger.v3.oas.annotations.media.Content;
import io.swagger.v3.oas.annotations.media.ExampleObject;
import io.swagger.v3.oas.annotations.tags.Tag;
import com.maddatum.boss.order.Order;
import com.maddatum.boss.order.OrderQueries;
import com.maddatum.boss.order.OrderService;
import com.maddatum.boss.security.NodeAccess;
import com.maddatum.boss.web.ApiProblem;
import com.maddatum.boss.web.Ids;
import com.maddatum.boss.worker.WorkerRegistry;
import jakarta.validation.Valid;
import jakarta.validation.constraints.Min;
import jakarta.validation.constraints.NotBlank;
import jakarta.validation.constraints.NotNull;
import jakarta.validation.constraints.Size;
import java.io.IOException;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import org.bson.Document;
import org.bson.types.ObjectId;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.RestController;
import org.springframework.web.servlet.mvc.method.annotation.SseEmitter;

/** Script output while it runs: workers post batches; people read it, or follow it live over SSE. */
@RestController
@Tag(name = "logs")
class LogController {

    private final LogStore logs;
    private final LogHub hub;
    private final LogIntake intake;
    private final OrderQueries orders;
    private final NodeAccess nodes;

    LogController(LogStore logs, LogHub hub, LogIntake intake, OrderQueries orders, NodeAccess nodes) {
        this.logs = logs;
        this.hub = hub;
        this.intake = intake;
        this.orders = orders;
        this.nodes = nodes;
    }

    record LogBatch(@NotBlank @Size(max = 128) String node, @NotNull @Min(1) Integer attempt,
            @NotNull @Size(max = LogIntake.MAX_BATCH_CHARS) String text) {}

    @Operation(summary = "Append a batch of script output (the worker holding the order)", description = "The run's "
            + "last lines may instead travel with its outcome (logs in the callback's body), under the same caps.")
    @io.swagger.v3.oas.annotations.parameters.RequestBody(content = @Content(examples = @ExampleObject(
            value = "{\"node\":\"gpu-1\",\"attempt\":1,\"text\":\"fold 1/5 loss=3012.4\\n\"}")))
    @PostMapping("/orders/{id}/logs")
    Map<String, Object> append(@PathVariable String id, @Valid @RequestBody LogBatch batch) {
        ObjectId orderId = Ids.parse(id, "order");
        WorkerRegistry.checkNodeName(batch.node(), "node");
        nodes.require(batch.node());
        Order order = orders.findById(orderId).orElseThrow(() -> ApiProblem.notFound("order", id));
        if (!LogIntake.heldBy(order, batch.node(), batch.attempt())) {
            throw ApiProblem.staleAttempt(OrderService.describe(order, batch.node(), batch.attempt()));
        }
        intake.append(order, batch.attempt(), batch.text());
        return Map.of("accepted", batch.text().length());
    }

    /** The job's log so far; with {@code follow=true} an SSE stream of it, then of each new batch. */
    @Operation(summary = "The job's log; with follow=true a text/event-stream of log events, then end")
    @GetMapping("/jobs/{id}/logs")
    Object read(@PathVariable String id, @RequestParam(defaultValue = "false") boolean follow) throws IOException {
        Ids.parse(id, "job");
        Order order = orders.findByJobId(id).orElseThrow(() -> ApiProblem.notFound("job", id));
        Document log = logs.find(order.id()).orElse(new Document("text", ""));
        if (!follow) {
            Map<String, Object> body = new LinkedHashMap<>();
            body.put("jobId", id);
            body.put("orderId", order.id().toHexString());
            body.put("status", order.status().wire());
            body.put("text", log.getString("text"));
            body.put("truncated", log.getBoolean("truncated", false));
            return body;
        }
        SseEmitter emitter = new SseEmitter(Duration.ofMinutes(30).toMillis());
        hub.follow(order.id(), emitter);
        emitter.send(SseEmitter.event().name("log").data(log.getString("text")));
        if (hub.settled(order)) { // finished just now: the hub ends it once the last lines are in
            emitter.send(SseEmitter.event().name("end").data(order.status().wire()));
            emitter.complete();
        }
        return emitter;
    }
}
