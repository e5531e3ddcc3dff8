package com.maddatum.boss.outcome;

import io.swagger.v3.oas.annotations.Operation;
import io.swagger.v3.oas.annotations.media.Content;
import io.swagger.v3.oas.annotations.media.ExampleObject;
import io.swagger.v3.oas.annotations.media.Schema;
import io.swagger.v3.oas.annotations.tags.Tag;
import com.maddatum.boss.config.BossProperties;
import com.maddatum.boss.log.LogIntake;
import com.maddatum.boss.order.OrderView;
import com.maddatum.boss.web.ApiProblem;
import com.maddatum.boss.web.JsonInput;
import io.swagger.v3.oas.annotations.Parameter;
import io.swagger.v3.oas.annotations.responses.ApiResponse;
import org.bson.Document;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RestController;
import tools.jackson.databind.JsonNode;

/** The seed's {@code POST /callback}: a worker reports how a job ended. */
@RestController
@Tag(name = "worker protocol")
class CallbackController {

    private final OutcomeService outcomes;
    private final NextOrder nextOrder;
    private final JsonInput json;
    private final int maxLogTail;

    CallbackController(OutcomeService outcomes, NextOrder nextOrder, JsonInput json, BossProperties properties) {
        this.outcomes = outcomes;
        this.nextOrder = nextOrder;
        this.json = json;
        this.maxLogTail = properties.limits().maxLogTailChars();
    }

    @Operation(summary = "Report how a job ended (the seed's route)", description = "The seed's bare form is matched "
            + "to the job's current order; the rich form names the order and attempt. Repeats are answered 200 and "
            + "stored once; a stale attempt gets 409. logs ({\"text\": ...}, at most 65,536 characters; node and "
            + "attempt optional, and the report's when given) are the run's last output lines, appended to the job's "
            + "log as the logs route would. next=true (a callback naming orderId, attempt and node) claims the "
            + "node's next order as POST /bored/{node}?heartbeats=true would, after the outcome is stored, and "
            + "answers it, with its job, as next (absent when there is none). A repeat claims nothing new: it gets "
            + "again the order its first call claimed, if that is still unstarted, or without next=true puts it back.")
    @ApiResponse(responseCode = "200", content = @Content(examples = @ExampleObject(value = "{\"orderId\":\"6b09...7b\","
            + "\"orderStatus\":\"done\",\"outcomeId\":\"6b09...7c\",\"duplicate\":false,\"next\":{\"_id\":\"6b09...7e\","
            + "\"jobId\":\"6b09...7d\",\"status\":\"assigned\",\"attempt\":1,\"assignedTo\":\"gpu-1\",\"job\":{\"_id\":"
            + "\"6b09...7d\",\"scriptName\":\"nn.py\"}}}")))
    @io.swagger.v3.oas.annotations.parameters.RequestBody(content = @Content(mediaType = "application/json",
            schema = @Schema(type = "object"), examples = {
            @ExampleObject(name = "the seed's form", value = "{\"status\":200,\"jobId\":\"6b09...7a\",\"loss\":15109.17,"
                    + "\"metric\":14281.45}"),
            @ExampleObject(name = "the worker's form", value = "{\"status\":200,\"jobId\":\"6b09...7a\",\"orderId\":"
                    + "\"6b09...7b\",\"attempt\":1,\"node\":\"gpu-1\",\"loss\":2946.5,\"metric\":-2946.5,\"metricName\":"
                    + "\"neg_mean_squared_error\",\"startedAt\":\"2026-11-27T08:00:01Z\",\"finishedAt\":"
                    + "\"2026-11-27T08:00:04Z\",\"exitCode\":0,\"logTail\":\"fold 5/5 ...\",\"logs\":{\"text\":"
                    + "\"fold 5/5 loss=2946.5\\n\"}}")}))
    @PostMapping("/callback")
    OutcomeService.Recorded callback(@RequestBody JsonNode body,
            @Parameter(description = "claim this node's next order and answer it as next (see above)")
            @RequestParam(defaultValue = "false") boolean next,
            @Parameter(description = "with next=true: the memory of the asking slot's GPU, as /bored takes it")
            @RequestParam(required = false) Long gpuMemoryMiB) {
        if (gpuMemoryMiB != null && gpuMemoryMiB < 0) {
            throw ApiProblem.invalidField("gpuMemoryMiB", "gpuMemoryMiB must be an integer, 0 or more.");
        }
        Document document = json.toDocument(body, "An outcome");
        // Only a Worker's report (order, attempt and node named) carries its last lines as logs; anywhere else
        // logs is a script's own field (the seed's worker posts what the script printed) and stays in details.
        Object logs = names(document, "orderId", "attempt", "node") ? document.remove("logs") : null;
        OutcomeReport report = OutcomeReport.parse(document, maxLogTail);
        OutcomeService.Recorded recorded;
        try {
            recorded = outcomes.record(report, logText(logs, report));
        } catch (ApiProblem problem) {
            if (problem.isStaleAttempt()) {
                nextOrder.refused(report);
            }
            throw problem;
        }
        OrderView claimed = nextOrder.after(recorded, report, next, gpuMemoryMiB);
        return claimed == null ? recorded : recorded.withNext(claimed);
    }

    private static boolean names(Document document, String... fields) {
        for (String field : fields) {
            if (document.get(field) == null) {
                return false;
            }
        }
        return true;
    }

    /**
     * The run's last lines, checked as the logs route checks a batch: a {@code text} within the batch cap, and
     * the report's own node and attempt if it names any. Refused before anything is stored.
     */
    private static String logText(Object logs, OutcomeReport report) {
        if (logs == null) {
            return null;
        }
        if (!(logs instanceof Document batch) || !(batch.get("text") instanceof String text)) {
            throw ApiProblem.invalidField("logs", "logs must be an object with a string text.");
        }
        if (text.length() > LogIntake.MAX_BATCH_CHARS) {
            throw ApiProblem.invalidField("logs", "logs.text must be at most " + LogIntake.MAX_BATCH_CHARS
                    + " characters.");
        }
        if (batch.containsKey("node") && !java.util.Objects.equals(batch.get("node"), report.node())) {
            throw ApiProblem.invalidField("logs", "logs.node must be the outcome's node.");
        }
        if (batch.containsKey("attempt") && !(batch.get("attempt") instanceof Number n
                && report.attempt() != null && n.longValue() == report.attempt())) {
            throw ApiProblem.invalidField("logs", "logs.attempt must be the outcome's attempt.");
        }
        return text;
    }
}
