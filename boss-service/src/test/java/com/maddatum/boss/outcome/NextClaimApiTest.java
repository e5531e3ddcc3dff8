package com.maddatum.boss.outcome;

import static org.assertj.core.api.Assertions.assertThat;

import com.maddatum.boss.support.BossApiTestBase;
import com.maddatum.testsupport.HttpJson;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.bson.Document;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import tools.jackson.databind.JsonNode;

/** One round trip each way: the job inside the claim, the last log lines with the outcome, callback-and-claim. */
class NextClaimApiTest extends BossApiTestBase {

    private void register(String node, String... moreLabels) {
        List<String> labels = new java.util.ArrayList<>(List.of(node));
        labels.addAll(List.of(moreLabels));
        HttpJson.Reply reply = boss.post("/worker-node/create", Map.of("name", node, "labels", labels, "slots", 1));
        assertThat(reply.status()).as(reply.body()).isEqualTo(200);
    }

    private String submitFor(String label) {
        return submit(job("requiredLabels", List.of(label), "learningRate", 0.1)).get("jobId").asString();
    }

    private Map<String, Object> report(JsonNode claimed, String node) {
        Map<String, Object> body = new HashMap<>(Map.of("status", 200, "orderId", claimed.get("_id").asString(),
                "attempt", claimed.get("attempt").asInt(), "node", node, "loss", 1.5, "metric", -1.5));
        body.put("jobId", claimed.get("jobId").asString());
        return body;
    }

    private JsonNode order(String jobId) {
        return boss.get("/jobs/" + jobId).json().get("order");
    }

    @Test
    void boredAnswersTheJobInsideTheOrderExactlyAsRetrieveJobShowsIt() {
        register("nx-job");
        String jobId = submitFor("nx-job");
        JsonNode claimed = claim("nx-job");
        assertThat(claimed.get("jobId").asString()).isEqualTo(jobId);
        assertThat(claimed.get("job")).isEqualTo(boss.get("/retrieve/job/" + jobId).json());
        assertThat(claimed.get("job").get("learningRate").asDouble()).isEqualTo(0.1);
    }

    @Test
    void callbackWithNextClaimsTheNodesNextOrderWithItsJob() {
        register("nx-next");
        submitFor("nx-next");
        String second = submitFor("nx-next");
        JsonNode first = claim("nx-next");
        HttpJson.Reply reply = boss.post("/callback?next=true", report(first, "nx-next"));
        assertThat(reply.status()).as(reply.body()).isEqualTo(200);
        JsonNode answer = reply.json();
        assertThat(answer.get("orderStatus").asString()).isEqualTo("done");
        JsonNode next = answer.get("next");
        assertThat(next.get("jobId").asString()).isEqualTo(second);
        assertThat(next.get("attempt").asInt()).isEqualTo(1);
        assertThat(next.get("assignedTo").asString()).isEqualTo("nx-next");
        assertThat(next.get("job")).isEqualTo(boss.get("/retrieve/job/" + second).json());
        assertThat(order(second).get("status").asString()).isEqualTo("assigned");
        // Nothing left: the next callback answers no next order.
        HttpJson.Reply last = boss.post("/callback?next=true", report(next, "nx-next"));
        assertThat(last.status()).as(last.body()).isEqualTo(200);
        assertThat(last.json().has("next")).isFalse();
    }

    @Test
    void aRefusedCallbackNeverClaims() {
        register("nx-refused");
        JsonNode first = claim(submitAndGet("nx-refused"));
        String waiting = submitFor("nx-refused");
        Map<String, Object> stale = report(first, "nx-refused");
        stale.put("attempt", 7);
        assertThat(boss.post("/callback?next=true", stale).status()).isEqualTo(409);
        Map<String, Object> badLogs = report(first, "nx-refused");
        badLogs.put("logs", Map.of("text", "x".repeat(65_537)));
        HttpJson.Reply tooLong = boss.post("/callback?next=true", badLogs);
        assertThat(tooLong.status()).as(tooLong.body()).isEqualTo(400);
        assertThat(tooLong.body()).contains("logs");
        Map<String, Object> otherNode = report(first, "nx-refused");
        otherNode.put("logs", Map.of("text", "hi", "node", "someone-else"));
        assertThat(boss.post("/callback?next=true", otherNode).status()).isEqualTo(400);
        assertThat(order(waiting).get("status").asString()).isEqualTo("unassigned");
        assertThat(order(first.get("jobId").asString()).get("status").asString()).isEqualTo("assigned");
    }

