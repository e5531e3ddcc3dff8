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
        // One attempt: with other Workers live in this shared Boss, a 500 with attempts left would be re-queued
        // for a second opinion, and the outcome asked for here is the order's final one.
        String jobId = submit(job("maxAttempts", 1)).get("jobId").asString();
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

    @Test
    void aBareCallbackCannotCompleteAnotherWorkersAttempt() {
        // The seed's worker A takes a job longer than its lease; the order goes to worker B as attempt 2.
        String jobId = submit(job()).get("jobId").asString();
        seedClaim("seed-a");
        clock.advance(java.time.Duration.ofHours(7));
        assertThat(reapExpired()).isEqualTo(1);
        JsonNode second = claim("worker-b");
        assertThat(second.get("attempt").asInt()).isEqualTo(2);

        HttpJson.Reply bare = boss.post("/callback", Map.of("status", 200, "jobId", jobId, "loss", 9.0, "metric", 9.0));
        assertThat(bare.status()).isEqualTo(409);
        JsonNode order = boss.get("/jobs/" + jobId).json().get("order");
        assertThat(order.get("status").asString()).isEqualTo("assigned");
        assertThat(order.get("assignedTo").asString()).isEqualTo("worker-b");

        assertThat(boss.post("/callback", Map.of("status", 200, "jobId", jobId, "orderId",
                second.get("_id").asString(), "attempt", 2, "node", "worker-b", "loss", 1.0)).status()).isEqualTo(200);
        JsonNode outcome = boss.get("/retrieve/outcome/" + jobId).json();
        assertThat(outcome.get("node").asString()).isEqualTo("worker-b");
        assertThat(outcome.get("loss").asDouble()).isEqualTo(1.0);
    }

    @Test
    void aBareCallbackIsRefusedOnceTheSeedClaimHasHeartbeated() {
        String jobId = submit(job()).get("jobId").asString();
        String orderId = seedClaim("half-seed").get("_id").asString();
        boss.post("/orders/" + orderId + "/heartbeat", Map.of("node", "half-seed", "attempt", 1));
        assertThat(boss.post("/callback", Map.of("status", 200, "jobId", jobId)).status()).isEqualTo(409);
    }

    @Test
    void whenTwoSeedWorkersHeldTheOrderABareCallbackNamesNeither() {
        String jobId = submit(job()).get("jobId").asString();
        seedClaim("seed-1");
        clock.advance(java.time.Duration.ofHours(7));
        reapExpired();
        seedClaim("seed-2");
        HttpJson.Reply reply = boss.post("/callback", Map.of("status", 200, "jobId", jobId, "loss", 4.0));
        assertThat(reply.status()).isEqualTo(200);
        JsonNode detail = boss.get("/jobs/" + jobId).json();
        assertThat(detail.get("order").get("status").asString()).isEqualTo("done");
        assertThat(detail.get("outcome").has("node")).isFalse();
        JsonNode last = detail.get("order").get("history").get(detail.get("order").get("history").size() - 1);
        assertThat(last.has("node")).isFalse();
        // Neither seed worker is credited with a result nobody can attribute.
        assertThat(detail.get("order").has("assignedTo")).isFalse();
        for (JsonNode worker : boss.get("/workers").json()) {
            if (java.util.List.of("seed-1", "seed-2").contains(worker.get("name").asString())) {
                assertThat(worker.get("jobsDone").asLong()).as(worker.get("name").asString()).isZero();
            }
        }
    }

    @Test
    void aSeedClaimHoldsTheJobsTimeLimitPlusTheLeaseOrTheSeedTimeout() {
        submit(job("timeoutSeconds", 60));
        JsonNode limited = seedClaim("seed-limited");
        java.time.Duration held = java.time.Duration.between(clock.instant(),
                java.time.Instant.parse(limited.get("leaseExpiresAt").asString()));
        assertThat(held).isBetween(java.time.Duration.ofSeconds(355), java.time.Duration.ofSeconds(361));

        submit(job());
        JsonNode open = seedClaim("seed-open");
        assertThat(java.time.Duration.between(clock.instant(),
                java.time.Instant.parse(open.get("leaseExpiresAt").asString())))
                .isBetween(java.time.Duration.ofHours(6).minusSeconds(5), java.time.Duration.ofHours(6));

        submit(job("timeoutSeconds", 60));
        JsonNode beating = claim("beating");
        assertThat(java.time.Duration.between(clock.instant(),
                java.time.Instant.parse(beating.get("leaseExpiresAt").asString())))
                .isBetween(java.time.Duration.ofMinutes(5).minusSeconds(5), java.time.Duration.ofMinutes(5));
    }
}
