package com.maddatum.boss.fleet;

import static org.assertj.core.api.Assertions.assertThat;

import com.maddatum.boss.support.BossApiTestBase;
import com.maddatum.testsupport.HttpJson;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;

/**
 * Drain, undrain and quarantine over HTTP. Each test's jobs need a label only its own nodes offer, so the
 * nodes other tests left live in this shared Boss never count as "another node that could run it".
 */
class FleetApiTest extends BossApiTestBase {

    private void register(String node, String label) {
        HttpJson.Reply reply = boss.post("/worker-node/create", Map.of("name", node, "labels", List.of(label), "slots", 4));
        assertThat(reply.status()).as(reply.body()).isEqualTo(200);
    }

    private JsonNode worker(String node) {
        HttpJson.Reply reply = boss.get("/workers/" + node);
        assertThat(reply.status()).as(reply.body()).isEqualTo(200);
        return reply.json();
    }

    private String submitFor(String label) {
        return submit(job("requiredLabels", List.of(label))).get("jobId").asString();
    }

    private HttpJson.Reply report(JsonNode claimed, String node, int status, boolean retryable, String type) {
        Map<String, Object> body = new HashMap<>(Map.of("status", status, "orderId", claimed.get("_id").asString(),
                "attempt", claimed.get("attempt").asInt(), "node", node, "retryable", retryable));
        if (type != null) {
            body.put("error", Map.of("type", type, "message", type + " on " + node));
        }
        if (status == 200) {
            body.put("loss", 0.5);
        }
        HttpJson.Reply reply = boss.post("/callback", body);
        assertThat(reply.status()).as(reply.body()).isEqualTo(200);
        return reply;
    }

    private int bored(String node) {
        return boss.post("/bored/" + node + "?heartbeats=true", "").status();
    }

    private JsonNode order(String jobId) {
        return boss.get("/jobs/" + jobId).json().get("order");
    }

    @Test
    void aDrainedNodeGetsNoNewWorkWhileItsRunningOrderFinishes() {
        register("fl-drain", "fl-drain");
        String first = submitFor("fl-drain");
        submitFor("fl-drain");
        JsonNode claimed = claim("fl-drain");

        HttpJson.Reply drained = boss.post("/workers/fl-drain/drain", Map.of("reason", "new PSU"));
        assertThat(drained.status()).as(drained.body()).isEqualTo(200);
        assertThat(drained.json().get("state").asString()).isEqualTo("draining");
        assertThat(drained.json().get("drain").get("reason").asString()).isEqualTo("new PSU");
        assertThat(drained.json().get("drain").get("by").asString()).isEqualTo("operator");
        assertThat(bored("fl-drain")).isEqualTo(204);
        // A long poll of a drained node waits out its time with nothing.
        assertThat(boss.post("/bored/fl-drain?heartbeats=true&waitSeconds=1", "").status()).isEqualTo(204);

        report(claimed, "fl-drain", 200, false, null);
        assertThat(order(first).get("status").asString()).isEqualTo("done");
        assertThat(worker("fl-drain").get("state").asString()).isEqualTo("drained");
        JsonNode all = boss.get("/workers").json();
        assertThat(all.findValues("name").stream().map(JsonNode::asString)).contains("fl-drain");

        HttpJson.Reply undrained = boss.post("/workers/fl-drain/undrain", "");
        assertThat(undrained.json().has("drain")).isFalse();
        assertThat(undrained.json().get("state").asString()).isEqualTo("idle");
        assertThat(bored("fl-drain")).isEqualTo(200);
    }

    @Test
    void aNodeNotKnownYetMayBeDrainedAheadAndNamesAndReasonsAreChecked() {
        HttpJson.Reply ahead = boss.post("/workers/fl-ahead/drain", "");
        assertThat(ahead.status()).as(ahead.body()).isEqualTo(200);
        assertThat(ahead.json().get("state").asString()).isEqualTo("drained");
        register("fl-ahead", "fl-ahead");
        submitFor("fl-ahead");
        assertThat(bored("fl-ahead")).as("an operator's drain outlives a registration").isEqualTo(204);
        assertThat(worker("fl-ahead").get("labels").get(0).asString()).isEqualTo("fl-ahead");

        assertThat(boss.post("/workers/bad%20name/drain", "").status()).isEqualTo(400);
        assertThat(boss.post("/workers/fl-ahead/drain", Map.of("reason", "x".repeat(501))).status()).isEqualTo(400);
        assertThat(boss.post("/workers/fl-never-seen/undrain", "").status()).isEqualTo(404);
        assertThat(boss.get("/workers/fl-never-seen").status()).isEqualTo(404);
        boss.post("/workers/fl-ahead/undrain", "");
        assertThat(bored("fl-ahead")).isEqualTo(200);
    }

