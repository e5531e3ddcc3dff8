package com.maddatum.boss.outcome;

import static org.assertj.core.api.Assertions.assertThat;

import com.maddatum.boss.support.BossApiTestBase;
import com.maddatum.testsupport.HttpJson;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;

class CallbackApiTest extends BossApiTestBase {

    @Test
    void acceptsTheSeedsBareOutcomeForTheJobsAssignedOrder() {
        String jobId = submit(job("projectName", "bare")).get("jobId").asString();
        seedClaim("seed-worker");
        HttpJson.Reply reply = boss.post("/callback", Map.of("status", 200, "jobId", jobId, "loss", 15109.168650257,
                "metric", 14281.4453526111));
        assertThat(reply.status()).isEqualTo(200);
        JsonNode outcome = boss.get("/retrieve/outcome/" + jobId).json();
        assertThat(outcome.get("status").asInt()).isEqualTo(200);
        assertThat(outcome.get("jobId").asString()).isEqualTo(jobId);
        assertThat(outcome.get("loss").asDouble()).isEqualTo(15109.168650257);
        assertThat(outcome.get("metric").asDouble()).isEqualTo(14281.4453526111);
        assertThat(outcome.get("node").asString()).isEqualTo("seed-worker");
    }

    @Test
    void keepsTheRichFormAndTheScriptsExtraFields() {
        String jobId = submit(job()).get("jobId").asString();
        JsonNode order = claim("rich");
        Map<String, Object> report = new HashMap<>();
        report.put("status", 200);
        report.put("jobId", jobId);
        report.put("orderId", order.get("_id").asString());
        report.put("attempt", 1);
        report.put("node", "rich");
        report.put("loss", 0.5);
        report.put("metric", 0.7);
        report.put("metricName", "neg_mean_squared_error");
        report.put("startedAt", "2026-01-01T00:00:00Z");
        report.put("finishedAt", "2026-01-01T00:01:00Z");
        report.put("exitCode", 0);
        report.put("metrics", Map.of("r2", 0.9));
        report.put("logTail", "epoch 1\nepoch 2\n");
        report.put("device", "cpu");
        report.put("epochsRun", 12);
        assertThat(boss.post("/callback", report).status()).isEqualTo(200);
        JsonNode outcome = boss.get("/retrieve/outcome/" + jobId).json();
        assertThat(outcome.get("metrics").get("r2").asDouble()).isEqualTo(0.9);
        assertThat(outcome.get("startedAt").asString()).isEqualTo("2026-01-01T00:00:00Z");
        assertThat(outcome.get("details").get("device").asString()).isEqualTo("cpu");
        assertThat(outcome.get("details").get("epochsRun").asInt()).isEqualTo(12);
        assertThat(outcome.get("logTail").asString()).isEqualTo("epoch 1\nepoch 2\n");
    }

    @Test
    void cutsAnOversizedLogTailToItsLastCharacters() {
        String jobId = submit(job()).get("jobId").asString();
        seedClaim("chatty");
        String log = "x".repeat(100_000) + "THE END";
        boss.post("/callback", Map.of("status", 500, "jobId", jobId, "logTail", log));
        JsonNode outcome = boss.get("/retrieve/outcome/" + jobId).json();
        assertThat(outcome.get("logTail").asString()).hasSize(65536).endsWith("THE END");
        assertThat(outcome.get("logTruncated").asBoolean()).isTrue();
    }

    @Test
    void leaderboardRanksSuccessfulJobsByLoss() {
        String project = "board-" + System.nanoTime();
        double[] losses = {3.0, 1.0, 2.0};
        for (double loss : losses) {
            String jobId = submit(job("projectName", project, "learningRate", loss / 10)).get("jobId").asString();
            seedClaim("ranker");
            boss.post("/callback", Map.of("status", 200, "jobId", jobId, "loss", loss, "metric", loss));
        }
        String failed = submit(job("projectName", project)).get("jobId").asString();
        seedClaim("ranker");
        boss.post("/callback", Map.of("status", 500, "jobId", failed, "loss", 0.1));

        JsonNode board = boss.get("/projects/" + project + "/leaderboard").json();
        assertThat(board).extracting(e -> e.get("loss").asDouble()).containsExactly(1.0, 2.0, 3.0);
        assertThat(board.get(0).get("rank").asInt()).isEqualTo(1);
        assertThat(board.get(0).get("job").get("learningRate").asDouble()).isEqualTo(0.1);
    }
}
