package com.maddatum.boss.readmodel;

import static org.assertj.core.api.Assertions.assertThat;

import com.maddatum.boss.order.OrderWatch;
import com.maddatum.boss.support.BossApiTestBase;
import com.maddatum.testsupport.HttpJson;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import tools.jackson.databind.JsonNode;

/**
 * {@code ?waitSeconds=N} on {@code GET /jobs/{id}} and {@code POST /job/create}: held until the order
 * changes (or finishes), or until N seconds pass, and never left behind. A held request is known to be
 * parked when {@link JobWaits#holding()} counts it; only then does the test change the order.
 */
class JobWaitApiTest extends BossApiTestBase {

    private final String label = "wait" + System.nanoTime();
    private final String node = "waiter-" + label;

    @Autowired
    private JobWaits waits;
    @Autowired
    private OrderWatch watch;

    @AfterEach
    void nothingLeftBehind() {
        assertThat(waits.holding()).isZero();
        assertThat(watch.watching()).isZero();
    }

    private CompletableFuture<HttpJson.Reply> getAsync(String path) {
        return CompletableFuture.supplyAsync(() -> boss.get(path));
    }

    /** Waits until {@code n} requests are parked (or fails after a while): the hand-off point of each test. */
    private void awaitHolding(int n) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (waits.holding() < n && System.nanoTime() < deadline) {
            Thread.sleep(5);
        }
        assertThat(waits.holding()).as("requests parked").isEqualTo(n);
    }

    private Map<String, Object> labelledJob() {
        boss.post("/worker-node/create", Map.of("name", node, "labels", List.of(label)));
        return job("requiredLabels", List.of(label), "projectName", "wait-" + label);
    }

    private void finish(String jobId, JsonNode order) {
        assertThat(boss.post("/callback", Map.of("status", 200, "jobId", jobId, "orderId", order.get("_id").asString(),
                "attempt", 1, "node", node, "loss", 0.5)).status()).isEqualTo(200);
    }

    @Test
    void aHeldGetAnswersAsSoonAsACallbackFinishesTheJob() throws Exception {
        String jobId = submit(labelledJob()).get("jobId").asString();
        JsonNode order = claim(node);
        CompletableFuture<HttpJson.Reply> held = getAsync("/jobs/" + jobId + "?waitSeconds=120");
        awaitHolding(1);
        assertThat(held).isNotDone();
        finish(jobId, order);
        HttpJson.Reply reply = held.get(30, TimeUnit.SECONDS); // far less than the 120 s asked for
        assertThat(reply.status()).isEqualTo(200);
        assertThat(reply.json().get("order").get("status").asString()).isEqualTo("done");
        assertThat(reply.json().get("outcome").get("loss").asDouble()).isEqualTo(0.5);
        assertThat(reply.json().has("queue")).isFalse();

        // A finished job cannot change any more: it is answered at once, not after the wait.
        HttpJson.Reply again = getAsync("/jobs/" + jobId + "?waitSeconds=120").get(30, TimeUnit.SECONDS);
        assertThat(again.json().get("order").get("status").asString()).isEqualTo("done");
    }

    @Test
    void aHeldGetWakesWhenTheOrderStartsButNotForAProgressHeartbeat() throws Exception {
        String jobId = submit(labelledJob()).get("jobId").asString();
        String orderId = claim(node).get("_id").asString();
        CompletableFuture<HttpJson.Reply> held = getAsync("/jobs/" + jobId + "?waitSeconds=120");
        awaitHolding(1);
        boss.post("/orders/" + orderId + "/heartbeat", Map.of("node", node, "attempt", 1));
        assertThat(held.get(30, TimeUnit.SECONDS).json().get("order").get("status").asString()).isEqualTo("running");

        long started = System.nanoTime();
        CompletableFuture<HttpJson.Reply> running = getAsync("/jobs/" + jobId + "?waitSeconds=1");
        awaitHolding(1);
        boss.post("/orders/" + orderId + "/heartbeat", Map.of("node", node, "attempt", 1, "progress", Map.of("epoch", 3)));
        JsonNode answer = running.get(30, TimeUnit.SECONDS).json();
        assertThat(System.nanoTime() - started).as("answered by the timer, not the heartbeat")
                .isGreaterThanOrEqualTo(TimeUnit.SECONDS.toNanos(1));
        assertThat(answer.get("order").get("status").asString()).isEqualTo("running");
        assertThat(answer.get("order").get("progress").get("epoch").asInt()).isEqualTo(3);
    }

    @Test
    void aHeldGetAnswersTheUnchangedJobWhenTheWaitIsOver() {
        String jobId = submit(labelledJob()).get("jobId").asString();
        HttpJson.Reply reply = boss.get("/jobs/" + jobId + "?waitSeconds=1");
        assertThat(reply.status()).isEqualTo(200);
        assertThat(reply.json().get("order").get("status").asString()).isEqualTo("unassigned");
        assertThat(reply.json().get("queue").get("waitingBecause").asString())
                .isEqualTo("next in line; waiting for an eligible Worker to ask");
    }

    @Test
    void aStoppingBossAnswersHeldRequestsAtOnce() throws Exception {
        String jobId = submit(labelledJob()).get("jobId").asString();
        CompletableFuture<HttpJson.Reply> held = getAsync("/jobs/" + jobId + "?waitSeconds=300");
        awaitHolding(1);
        try {
            waits.stop();
            HttpJson.Reply reply = held.get(30, TimeUnit.SECONDS);
            assertThat(reply.status()).isEqualTo(200);
            assertThat(reply.json().get("order").get("status").asString()).isEqualTo("unassigned");
            // While stopping, a new wait is not started either.
            HttpJson.Reply late = getAsync("/jobs/" + jobId + "?waitSeconds=300").get(30, TimeUnit.SECONDS);
            assertThat(late.status()).isEqualTo(200);
        } finally {
            waits.start();
        }
    }

    @Test
    void waitSecondsMustBeANonNegativeNumber() {
        String jobId = submit(labelledJob()).get("jobId").asString();
        HttpJson.Reply negative = boss.get("/jobs/" + jobId + "?waitSeconds=-1");
        assertThat(negative.status()).isEqualTo(400);
        assertThat(negative.body()).contains("waitSeconds");
        assertThat(boss.get("/jobs/" + jobId + "?waitSeconds=soon").status()).isEqualTo(400);
        long jobs = count("jobs");
        assertThat(boss.post("/job/create?waitSeconds=-5", labelledJob()).status()).isEqualTo(400);
        assertThat(count("jobs")).as("nothing stored for a refused wait").isEqualTo(jobs);
        assertThat(boss.get("/jobs/" + new org.bson.types.ObjectId() + "?waitSeconds=1").status()).isEqualTo(404);
    }

    @Test
    void waitsAreCappedByASettingThatMustBePositive() {
        assertThat(waits.capped(100_000)).isEqualTo(java.time.Duration.ofMinutes(10));
        assertThat(waits.capped(7)).isEqualTo(java.time.Duration.ofSeconds(7));
        for (String bad : new String[] {"0s", "-1s", "25h"}) {
            org.assertj.core.api.Assertions.assertThatThrownBy(
                    () -> com.maddatum.boss.support.TestProperties.with(Map.of("boss.queue.max-wait", bad)))
                    .as(bad).hasStackTraceContaining("boss.queue.max-wait must be more than 0");
        }
    }

    @Test
    void createAndWaitAnswersWithTheOutcomeWhenAWorkerFinishesTheJobInTime() throws Exception {
        CompletableFuture<HttpJson.Reply> created = boss.postAsync("/job/create?waitSeconds=120", labelledJob());
        // The Worker long-polls as a real one does, and gets the job the moment it is stored.
        HttpJson.Reply claimed = boss.post("/bored/" + node + "?heartbeats=true&waitSeconds=30", "");
        assertThat(claimed.status()).isEqualTo(200);
        JsonNode order = claimed.json();
        awaitHolding(1);
        assertThat(created).isNotDone();
        finish(order.get("jobId").asString(), order);

        HttpJson.Reply reply = created.get(30, TimeUnit.SECONDS);
        assertThat(reply.status()).isEqualTo(201);
        assertThat(reply.headers().firstValue("Location")).hasValue("/jobs/" + order.get("jobId").asString());
        JsonNode body = reply.json();
        // The seed's answer fields, for clients that know nothing of waiting...
        assertThat(body.get("_id").asString()).isEqualTo(order.get("jobId").asString());
        assertThat(body.get("jobId").asString()).isEqualTo(order.get("jobId").asString());
        assertThat(body.get("orderId").asString()).isEqualTo(order.get("_id").asString());
        assertThat(body.get("status").asString()).isEqualTo("done");
        // ...and the job as GET /jobs/{id} shows it, outcome included.
        assertThat(body.get("outcome").get("loss").asDouble()).isEqualTo(0.5);
        assertThat(body.get("order").get("status").asString()).isEqualTo("done");
        assertThat(body.get("job").get("requiredLabels").get(0).asString()).isEqualTo(label);
    }

    @Test
    void createAndWaitAnswersTheQueuedJobWhenNobodyFinishesItInTime() {
        HttpJson.Reply reply = boss.post("/job/create?waitSeconds=1", labelledJob());
        assertThat(reply.status()).isEqualTo(201);
        JsonNode body = reply.json();
        assertThat(body.get("status").asString()).isEqualTo("unassigned");
        assertThat(body.get("jobId").asString()).isEqualTo(body.get("_id").asString());
        assertThat(body.get("queue").get("position").asLong()).isZero();
        assertThat(boss.get("/jobs/" + body.get("jobId").asString()).json().get("order").get("_id").asString())
                .isEqualTo(body.get("orderId").asString());
    }

    private CompletableFuture<HttpJson.Reply> createWithKey(String key, int waitSeconds, Map<String, Object> job) {
        java.net.http.HttpRequest request = java.net.http.HttpRequest.newBuilder(java.net.URI.create(
                        "http://127.0.0.1:" + port + "/job/create?waitSeconds=" + waitSeconds))
                .header("Content-Type", "application/json").header("Idempotency-Key", key)
                .POST(java.net.http.HttpRequest.BodyPublishers.ofString(HttpJson.json(job))).build();
        return java.net.http.HttpClient.newHttpClient()
                .sendAsync(request, java.net.http.HttpResponse.BodyHandlers.ofString())
                .thenApply(r -> new HttpJson.Reply(r.statusCode(), r.body(), r.headers()));
    }

    @Test
    void aCreateAndWaitRetriedWithItsKeyWaitsForTheSameJob() throws Exception {
        // The client's first create-and-wait gave up (here: its wait ran out); it retries with the same
        // key, and must wait for the job it already made, not get a second one or a bare 201 back.
        String key = java.util.UUID.randomUUID().toString();
        Map<String, Object> job = labelledJob();
        HttpJson.Reply first = createWithKey(key, 1, job).get(30, TimeUnit.SECONDS);
        assertThat(first.status()).isEqualTo(201);
        String jobId = first.json().get("jobId").asString();

        CompletableFuture<HttpJson.Reply> retry = createWithKey(key, 120, job);
        awaitHolding(1);
        JsonNode order = boss.post("/bored/" + node + "?heartbeats=true", "").json();
        assertThat(order.get("jobId").asString()).isEqualTo(jobId);
        finish(jobId, order);

        HttpJson.Reply answer = retry.get(30, TimeUnit.SECONDS);
        assertThat(answer.status()).isEqualTo(201);
        assertThat(answer.headers().firstValue("Idempotent-Replayed")).hasValue("true");
        assertThat(answer.json().get("jobId").asString()).isEqualTo(jobId);
        assertThat(answer.json().get("status").asString()).isEqualTo("done");
        assertThat(answer.json().get("outcome").get("loss").asDouble()).isEqualTo(0.5);
        assertThat(boss.get("/jobs?project=wait-" + label).json().get("total").asLong()).isEqualTo(1);
    }

    @Test
    void beyondTheCapARequestIsAnsweredAtOnceInsteadOfHeld() throws Exception {
        String first = submit(labelledJob()).get("jobId").asString();
        String second = submit(labelledJob()).get("jobId").asString();
        waits.maxHeld(1);
        try {
            CompletableFuture<HttpJson.Reply> held = getAsync("/jobs/" + first + "?waitSeconds=120");
            awaitHolding(1);
            HttpJson.Reply atOnce = boss.get("/jobs/" + second + "?waitSeconds=120");
            assertThat(atOnce.status()).isEqualTo(200);
            assertThat(atOnce.json().get("order").get("status").asString()).isEqualTo("unassigned");
            assertThat(held).isNotDone();
            boss.post("/jobs/" + first + "/cancel", "");
            assertThat(held.get(30, TimeUnit.SECONDS).json().get("order").get("status").asString())
                    .isEqualTo("cancelled");
        } finally {
            waits.maxHeld(JobWaits.MAX_HELD);
        }
    }
}
