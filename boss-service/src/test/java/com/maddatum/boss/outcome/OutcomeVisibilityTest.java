package com.maddatum.boss.outcome;

import static org.assertj.core.api.Assertions.assertThat;

import com.maddatum.boss.support.BossApiTestBase;
import com.maddatum.testsupport.HttpJson;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.bson.Document;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;

/**
 * "Done" means the outcome can be read: a client polling as fast as it can never sees a job done
 * without its outcome, and an outcome a stale attempt sent is never shown as the job's.
 */
class OutcomeVisibilityTest extends BossApiTestBase {

    @Test
    void aClientPollingAsFastAsItCanNeverSeesDoneWithoutAnOutcome() throws Exception {
        int jobs = 200;
        List<String> ids = new ArrayList<>();
        for (int i = 0; i < jobs; i++) {
            ids.add(submit(job("projectName", "visible", "i", i)).get("jobId").asString());
        }
        AtomicBoolean working = new AtomicBoolean(true);
        CompletableFuture<Integer> worker = CompletableFuture.supplyAsync(() -> {
            HttpJson client = boss;
            int reported = 0;
            HttpJson.Reply claim;
            while ((claim = client.post("/bored/fast?heartbeats=true", "")).status() == 200) {
                JsonNode order = claim.json();
                client.post("/callback", Map.of("status", 200, "jobId", order.get("jobId").asString(), "orderId",
                        order.get("_id").asString(), "attempt", order.get("attempt").asInt(), "node", "fast",
                        "loss", 1.0));
                reported++;
            }
            working.set(false);
            return reported;
        });
        List<String> doneWithout = new ArrayList<>();
        int polls = 0;
        for (String jobId : ids) {
            while (true) {
                polls++;
                JsonNode detail = boss.get("/jobs/" + jobId).json();
                if (detail.get("order").get("status").asString().equals("done")) {
                    if (!detail.has("outcome")) {
                        doneWithout.add(jobId + " (detail)");
                    }
                    if (boss.get("/retrieve/outcome/" + jobId).status() != 200) {
                        doneWithout.add(jobId + " (retrieve)");
                    }
                    break;
                }
                assertThat(working.get() || detail.get("order").get("status").asString().equals("done"))
                        .as("job %s never finished", jobId).isTrue();
            }
        }
        assertThat(worker.get(2, TimeUnit.MINUTES)).isEqualTo(jobs);
        assertThat(polls).isGreaterThanOrEqualTo(jobs);
        assertThat(doneWithout).isEmpty();
    }

    @Test
    void aStaleAttemptsOutcomeIsNeverTheJobsOutcome() {
        String jobId = submit(job()).get("jobId").asString();
        String orderId = claim("slow").get("_id").asString();
        clock.advance(java.time.Duration.ofMinutes(6));
        reapExpired();
        claim("quick");
        assertThat(boss.post("/callback", Map.of("status", 200, "jobId", jobId, "orderId", orderId, "attempt", 2,
                "node", "quick", "loss", 2.0)).status()).isEqualTo(200);
        HttpJson.Reply late = boss.post("/callback", Map.of("status", 200, "jobId", jobId, "orderId", orderId,
                "attempt", 1, "node", "slow", "loss", 0.1));
        assertThat(late.status()).isEqualTo(409);
        JsonNode outcome = boss.get("/retrieve/outcome/" + jobId).json();
        assertThat(outcome.get("attempt").asInt()).isEqualTo(2);
        assertThat(outcome.get("loss").asDouble()).isEqualTo(2.0);
        assertThat(mongo.getCollection("outcomes").countDocuments(new Document("jobId", jobId))).isEqualTo(1);
    }

