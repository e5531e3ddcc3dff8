package com.maddatum.boss.order;

import static org.assertj.core.api.Assertions.assertThat;

import com.maddatum.boss.support.BossApiTestBase;
import com.maddatum.testsupport.HttpJson;
import java.time.Duration;
import java.util.Map;
import org.bson.Document;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import tools.jackson.databind.JsonNode;

class LeaseApiTest extends BossApiTestBase {

    private static final Duration PAST_LEASE = Duration.ofMinutes(6);

    @Autowired
    OrderService orders;

    @Test
    void expiredLeaseIsRequeuedAndAnotherNodeFinishesIt() {
        String jobId = submit(job("projectName", "lease")).get("jobId").asString();
        JsonNode first = claim("lost-node");
        String orderId = first.get("_id").asString();

        clock.advance(PAST_LEASE);
        assertThat(orders.reapExpired()).isEqualTo(1);

        JsonNode second = claim("good-node");
        assertThat(second.get("_id").asString()).isEqualTo(orderId);
        assertThat(second.get("attempt").asInt()).isEqualTo(2);

        // The lost node comes back: its heartbeat and its callback carry a stale attempt.
        HttpJson.Reply staleBeat = boss.post("/orders/" + orderId + "/heartbeat",
                Map.of("node", "lost-node", "attempt", 1));
        assertThat(staleBeat.status()).isEqualTo(409);
        assertThat(staleBeat.json().get("type").asString()).endsWith("/stale-attempt");
        HttpJson.Reply staleCallback = boss.post("/callback", Map.of("status", 200, "orderId", orderId,
                "attempt", 1, "node", "lost-node", "loss", 9.0));
        assertThat(staleCallback.status()).isEqualTo(409);

        Map<String, Object> outcome = Map.of("status", 200, "orderId", orderId, "jobId", jobId, "attempt", 2,
                "node", "good-node", "loss", 1.0, "metric", 2.0);
        assertThat(boss.post("/callback", outcome).status()).isEqualTo(200);
        HttpJson.Reply repeat = boss.post("/callback", outcome);
        assertThat(repeat.status()).isEqualTo(200);
        assertThat(repeat.json().get("duplicate").asBoolean()).isTrue();

        assertThat(mongo.getCollection("outcomes").countDocuments(new Document("jobId", jobId))).isEqualTo(1);
        JsonNode detail = boss.get("/jobs/" + jobId).json();
        assertThat(detail.get("order").get("status").asString()).isEqualTo("done");
        assertThat(detail.get("outcome").get("node").asString()).isEqualTo("good-node");
        assertThat(detail.get("order").get("history")).extracting(h -> h.get("status").asString())
                .containsExactly("unassigned", "assigned", "unassigned", "assigned", "done");
        assertThat(detail.get("order").get("history").get(2).get("reason").asString()).contains("lease expired");
    }

    @Test
    void heartbeatStartsTheOrderAndExtendsItsLease() {
        submit(job());
        JsonNode order = claim("beater");
        String orderId = order.get("_id").asString();
        clock.advance(Duration.ofMinutes(4));
        HttpJson.Reply beat = boss.post("/orders/" + orderId + "/heartbeat",
                Map.of("node", "beater", "attempt", 1, "progress", Map.of("epoch", 3, "loss", 0.5)));
        assertThat(beat.status()).isEqualTo(200);
        assertThat(beat.json().get("status").asString()).isEqualTo("running");
        assertThat(beat.json().get("cancelRequested").asBoolean()).isFalse();

        clock.advance(Duration.ofMinutes(4)); // 8 minutes after the claim, 4 after the beat
        assertThat(orders.reapExpired()).isZero();
        assertThat(mongo.findById(new org.bson.types.ObjectId(orderId), Document.class, "orders").get("progress",
                Document.class))
                .containsEntry("epoch", 3);
    }