    private String submitAndGet(String node) {
        register(node);
        submitFor(node);
        return node;
    }

    @Test
    void aRepeatedCallbackGetsTheOrderItsFirstCallClaimedAndClaimsNoOther() {
        register("nx-repeat");
        submitFor("nx-repeat");
        String second = submitFor("nx-repeat");
        String third = submitFor("nx-repeat");
        JsonNode first = claim("nx-repeat");
        JsonNode answer = boss.post("/callback?next=true", report(first, "nx-repeat")).json();
        String claimedId = answer.get("next").get("_id").asString();
        // The answer was lost: the Worker sends the same callback again.
        HttpJson.Reply repeat = boss.post("/callback?next=true", report(first, "nx-repeat"));
        assertThat(repeat.status()).as(repeat.body()).isEqualTo(200);
        assertThat(repeat.json().get("duplicate").asBoolean()).isTrue();
        assertThat(repeat.json().get("next").get("_id").asString()).isEqualTo(claimedId);
        assertThat(repeat.json().get("next").get("jobId").asString()).isEqualTo(second);
        assertThat(repeat.json().get("next").get("job")).isNotNull();
        assertThat(order(third).get("status").asString()).isEqualTo("unassigned");
    }

    @Test
    void aRepeatWithoutNextPutsTheUnheardClaimBackAtOnceWithItsAttemptSpent() {
        register("nx-release");
        submitFor("nx-release");
        String second = submitFor("nx-release");
        JsonNode first = claim("nx-release");
        JsonNode next = boss.post("/callback?next=true", report(first, "nx-release")).json().get("next");
        // The spool retries in the background, without next: the order its first call claimed goes back now.
        HttpJson.Reply repeat = boss.post("/callback", report(first, "nx-release"));
        assertThat(repeat.status()).as(repeat.body()).isEqualTo(200);
        assertThat(repeat.json().has("next")).isFalse();
        assertThat(order(second).get("status").asString()).isEqualTo("unassigned");
        // A Worker that did hear the lost answer after all is fenced off: the new claim is another attempt, and
        // the job keeps every run it was given (an attempt number was spent, not a run).
        JsonNode again = claim("nx-release");
        assertThat(again.get("_id").asString()).isEqualTo(next.get("_id").asString());
        assertThat(again.get("attempt").asInt()).isEqualTo(2);
        assertThat(again.get("maxAttempts").asInt()).isEqualTo(next.get("maxAttempts").asInt() + 1);
        HttpJson.Reply oldBeat = boss.post("/orders/" + next.get("_id").asString() + "/heartbeat",
                Map.of("node", "nx-release", "attempt", 1));
        assertThat(oldBeat.status()).isEqualTo(409);
    }

    @Test
    void aRepeatLeavesTheNextOrderAloneOnceItStarted() {
        register("nx-started");
        submitFor("nx-started");
        String second = submitFor("nx-started");
        JsonNode first = claim("nx-started");
        JsonNode next = boss.post("/callback?next=true", report(first, "nx-started")).json().get("next");
        HttpJson.Reply beat = boss.post("/orders/" + next.get("_id").asString() + "/heartbeat",
                Map.of("node", "nx-started", "attempt", 1));
        assertThat(beat.status()).as(beat.body()).isEqualTo(200);
        assertThat(boss.post("/callback", report(first, "nx-started")).status()).isEqualTo(200);
        HttpJson.Reply withNext = boss.post("/callback?next=true", report(first, "nx-started"));
        assertThat(withNext.json().has("next")).isFalse();
        assertThat(order(second).get("status").asString()).isEqualTo("running");
    }

    @Test
    void aFirstCallWhoseRepeatCameFirstPutsItsClaimBack() {
        register("nx-race");
        submitFor("nx-race");
        String second = submitFor("nx-race");
        JsonNode first = claim("nx-race");
        // The repeat was handled while the first call was still under way, and sealed the link.
        mongo.insert(new Document("_id", first.get("_id").asString() + ":1").append("next", null)
                .append("at", new java.util.Date()), NextClaims.COLLECTION);
        HttpJson.Reply reply = boss.post("/callback?next=true", report(first, "nx-race"));
        assertThat(reply.status()).as(reply.body()).isEqualTo(200);
        assertThat(reply.json().has("next")).isFalse();
        assertThat(order(second).get("status").asString()).isEqualTo("unassigned");
        // No answer ever carried that claim, so its attempt was given back: the next claim is attempt 1.
        JsonNode again = claim("nx-race");
        assertThat(again.get("jobId").asString()).isEqualTo(second);
        assertThat(again.get("attempt").asInt()).isEqualTo(1);
    }

