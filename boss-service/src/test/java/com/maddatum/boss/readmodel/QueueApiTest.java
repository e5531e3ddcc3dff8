package com.maddatum.boss.readmodel;

import static org.assertj.core.api.Assertions.assertThat;

import com.maddatum.boss.support.BossApiTestBase;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;

/**
 * A waiting job's place in the queue, as {@code GET /jobs/{id}} shows it. Every test uses labels and
 * a project of its own, so Workers and runs left by other tests in the shared Boss do not count.
 */
class QueueApiTest extends BossApiTestBase {

    private final String label = "q" + System.nanoTime();

    private void register(String node, List<String> labels, int slots) {
        assertThat(boss.post("/worker-node/create", Map.of("name", node, "labels", labels, "slots", slots)).status())
                .isEqualTo(200);
    }

    private String submitQueued(Map<String, Object> job) {
        clock.advance(Duration.ofSeconds(1)); // distinct ages
        return submit(job).get("jobId").asString();
    }

    private JsonNode queue(String jobId) {
        return boss.get("/jobs/" + jobId).json().get("queue");
    }

    @Test
    void positionCountsHigherPriorityAndOlderOrdersThatAnEligibleWorkerCouldTake() {
        String other = "other";
        String w1 = "w1-" + label;
        register(w1, List.of(label), 1);
        String d = submitQueued(job("priority", 9, "requiredLabels", List.of(label, other)));
        String a = submitQueued(job("priority", 0, "requiredLabels", List.of(label)));
        String b = submitQueued(job("priority", 5, "requiredLabels", List.of(label)));
        String e = submitQueued(job("priority", 9, "requiredLabels", List.of()));
        String c = submitQueued(job("priority", 0, "requiredLabels", List.of(label)));

        // w1 would take e (no labels needed), b (higher priority), a (older), then c; never d.
        assertThat(queue(c).get("position").asLong()).isEqualTo(3);
        assertThat(queue(a).get("position").asLong()).isEqualTo(2);
        assertThat(queue(b).get("position").asLong()).isEqualTo(1);
        assertThat(queue(c).get("eligibleWorkers").get("live").asInt()).isEqualTo(1);
        assertThat(queue(c).get("eligibleWorkers").get("idle").asInt()).isEqualTo(1);
        assertThat(queue(c).get("waitingBecause").asString()).isEqualTo("3 orders ahead; 1 eligible Worker, 1 idle");
        JsonNode missing = queue(d);
        assertThat(missing.get("eligibleWorkers").get("live").asInt()).isZero();
        assertThat(missing.get("waitingBecause").asString())
                .isEqualTo("no live Worker has labels " + new TreeSet<>(List.of(label, other)));
        assertThat(missing.get("position").asLong()).isZero(); // first for a Worker that had the labels
        assertThat(missing.has("etaSeconds")).isFalse();

        assertThat(claim(w1).get("jobId").asString()).isEqualTo(e);
        assertThat(boss.get("/jobs/" + e).json().has("queue")).isFalse(); // assigned: no longer queued
        assertThat(queue(c).get("position").asLong()).isEqualTo(2);
        assertThat(queue(c).get("waitingBecause").asString()).isEqualTo("2 orders ahead; 1 eligible Worker is busy");

        // A Worker with both labels could take d too; c's place is the smaller of the two Workers' counts.
        String w2 = "w2-" + label;
        register(w2, List.of(label, other), 2);
        assertThat(queue(c).get("position").asLong()).isEqualTo(2);
        assertThat(queue(c).get("eligibleWorkers").get("live").asInt()).isEqualTo(2);
        assertThat(queue(c).get("waitingBecause").asString()).isEqualTo("2 orders ahead; 2 eligible Workers, 1 idle");
        assertThat(queue(d).get("waitingBecause").asString())
                .isEqualTo("next in line; waiting for an eligible Worker to ask");

        assertThat(claim(w2).get("jobId").asString()).isEqualTo(d);
        assertThat(claim(w2).get("jobId").asString()).isEqualTo(b);
        assertThat(queue(c).get("position").asLong()).isEqualTo(1);
        assertThat(queue(c).get("eligibleWorkers").get("idle").asInt()).isZero();
        assertThat(queue(c).get("waitingBecause").asString()).isEqualTo("1 order ahead; 2 eligible Workers are busy");
        assertThat(queue(a).get("waitingBecause").asString()).isEqualTo("next in line; all 2 eligible Workers are busy");

        // A drained Worker takes nothing new: it is no longer counted as eligible.
        assertThat(boss.post("/workers/" + w2 + "/drain", Map.of("reason", "maintenance")).status()).isEqualTo(200);
        assertThat(queue(c).get("eligibleWorkers").get("live").asInt()).isEqualTo(1);
        assertThat(boss.post("/workers/" + w2 + "/undrain", "").status()).isEqualTo(200);
        assertThat(queue(c).get("eligibleWorkers").get("live").asInt()).isEqualTo(2);

        // Workers not heard from for boss.workers.offline-after no longer count.
        clock.advance(Duration.ofMinutes(2));
        assertThat(queue(c).get("eligibleWorkers").get("live").asInt()).isZero();
        assertThat(queue(c).get("waitingBecause").asString()).isEqualTo("no live Worker has labels [" + label + "]");
    }