    @Test
    void attemptsRunOutAfterMaxAttemptsLostLeases() {
        String jobId = submit(job("maxAttempts", 2)).get("jobId").asString();
        claim("a");
        clock.advance(PAST_LEASE);
        orders.reapExpired();
        claim("b");
        clock.advance(PAST_LEASE);
        orders.reapExpired();
        JsonNode order = boss.get("/jobs/" + jobId).json().get("order");
        assertThat(order.get("status").asString()).isEqualTo("failed");
        assertThat(order.get("reason").asString()).contains("no attempts left");
        assertThat(boss.post("/bored/c", "").status()).isEqualTo(204);
    }

    @Test
    void scriptErrorFailsTheOrderWithoutRetry() {
        String jobId = submit(job()).get("jobId").asString();
        String orderId = claim("n").get("_id").asString();
        HttpJson.Reply reply = boss.post("/callback", Map.of("status", 400, "jobId", jobId, "orderId", orderId,
                "attempt", 1, "error", Map.of("type", "ValueError", "message", "unknown optimizer 'adamw2'")));
        assertThat(reply.json().get("orderStatus").asString()).isEqualTo("failed");
        assertThat(boss.post("/bored/n", "").status()).isEqualTo(204);
        assertThat(boss.get("/retrieve/outcome/" + jobId).json().get("error").get("type").asString())
                .isEqualTo("ValueError");
    }

    @Test
    void infrastructureFailureIsRequeuedForAnotherTry() {
        submit(job());
        JsonNode order = claim("dying");
        HttpJson.Reply reply = boss.post("/callback", Map.of("status", 503, "orderId", order.get("_id").asString(),
                "attempt", 1, "node", "dying", "retryable", true,
                "error", Map.of("type", "WorkerShutdown", "message", "worker stopped")));
        assertThat(reply.status()).isEqualTo(200);
        assertThat(reply.json().get("orderStatus").asString()).isEqualTo("unassigned");
        assertThat(claim("other").get("attempt").asInt()).isEqualTo(2);
    }

    @Test
    void cancellingARunningJobIsToldToTheWorkerOnItsNextHeartbeat() {
        String jobId = submit(job()).get("jobId").asString();
        String orderId = claim("busy").get("_id").asString();
        boss.post("/orders/" + orderId + "/heartbeat", Map.of("node", "busy", "attempt", 1));
        assertThat(boss.post("/jobs/" + jobId + "/cancel", "").status()).isEqualTo(200);
        HttpJson.Reply beat = boss.post("/orders/" + orderId + "/heartbeat", Map.of("node", "busy", "attempt", 1));
        assertThat(beat.status()).isEqualTo(200);
        assertThat(beat.json().get("cancelRequested").asBoolean()).isTrue();
        // The worker's report afterwards is acknowledged, and the order stays cancelled.
        HttpJson.Reply report = boss.post("/callback", Map.of("status", 499, "orderId", orderId, "attempt", 1,
                "node", "busy"));
        assertThat(report.status()).isEqualTo(200);
        assertThat(boss.get("/jobs/" + jobId).json().get("order").get("status").asString()).isEqualTo("cancelled");
    }

    @Test
    void workersAreShownIdleBusyOrOffline() {
        boss.post("/worker-node/create", Map.of("name", "fleet-a", "labels", java.util.List.of("cpu")));
        submit(job());
        claim("fleet-a");
        JsonNode busy = find(boss.get("/workers").json(), "fleet-a");
        assertThat(busy.get("state").asString()).isEqualTo("busy");
        assertThat(busy.get("currentJobs")).hasSize(1);
        clock.advance(Duration.ofMinutes(2));
        assertThat(find(boss.get("/workers").json(), "fleet-a").get("state").asString()).isEqualTo("offline");
    }

    private static JsonNode find(JsonNode workers, String name) {
        for (JsonNode worker : workers) {
            if (worker.get("name").asString().equals(name)) {
                return worker;
            }
        }
        throw new AssertionError("no worker " + name + " in " + workers);
    }
}