    @Test
    void aNodeWhoseLastThreeAttemptsWereHandedBackIsQuarantinedWithTheEvidence() {
        register("fl-bad", "fl-q");
        register("fl-good", "fl-q");
        List<String> jobs = IntStream.range(0, 4).mapToObj(i -> submitFor("fl-q")).toList();
        List<String> failed = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            // Each claim avoids the orders it already handed back: fl-good could run them.
            JsonNode claimed = claim("fl-bad");
            assertThat(failed).doesNotContain(claimed.get("_id").asString());
            failed.add(claimed.get("_id").asString());
            report(claimed, "fl-bad", 503, true, "ScriptNotStarted");
        }
        JsonNode bad = worker("fl-bad");
        assertThat(bad.get("state").asString()).isEqualTo("quarantined");
        assertThat(bad.get("quarantine").get("reason").asString()).contains("ScriptNotStarted");
        JsonNode evidence = bad.get("quarantine").get("evidence");
        assertThat(evidence).hasSize(3);
        assertThat(evidence.findValues("orderId").stream().map(JsonNode::asString)).containsExactlyInAnyOrderElementsOf(failed);
        assertThat(evidence.get(0).get("errorType").asString()).isEqualTo("ScriptNotStarted");
        assertThat(evidence.get(0).get("status").asInt()).isEqualTo(503);
        assertThat(bored("fl-bad")).isEqualTo(204);
        assertThat(boss.get("/actuator/prometheus").body()).contains("boss_workers_quarantined");

        // The rest of the queue is done by the good node.
        for (int i = 0; i < jobs.size(); i++) {
            report(claim("fl-good"), "fl-good", 200, false, null);
        }
        jobs.forEach(job -> assertThat(order(job).get("status").asString()).isEqualTo("done"));
        assertThat(worker("fl-good").get("state").asString()).isEqualTo("idle");

