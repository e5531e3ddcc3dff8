package com.maddatum.boss.outcome;

import static org.assertj.core.api.Assertions.assertThat;

import com.maddatum.boss.support.BossApiTestBase;
import com.maddatum.testsupport.HttpJson;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.bson.Document;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;

/** One round trip each way: the job inside the claim, the last log lines with the outcome, callback-and-claim. */
class NextClaimApiTest extends BossApiTestBase {

    private void register(String node) {
        HttpJson.Reply reply = boss.post("/worker-node/create", Map.of("name", node, "labels", List.of(node), "slots", 1));
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
        // A Worker that did hear the lost answer after all is fenced off: the new claim is another attempt.
        JsonNode again = claim("nx-release");
        assertThat(again.get("_id").asString()).isEqualTo(next.get("_id").asString());
        assertThat(again.get("attempt").asInt()).isEqualTo(2);
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
}
