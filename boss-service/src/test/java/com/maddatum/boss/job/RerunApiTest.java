package com.maddatum.boss.job;

import static org.assertj.core.api.Assertions.assertThat;

import com.maddatum.boss.support.BossApiTestBase;
import com.maddatum.testsupport.HttpJson;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;

/** POST /jobs/{id}/rerun: the same job again, seed included, linked to the original both ways. */
class RerunApiTest extends BossApiTestBase {

    private static final String UNKNOWN = "0123456789abcdef01234567";

    private JsonNode stored(String jobId) {
        return boss.get("/retrieve/job/" + jobId).json();
    }

    private JsonNode rerun(String jobId, Object overrides) {
        HttpJson.Reply reply = overrides == null
                ? boss.request("POST", "/jobs/" + jobId + "/rerun", null, null)
                : boss.post("/jobs/" + jobId + "/rerun", overrides);
        assertThat(reply.status()).as(reply.body()).isEqualTo(201);
        return reply.json();
    }

    @Test
    void aRerunCopiesEveryFieldAndTheSeedAndIsLinkedBothWays() {
        String original = submit(job("projectName", "again", "epochs", 5, "priority", 3,
                "hiddenLayers", List.of(Map.of("activation", "relu", "dropout", 0.2)))).get("jobId").asString();
        JsonNode before = stored(original);

        JsonNode created = rerun(original, null);
        String copy = created.get("jobId").asString();
        assertThat(copy).isNotEqualTo(original);
        assertThat(created.get("_id").asString()).isEqualTo(copy);
        assertThat(created.get("rerunOf").asString()).isEqualTo(original);
        assertThat(created.get("status").asString()).isEqualTo("unassigned");
        assertThat(created.get("orderId").asString()).hasSize(24);

        JsonNode rerun = stored(copy);
        for (String field : List.of("scriptName", "projectName", "epochs", "priority", "hiddenLayers", "seed",
                "seedSource")) {
            assertThat(rerun.get(field)).as(field).isEqualTo(before.get(field));
        }
        assertThat(rerun.get("seedSource").asString()).isEqualTo("boss");
        assertThat(rerun.get("rerunOf").asString()).isEqualTo(original);
        assertThat(rerun.has("reruns")).isFalse();
        assertThat(stored(original).get("reruns")).extracting(JsonNode::asString).containsExactly(copy);
        // It is a job like any other: queued with the original's priority.
        assertThat(boss.get("/jobs/" + copy).json().get("order").get("priority").asInt()).isEqualTo(3);
    }

    @Test
    void overridesArePutOverTheOriginalAndANullRemovesAField() {
        String original = submit(job("epochs", 5, "learningRate", 0.1, "note", "x", "seed", 11)).get("jobId").asString();
        String copy = rerun(original, Map.of("epochs", 50, "optimizer", "adam")).get("jobId").asString();
        JsonNode rerun = stored(copy);
        assertThat(rerun.get("epochs").asInt()).isEqualTo(50);
        assertThat(rerun.get("optimizer").asString()).isEqualTo("adam");
        assertThat(rerun.get("learningRate").asDouble()).isEqualTo(0.1);
        assertThat(rerun.get("seed").asInt()).isEqualTo(11);
        assertThat(rerun.get("seedSource").asString()).isEqualTo("job");

        java.util.Map<String, Object> removeNote = new java.util.HashMap<>();
        removeNote.put("note", null);
        assertThat(stored(rerun(original, removeNote).get("jobId").asString()).has("note")).isFalse();
    }

    @Test
    void aSeedInTheOverridesIsTheNewJobsOwnAndANullSeedAsksTheBossForANewOne() {
        String original = submit(job("seed", 11)).get("jobId").asString();
        JsonNode own = stored(rerun(original, Map.of("seed", 12)).get("jobId").asString());
        assertThat(own.get("seed").asInt()).isEqualTo(12);
        assertThat(own.get("seedSource").asString()).isEqualTo("job");

        java.util.Map<String, Object> fresh = new java.util.HashMap<>();
        fresh.put("seed", null);
        fresh.put("seedSource", "job"); // the Boss's to write, ignored
        JsonNode chosen = stored(rerun(original, fresh).get("jobId").asString());
        assertThat(chosen.get("seedSource").asString()).isEqualTo("boss");
        assertThat(chosen.get("seed").isInt()).isTrue();
    }

