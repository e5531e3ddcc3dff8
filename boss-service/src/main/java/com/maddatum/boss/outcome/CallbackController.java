package com.maddatum.boss.outcome;

import com.maddatum.boss.config.BossProperties;
import com.maddatum.boss.web.JsonInput;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RestController;
import tools.jackson.databind.JsonNode;

/** The seed's {@code POST /callback}: a worker reports how a job ended. */
@RestController
class CallbackController {

    private final OutcomeService outcomes;
    private final JsonInput json;
    private final int maxLogTail;

    CallbackController(OutcomeService outcomes, JsonInput json, BossProperties properties) {
        this.outcomes = outcomes;
        this.json = json;
        this.maxLogTail = properties.limits().maxLogTailChars();
    }

    @PostMapping("/callback")
    OutcomeService.Recorded callback(@RequestBody JsonNode body) {
        OutcomeReport report = OutcomeReport.parse(json.toDocument(body, "An outcome"), maxLogTail);
        return outcomes.record(report);
    }
}