        // Only an operator's undrain lifts it, and the streak starts again from nothing.
        register("fl-bad", "fl-q");
        assertThat(worker("fl-bad").get("state").asString()).isEqualTo("quarantined");
        HttpJson.Reply undrained = boss.post("/workers/fl-bad/undrain", "");
        assertThat(undrained.json().get("state").asString()).isEqualTo("idle");
        assertThat(undrained.json().get("recentEndings")).isEmpty();
        submitFor("fl-q");
        report(claim("fl-bad"), "fl-bad", 503, true, "ScriptNotStarted");
        assertThat(worker("fl-bad").get("state").asString()).isEqualTo("idle");
        report(claim("fl-good"), "fl-good", 200, false, null);
    }

    @Test
    void aWorkerThatShutsDownIsNeitherQuarantinedNorAvoided() {
        register("fl-roll", "fl-roll");
        register("fl-roll-2", "fl-roll");
        String job = submitFor("fl-roll");
        for (int i = 0; i < 2; i++) {
            report(claim("fl-roll"), "fl-roll", 503, true, "WorkerShutdown");
        }
        // Not avoided: the same node gets the same order back, though fl-roll-2 could run it.
        JsonNode third = claim("fl-roll");
        assertThat(third.get("jobId").asString()).isEqualTo(job);
        assertThat(third.get("attempt").asInt()).isEqualTo(3);
        report(third, "fl-roll", 503, true, "NotStarted");
        // That NotStarted was no shutdown (no SHUTDOWN in its message): it counts, the two shutdowns do not.
        JsonNode rolled = worker("fl-roll");
        assertThat(rolled.get("state").asString()).isEqualTo("idle");
        assertThat(rolled.get("recentEndings")).hasSize(1);
        assertThat(rolled.get("recentEndings").get(0).get("errorType").asString()).isEqualTo("NotStarted");
    }

    /**
     * "Another node could run it" is a guess: the other node may be busy for days. After
     * boss.fleet.avoid-for the order goes back to the node where it failed rather than wait on.
     */
    @Test
    void anOrderAvoidsTheNodeWhereItFailedOnlyForAWhile() {
        register("fl-av-a", "fl-av");
        register("fl-av-b", "fl-av");
        String job = submitFor("fl-av");
        report(claim("fl-av-a"), "fl-av-a", 503, true, "ScriptNotStarted");
        assertThat(bored("fl-av-a")).as("avoided while fl-av-b could run it").isEqualTo(204);

        clock.advance(Duration.ofMinutes(9));
        register("fl-av-b", "fl-av"); // still live (it registers, heartbeats elsewhere), never takes it
        assertThat(bored("fl-av-a")).isEqualTo(204);
        clock.advance(Duration.ofMinutes(2));
        register("fl-av-b", "fl-av");
        JsonNode back = claim("fl-av-a");
        assertThat(back.get("jobId").asString()).as("ten minutes on, the order takes the node it failed on").isEqualTo(job);
        cancelLiveOrders();
    }

    /**
     * A Boss restart or a store election makes every Worker claiming at that moment fail to fetch its job:
     * that is the Boss's fault, so four such hand-backs of a four-slot node quarantine nothing.
     */
    @Test
    void handBacksOfJobsTheBossCouldNotServeBlameNobody() {
        register("fl-blip", "fl-blip");
        register("fl-blip-2", "fl-blip");
        List<JsonNode> claimed = new java.util.ArrayList<>();
        for (int i = 0; i < 4; i++) {
            submitFor("fl-blip");
            claimed.add(claim("fl-blip"));
        }
        claimed.forEach(order -> report(order, "fl-blip", 503, true, "JobNotFetched"));
        JsonNode blip = worker("fl-blip");
        assertThat(blip.get("state").asString()).isEqualTo("idle");
        assertThat(blip.has("recentEndings")).isFalse();
        assertThat(claim("fl-blip").get("attempt").asInt()).as("not avoided either").isEqualTo(2);
        cancelLiveOrders();
    }

    @Test
    void lostLeasesOfOneNodeWithinOneLeasePeriodCountOnce() {
        register("fl-power", "fl-power");
        register("fl-power-2", "fl-power");
        for (int i = 0; i < 4; i++) {
            submitFor("fl-power");
            claim("fl-power");
        }
        clock.advance(Duration.ofMinutes(6));
        assertThat(reapExpired()).isGreaterThanOrEqualTo(4);
        JsonNode lost = worker("fl-power");
        assertThat(lost.get("state").asString()).isNotEqualTo("quarantined");
        assertThat(lost.get("recentEndings")).as("one loss, recorded once").hasSize(1);
        cancelLiveOrders();
    }

    /**
     * A node with more slots than the record keeps, crashing again and again: each crash is one loss, so
     * the third quarantines it (were each lost lease kept, the record would only ever hold two crashes).
     */
    @Test
    void aCrashLoopingNodeWithManySlotsIsQuarantinedOnItsThirdCrash() {
        register("fl-loop", "fl-loop");
        register("fl-loop-2", "fl-loop");
        for (int crash = 1; crash <= 3; crash++) {
            for (int i = 0; i < 25; i++) {
                submitFor("fl-loop");
                claim("fl-loop");
            }
            clock.advance(Duration.ofMinutes(6));
            assertThat(reapExpired()).isGreaterThanOrEqualTo(25);
            assertThat(worker("fl-loop").get("state").asString().equals("quarantined")).as("quarantined after crash %d", crash)
                    .isEqualTo(crash == 3);
        }
        assertThat(worker("fl-loop").get("quarantine").get("evidence")).hasSize(3);
        cancelLiveOrders();
    }

    @Test
    void aScriptFailureGetsASecondOpinionAndCountsAgainstTheNodeOnceItSucceedsElsewhere() {
        register("fl-s-a", "fl-s");
        register("fl-s-b", "fl-s");
        String job = submitFor("fl-s");
        report(claim("fl-s-a"), "fl-s-a", 500, false, "NonZeroExit");
        JsonNode waiting = order(job);
        assertThat(waiting.get("status").asString()).isEqualTo("unassigned");
        assertThat(waiting.get("reason").asString()).contains("second opinion");
        assertThat(worker("fl-s-a").get("recentEndings").get(0).get("kind").asString()).isEqualTo("script-pending");
        assertThat(bored("fl-s-a")).as("the order avoids the node where it failed").isEqualTo(204);

        report(claim("fl-s-b"), "fl-s-b", 200, false, null);
        assertThat(order(job).get("status").asString()).isEqualTo("done");
        assertThat(worker("fl-s-a").get("recentEndings").get(0).get("kind").asString()).isEqualTo("script-confirmed");
    }

    @Test
    void anOrderThatFailsTheSameWayOnTwoNodesIsTheJobsFaultAndBlamesNeither() {
        register("fl-j-a", "fl-j");
        register("fl-j-b", "fl-j");
        register("fl-j-c", "fl-j");
        String job = submitFor("fl-j");
        report(claim("fl-j-a"), "fl-j-a", 500, false, "NonZeroExit");
        JsonNode second = claim("fl-j-b");
        assertThat(second.get("attempt").asInt()).isEqualTo(2);
        report(second, "fl-j-b", 500, false, "NonZeroExit");

        JsonNode failed = order(job);
        assertThat(failed.get("status").asString()).isEqualTo("failed");
        assertThat(failed.get("reason").asString()).contains("the job's fault");
        assertThat(bored("fl-j-c")).as("not retried a third time").isEqualTo(204);
        assertThat(worker("fl-j-a").get("recentEndings").get(0).get("kind").asString()).isEqualTo("jobs-fault");
        assertThat(worker("fl-j-b").has("recentEndings")).isFalse();
    }

    @Test
    void withOneWorkerAScriptFailureFailsAtOnceAsBefore() {
        register("fl-one", "fl-one");
        String job = submitFor("fl-one");
        report(claim("fl-one"), "fl-one", 500, false, "NonZeroExit");
        assertThat(order(job).get("status").asString()).isEqualTo("failed");
        // And a hand-back retries on the only node there is.
        String other = submitFor("fl-one");
        report(claim("fl-one"), "fl-one", 503, true, "ScriptNotStarted");
        assertThat(claim("fl-one").get("jobId").asString()).isEqualTo(other);
        cancelLiveOrders();
    }

    /**
     * A node whose GPU is too small for the order is not "another node that could run it": the order does
     * not avoid the only node able to take it (it would wait forever), and a script failure there fails
     * at once instead of waiting for a second opinion nobody can give.
     */
    @Test
    void aNodeWithTooSmallAGpuIsNoAlternative() {
        for (String[] node : new String[][] {{"fl-g-big", "81920"}, {"fl-g-small", "24576"}}) {
            HttpJson.Reply reply = boss.post("/worker-node/create", Map.of("name", node[0], "labels", List.of("fl-g"),
                    "gpus", List.of(Map.of("index", 0, "model", "GPU", "memoryMb", Long.parseLong(node[1])))));
            assertThat(reply.status()).as(reply.body()).isEqualTo(200);
        }
        String job = submit(job("requiredLabels", List.of("fl-g"), "minGpuMemoryMiB", 40960)).get("jobId").asString();
        String big = "/bored/fl-g-big?heartbeats=true&gpuMemoryMiB=81920";
        report(boss.post(big, "").json(), "fl-g-big", 503, true, "ScriptNotStarted");
        assertThat(boss.post("/bored/fl-g-small?heartbeats=true&gpuMemoryMiB=24576", "").status()).isEqualTo(204);
        JsonNode again = boss.post(big, "").json();
        assertThat(again.get("jobId").asString()).as("not avoided: no other node has the memory").isEqualTo(job);

        report(again, "fl-g-big", 500, false, "NonZeroExit");
        assertThat(order(job).get("status").asString()).as("no second opinion to ask for").isEqualTo("failed");
    }

    @Test
    void aRegistrationSaysWhichGpusFailedAndWhyItRunsOnCpu() {
        HttpJson.Reply reply = boss.post("/worker-node/create", Map.of("name", "fl-gpu", "labels", List.of("cpu"),
                "failedGpus", List.of(Map.of("index", 0, "model", "NVIDIA H100", "memoryMb", 81559,
                        "reason", "CUDA allocation failed")),
                "cpuOnlyBecause", "no GPU passed its check"));
        assertThat(reply.status()).as(reply.body()).isEqualTo(200);
        JsonNode view = worker("fl-gpu");
        assertThat(view.get("failedGpus").get(0).get("reason").asString()).isEqualTo("CUDA allocation failed");
        assertThat(view.get("cpuOnlyBecause").asString()).isEqualTo("no GPU passed its check");

        assertThat(boss.post("/worker-node/create", Map.of("name", "fl-gpu", "cpuOnlyBecause", "x".repeat(501)))
                .status()).isEqualTo(400);
        List<Map<String, Object>> tooMany = IntStream.range(0, 65).mapToObj(i -> Map.<String, Object>of("index", i))
                .toList();
        assertThat(boss.post("/worker-node/create", Map.of("name", "fl-gpu", "failedGpus", tooMany)).status())
                .isEqualTo(400);
        assertThat(boss.post("/worker-node/create", Map.of("name", "fl-gpu", "failedGpus",
                List.of(Map.of("index", -1)))).status()).isEqualTo(400);
    }
}