    @Test
    void aRerunOfARerunLinksToItsOwnOriginal() {
        String first = submit(job()).get("jobId").asString();
        String second = rerun(first, null).get("jobId").asString();
        String third = rerun(second, null).get("jobId").asString();
        assertThat(stored(third).get("rerunOf").asString()).isEqualTo(second);
        assertThat(stored(second).get("reruns")).extracting(JsonNode::asString).containsExactly(third);
        assertThat(stored(first).get("reruns")).extracting(JsonNode::asString).containsExactly(second);
        assertThat(stored(second).get("rerunOf").asString()).isEqualTo(first);
    }

    @Test
    void concurrentRerunsAreAllLinked() throws Exception {
        String original = submit(job()).get("jobId").asString();
        ExecutorService pool = Executors.newFixedThreadPool(6);
        CountDownLatch start = new CountDownLatch(1);
        try {
            List<Future<String>> calls = new ArrayList<>();
            for (int i = 0; i < 6; i++) {
                Callable<String> call = () -> {
                    start.await();
                    return rerun(original, null).get("jobId").asString();
                };
                calls.add(pool.submit(call));
            }
            start.countDown();
            List<String> ids = new ArrayList<>();
            for (Future<String> call : calls) {
                ids.add(call.get());
            }
            assertThat(stored(original).get("reruns")).extracting(JsonNode::asString)
                    .containsExactlyInAnyOrderElementsOf(ids);
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void anUnknownJobIs404AndBossFieldsOrBadFieldsInTheOverridesAre400WithNothingStored() {
        HttpJson.Reply missing = boss.post("/jobs/" + UNKNOWN + "/rerun", Map.of());
        assertThat(missing.status()).isEqualTo(404);
        assertThat(missing.json().get("detail").asString()).contains(UNKNOWN);
        assertThat(boss.post("/jobs/not-an-id/rerun", Map.of()).status()).isEqualTo(404);

        String original = submit(job()).get("jobId").asString();
        long jobs = count("jobs");
        long orders = count("orders");
        for (Map.Entry<String, Object> bad : List.of(Map.<String, Object>entry("_id", UNKNOWN),
                Map.<String, Object>entry("rerunOf", UNKNOWN), Map.<String, Object>entry("reruns", List.of()),
                Map.<String, Object>entry("seed", -1), Map.<String, Object>entry("scriptName", "../x.py"),
                Map.<String, Object>entry("priority", "high"))) {
            HttpJson.Reply reply = boss.post("/jobs/" + original + "/rerun", Map.of(bad.getKey(), bad.getValue()));
            assertThat(reply.status()).as(bad.getKey()).isEqualTo(400);
            assertThat(reply.json().get("field").asString()).isEqualTo(bad.getKey());
        }
        HttpJson.Reply notAnObject = boss.request("POST", "/jobs/" + original + "/rerun", "application/json", "[1]");
        assertThat(notAnObject.status()).isEqualTo(400);
        assertThat(count("jobs")).isEqualTo(jobs);
        assertThat(count("orders")).isEqualTo(orders);
        assertThat(stored(original).has("reruns")).isFalse();
    }

    @Test
    void aRerunRepeatedWithItsIdempotencyKeyMakesOneRerun() throws Exception {
        String original = submit(job("projectName", "rerun-idem", "alpha", 0.5)).get("jobId").asString();
        String key = java.util.UUID.randomUUID().toString();
        java.net.http.HttpClient http = java.net.http.HttpClient.newHttpClient();
        List<HttpJson.Reply> replies = new ArrayList<>();
        for (int i = 0; i < 2; i++) { // a double click on Rerun, or a retry after a timeout
            java.net.http.HttpResponse<String> r = http.send(java.net.http.HttpRequest.newBuilder(
                            java.net.URI.create("http://127.0.0.1:" + port + "/jobs/" + original + "/rerun"))
                    .header("Content-Type", "application/json").header("Idempotency-Key", key)
                    .POST(java.net.http.HttpRequest.BodyPublishers.ofString("{\"alpha\": 2}")).build(),
                    java.net.http.HttpResponse.BodyHandlers.ofString());
            replies.add(new HttpJson.Reply(r.statusCode(), r.body(), r.headers()));
        }
        assertThat(replies).extracting(HttpJson.Reply::status).containsExactly(201, 201);
        assertThat(replies.get(1).headers().firstValue("Idempotent-Replayed")).hasValue("true");
        String rerun = replies.get(0).json().get("jobId").asString();
        assertThat(replies.get(1).json().get("jobId").asString()).isEqualTo(rerun);
        assertThat(stored(original).get("reruns")).extracting(JsonNode::asString).containsExactly(rerun);
        assertThat(boss.get("/jobs?project=rerun-idem").json().get("total").asLong()).isEqualTo(2);
    }
}