    @Test
    void anOutcomeWrittenJustBeforeACrashIsTheOneTheRepeatedCallbackUses() {
        String jobId = submit(job()).get("jobId").asString();
        JsonNode order = claim("crashy");
        // What a Boss that died between writing the outcome and moving the order left behind.
        org.bson.types.ObjectId earlier = storedOutcome(jobId, order, 200, "loss", 3.0);
        // The retry says something else (a script that is not deterministic, a worker that re-ran it):
        // the outcome already stored stands, and the order's loss agrees with it.
        HttpJson.Reply retried = boss.post("/callback", Map.of("status", 200, "jobId", jobId, "orderId",
                order.get("_id").asString(), "attempt", 1, "node", "crashy", "loss", 9.0));
        assertThat(retried.json().get("outcomeId").asString()).isEqualTo(earlier.toHexString());
        assertThat(boss.get("/jobs/" + jobId).json().get("order").get("outcomeId").asString())
                .isEqualTo(earlier.toHexString());
        assertThat(mongo.getCollection("outcomes").countDocuments(new Document("jobId", jobId))).isEqualTo(1);
        assertThat(boss.get("/retrieve/outcome/" + jobId).json().get("loss").asDouble()).isEqualTo(3.0);
        assertThat(mongo.findById(new org.bson.types.ObjectId(order.get("_id").asString()), Document.class, "orders")
                .getDouble("loss")).isEqualTo(3.0);
    }

    @Test
    void aRepeatThatDisagreesWithTheStoredOutcomeEndsTheOrderAsTheStoredOneSays() {
        String jobId = submit(job()).get("jobId").asString();
        JsonNode order = claim("crashy");
        // The first callback reported a failure, and its outcome was written before the Boss died.
        org.bson.types.ObjectId earlier = storedOutcome(jobId, order, 500, "reason", "CUDA out of memory");
        HttpJson.Reply retried = boss.post("/callback", Map.of("status", 200, "jobId", jobId, "orderId",
                order.get("_id").asString(), "attempt", 1, "node", "crashy", "loss", 0.5));
        assertThat(retried.status()).isEqualTo(200);
        assertThat(retried.json().get("outcomeId").asString()).isEqualTo(earlier.toHexString());
        // A done order pointing at a failed outcome would put a failure on the leaderboard.
        JsonNode after = boss.get("/jobs/" + jobId).json().get("order");
        assertThat(after.get("status").asString()).isEqualTo("failed");
        assertThat(after.get("outcomeId").asString()).isEqualTo(earlier.toHexString());
        assertThat(after.get("reason").asString()).isEqualTo("script reported status 500");
    }

    @Test
    void aHandBackForAnAttemptWhoseOutcomeIsStoredEndsTheOrderWithThatOutcome() {
        String jobId = submit(job()).get("jobId").asString();
        JsonNode order = claim("crashy");
        org.bson.types.ObjectId earlier = storedOutcome(jobId, order, 200, "loss", 1.25);
        // The worker, restarted, hands the attempt back: re-running it would orphan the stored outcome.
        HttpJson.Reply handBack = boss.post("/callback", Map.of("status", 503, "jobId", jobId, "orderId",
                order.get("_id").asString(), "attempt", 1, "node", "crashy", "retryable", true));
        assertThat(handBack.status()).isEqualTo(200);
        JsonNode after = boss.get("/jobs/" + jobId).json().get("order");
        assertThat(after.get("status").asString()).isEqualTo("done");
        assertThat(after.get("outcomeId").asString()).isEqualTo(earlier.toHexString());
        assertThat(mongo.findById(new org.bson.types.ObjectId(order.get("_id").asString()), Document.class, "orders")
                .getDouble("loss")).isEqualTo(1.25);
    }

    /**
     * What a Boss that died between writing an attempt's outcome and moving its order left behind: the
     * outcome of attempt 1, with {@code status} and one more field.
     */
    private org.bson.types.ObjectId storedOutcome(String jobId, JsonNode order, int status, String field, Object value) {
        org.bson.types.ObjectId id = new org.bson.types.ObjectId();
        mongo.insert(new Document("_id", id).append("status", status).append("jobId", jobId)
                .append("orderId", new org.bson.types.ObjectId(order.get("_id").asString())).append("attempt", 1)
                .append(field, value), "outcomes");
        return id;
    }
}
