package com.maddatum.boss.outcome;

import io.swagger.v3.oas.annotations.Operation;
import io.swagger.v3.oas.annotations.media.Content;
import io.swagger.v3.oas.annotations.media.ExampleObject;
import io.swagger.v3.oas.annotations.media.Schema;
import io.swagger.v3.oas.annotations.tags.Tag;
import com.maddatum.boss.config.BossProperties;
import com.maddatum.boss.web.JsonInput;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RestController;
import tools.jackson.databind.JsonNode;

/** The seed's {@code POST /callback}: a worker reports how a job ended. */
@RestController
@Tag(name = "worker protocol")
class CallbackController {

    private final OutcomeService outcomes;
    private final JsonInput json;
    private final int maxLogTail;

    CallbackController(OutcomeService outcomes, JsonInput json, BossProperties properties) {
        this.outcomes = outcomes;
        this.json = json;
        this.maxLogTail = properties.limits().maxLogTailChars();
    }

    @Operation(summary = "Report how a job ended (the seed's route)", description = "The seed's bare form is matched "
            + "to the job's current order; the rich form names the order and attempt. Repeats are answered 200 and "
            + "stored once; a stale attempt gets 409.")
    @io.swagger.v3.oas.annotations.parameters.RequestBody(content = @Content(mediaType = "application/json",
            schema = @Schema(type = "object"), examples = {
            @ExampleObject(name = "the seed's form", value = "{\"status\":200,\"jobId\":\"6b09...7a\",\"loss\":15109.17,"
                    + "\"metric\":14281.45}"),
            @ExampleObject(name = "the worker's form", value = "{\"status\":200,\"jobId\":\"6b09...7a\",\"orderId\":"
                    + "\"6b09...7b\",\"attempt\":1,\"node\":\"gpu-1\",\"loss\":2946.5,\"metric\":-2946.5,\"metricName\":"
                    + "\"neg_mean_squared_error\",\"startedAt\":\"2026-11-27T08:00:01Z\",\"finishedAt\":"
                    + "\"2026-11-27T08:00:04Z\",\"exitCode\":0,\"logTail\":\"fold 5/5 ...\"}")}))
    @PostMapping("/callback")
    OutcomeService.Recorded callback(@RequestBody JsonNode body) {
        OutcomeReport report = OutcomeReport.parse(json.toDocument(body, "An outcome"), maxLogTail);
        return outcomes.record(report);
    }
}