    @Test
    void aRepeatRefusedAsStalePutsBackTheClaimItsFirstCallMade() {
        // Two nodes could run job A; node a alone takes job B.
        register("nx-so-a", "nx-so");
        register("nx-so-b", "nx-so");
        String a = submitFor("nx-so");
        String b = submitFor("nx-so-a");
        JsonNode first = claim("nx-so-a");
        assertThat(first.get("jobId").asString()).isEqualTo(a);
        // A fails on a (the script's fault, status 500): another node could run it, so it goes back for a second
        // opinion, and the callback claims B for a. That answer is lost.
        Map<String, Object> failed = report(first, "nx-so-a");
        failed.put("status", 500);
        failed.put("error", Map.of("type", "NonZeroExit", "message", "exit 1"));
        HttpJson.Reply answer = boss.post("/callback?next=true", failed);
        assertThat(answer.status()).as(answer.body()).isEqualTo(200);
        assertThat(answer.json().get("next").get("jobId").asString()).isEqualTo(b);
        // Node b takes A as attempt 2, so a's repeat no longer matches A's order: 409.
        JsonNode second = claim("nx-so-b");
        assertThat(second.get("jobId").asString()).isEqualTo(a);
        assertThat(second.get("attempt").asInt()).isEqualTo(2);
        HttpJson.Reply repeat = boss.post("/callback", failed);
        assertThat(repeat.status()).as(repeat.body()).isEqualTo(409);
        // B does not wait out a lease on a node that never heard of it.
        assertThat(order(b).get("status").asString()).isEqualTo("unassigned");
    }

    @Test
    void aScriptsOwnLogsFieldInTheSeedsCallbackIsKeptAsADetail() {
        register("nx-seedlogs");
        String jobId = submitFor("nx-seedlogs");
        seedClaim("nx-seedlogs");
        // The seed's worker posts what the script printed, whatever its fields.
        HttpJson.Reply reply = boss.post("/callback", Map.of("status", 200, "jobId", jobId, "loss", 1.0, "metric", 1.0,
                "logs", List.of("epoch 1", "epoch 2")));
        assertThat(reply.status()).as(reply.body()).isEqualTo(200);
        JsonNode outcome = boss.get("/retrieve/outcome/" + jobId).json();
        assertThat(outcome.get("details").get("logs").get(1).asString()).isEqualTo("epoch 2");
        assertThat(boss.get("/jobs/" + jobId + "/logs").json().get("text").asString()).isEmpty();
    }

    @Test
    void theSeedsBareCallbackClaimsNothingEvenWithNext() {
        register("nx-seed");
        String jobId = submitFor("nx-seed");
        String waiting = submitFor("nx-seed");
        seedClaim("nx-seed");
        HttpJson.Reply reply = boss.post("/callback?next=true", Map.of("status", 200, "jobId", jobId, "loss", 1.0,
                "metric", 1.0));
        assertThat(reply.status()).as(reply.body()).isEqualTo(200);
        assertThat(reply.json().has("next")).isFalse();
        assertThat(order(jobId).get("status").asString()).isEqualTo("done");
        assertThat(order(waiting).get("status").asString()).isEqualTo("unassigned");
    }

    @Test
    void aDrainedNodeGetsNoNextOrder() {
        register("nx-drain");
        submitFor("nx-drain");
        String waiting = submitFor("nx-drain");
        JsonNode first = claim("nx-drain");
        assertThat(boss.post("/workers/nx-drain/drain", Map.of("reason", "maintenance")).status()).isEqualTo(200);
        HttpJson.Reply reply = boss.post("/callback?next=true", report(first, "nx-drain"));
        assertThat(reply.status()).as(reply.body()).isEqualTo(200);
        assertThat(reply.json().has("next")).isFalse();
        assertThat(order(waiting).get("status").asString()).isEqualTo("unassigned");
        boss.post("/workers/nx-drain/undrain", "");
    }