    @Test
    void etaIsTheMedianRecentDurationOfTheScriptInTheProjectScaledByTheOrdersAheadPerEligibleSlot() {
        String project = "eta-" + label;
        String node = "eta-" + label;
        register(node, List.of(label), 2);
        for (int seconds : new int[] {30, 10, 20}) {
            String jobId = submitQueued(job("projectName", project, "scriptName", "eta.py",
                    "requiredLabels", List.of(label)));
            JsonNode order = claim(node);
            assertThat(boss.post("/orders/" + order.get("_id").asString() + "/heartbeat",
                    Map.of("node", node, "attempt", 1)).status()).isEqualTo(200);
            clock.advance(Duration.ofSeconds(seconds));
            assertThat(boss.post("/callback", Map.of("status", 200, "jobId", jobId, "orderId",
                    order.get("_id").asString(), "attempt", 1, "node", node, "loss", 1.0)).status()).isEqualTo(200);
        }
        // A failed run is no basis for how long a run takes.
        String failing = submitQueued(job("projectName", project, "scriptName", "eta.py", "requiredLabels", List.of(label)));
        JsonNode failed = claim(node);
        clock.advance(Duration.ofSeconds(1000));
        boss.post("/callback", Map.of("status", 500, "jobId", failing, "orderId", failed.get("_id").asString(),
                "attempt", 1, "node", node));
        register(node, List.of(label), 2); // heard from again after the clock moved

        String x = submitQueued(job("projectName", project, "scriptName", "eta.py", "requiredLabels", List.of(label)));
        String y = submitQueued(job("projectName", project, "scriptName", "eta.py", "requiredLabels", List.of(label)));
        String otherScript = submitQueued(job("projectName", project, "scriptName", "new.py",
                "requiredLabels", List.of(label)));
        String otherProject = submitQueued(job("projectName", project + "-b", "scriptName", "eta.py",
                "requiredLabels", List.of(label)));
        String noWorker = submitQueued(job("projectName", project, "scriptName", "eta.py",
                "requiredLabels", List.of(label, "missing")));

        assertThat(queue(x).get("etaSeconds").asLong()).isEqualTo(20); // 20 s x (0 / 2 + 1)
        assertThat(queue(x).get("etaMethod").asString()).isEqualTo("median of the last 3 durations of eta.py in project "
                + project + " (20 s) x (0 ahead / 2 eligible slots + 1)");
        assertThat(queue(y).get("etaSeconds").asLong()).isEqualTo(30); // 20 s x (1 / 2 + 1)
        assertThat(queue(otherScript).has("etaSeconds")).isFalse();
        assertThat(queue(otherScript).has("etaMethod")).isFalse();
        assertThat(queue(otherProject).has("etaSeconds")).isFalse();
        assertThat(queue(noWorker).has("etaSeconds")).isFalse();
        assertThat(queue(noWorker).get("position").asLong()).isEqualTo(4);
    }

    @Test
    void aJobThatNeedsMoreGpuMemoryThanAnyLiveWorkerRegisteredSaysSo() {
        String small = "small-" + label;
        assertThat(boss.post("/worker-node/create", Map.of("name", small, "labels", List.of(label), "gpus",
                List.of(Map.of("index", 0, "model", "RTX 4090", "memoryMb", 24_564)))).status()).isEqualTo(200);
        String big = submitQueued(job("requiredLabels", List.of(label), "minGpuMemoryMiB", 40_960));
        String any = submitQueued(job("requiredLabels", List.of(label)));

        JsonNode waiting = queue(big);
        assertThat(waiting.get("eligibleWorkers").get("live").asInt()).isZero();
        assertThat(waiting.get("waitingBecause").asString())
                .isEqualTo("no live Worker with labels [" + label + "] has a GPU with 40960 MiB or more");
        assertThat(queue(any).get("eligibleWorkers").get("live").asInt()).isEqualTo(1);

        String large = "large-" + label;
        assertThat(boss.post("/worker-node/create", Map.of("name", large, "labels", List.of(label), "gpus",
                List.of(Map.of("index", 0, "model", "T4", "memoryMb", 15_360),
                        Map.of("index", 1, "model", "A100", "memoryMb", 81_920)))).status()).isEqualTo(200);
        waiting = queue(big);
        assertThat(waiting.get("eligibleWorkers").get("live").asInt()).isEqualTo(1);
        assertThat(waiting.get("waitingBecause").asString()).startsWith("next in line");
    }
}