    @Test
    void theRunsLastLinesTravelWithTheOutcomeAndAStaleCallbacksDoNot() {
        register("nx-logs");
        String jobId = submitFor("nx-logs");
        JsonNode claimed = claim("nx-logs");
        boss.post("/orders/" + claimed.get("_id").asString() + "/logs",
                Map.of("node", "nx-logs", "attempt", 1, "text", "line 1\n"));
        Map<String, Object> body = report(claimed, "nx-logs");
        body.put("logs", Map.of("text", "line 2\n", "node", "nx-logs", "attempt", 1));
        assertThat(boss.post("/callback", body).status()).isEqualTo(200);
        JsonNode logs = boss.get("/jobs/" + jobId + "/logs").json();
        assertThat(logs.get("text").asString()).isEqualTo("line 1\nline 2\n");
        // A repeat's lines are not appended twice, and the logs are not kept as an outcome field.
        assertThat(boss.post("/callback", body).status()).isEqualTo(200);
        assertThat(boss.get("/jobs/" + jobId + "/logs").json().get("text").asString()).isEqualTo("line 1\nline 2\n");
        JsonNode outcome = boss.get("/retrieve/outcome/" + jobId).json();
        assertThat(outcome.has("details") && outcome.get("details").has("logs")).isFalse();
    }
    @Autowired
    io.micrometer.core.instrument.MeterRegistry meters;

    @Test
    void aJobThatEndedBeforeItsFirstBeatIsStartedWhenItsWorkerSaysWithinItsOrdersLife() {
        register("nx-short");
        String jobId = submitFor("nx-short");
        String later = submitFor("nx-short");
        String last = submitFor("nx-short");
        long latencies = meters.get("boss.dispatch.latency").timer().count();
        JsonNode first = claim("nx-short");
        clock.advance(java.time.Duration.ofSeconds(3));
        java.time.Instant start = clock.instant().minusMillis(1500).truncatedTo(java.time.temporal.ChronoUnit.MILLIS);
        Map<String, Object> body = report(first, "nx-short");
        body.put("startedAt", start.toString());
        JsonNode next = boss.post("/callback?next=true", body).json().get("next");
        JsonNode order = order(jobId);
        assertThat(java.time.Instant.parse(order.get("startedAt").asString())).isEqualTo(start);
        assertThat(meters.get("boss.dispatch.latency").timer().count()).isEqualTo(latencies + 1);
        // Another machine's clock: a start reported in the future is taken as now, never after the end.
        Map<String, Object> skewed = report(next, "nx-short");
        skewed.put("startedAt", clock.instant().plusSeconds(3600).toString());
        java.time.Instant lastClaimed = clock.instant();
        HttpJson.Reply ended = boss.post("/callback?next=true", skewed);
        java.time.Instant afterClaim = clock.instant();
        assertThat(ended.status()).isEqualTo(200);
        JsonNode second = order(later);
        assertThat(java.time.Instant.parse(second.get("startedAt").asString()))
                .isBeforeOrEqualTo(java.time.Instant.parse(second.get("finishedAt").asString()));
        // A clock behind: a start before this attempt's claim (queued meanwhile) is taken as the claim, not as
        // the order's creation, which would count the queue's wait as running time.
        clock.advance(java.time.Duration.ofSeconds(5));
        Map<String, Object> behind = report(ended.json().get("next"), "nx-short");
        behind.put("startedAt", clock.instant().minusSeconds(3600).toString());
        assertThat(boss.post("/callback", behind).status()).isEqualTo(200);
        assertThat(java.time.Instant.parse(order(last).get("startedAt").asString()))
                .isBetween(lastClaimed.truncatedTo(java.time.temporal.ChronoUnit.MILLIS), afterClaim);
    }

    @Autowired
    NextClaims links;

    @Test
    void linksArePurgedByTheirOwnExpiryAndTheFirstReleasesByTheirAge() {
        java.time.Instant now = clock.instant();
        java.util.function.Function<Long, java.util.Date> ago = seconds -> java.util.Date.from(now.minusSeconds(seconds));
        String tag = new org.bson.types.ObjectId().toHexString();
        mongo.insert(new Document("_id", tag + ":expired").append("at", ago.apply(10L)).append("expiresAt", ago.apply(1L)),
                NextClaims.COLLECTION);
        mongo.insert(new Document("_id", tag + ":live").append("at", ago.apply(10L)).append("expiresAt", ago.apply(-60L)),
                NextClaims.COLLECTION);
        // Written before links carried expiresAt: purged once older than twice the lease timeout.
        mongo.insert(new Document("_id", tag + ":old").append("at", ago.apply(86_400L)), NextClaims.COLLECTION);
        mongo.insert(new Document("_id", tag + ":recent").append("at", ago.apply(1L)), NextClaims.COLLECTION);
        links.purge();
        assertThat(mongo.findAll(Document.class, NextClaims.COLLECTION).stream().map(d -> d.getString("_id"))
                .filter(id -> id.startsWith(tag))).containsExactlyInAnyOrder(tag + ":live", tag + ":recent");
    }
}
