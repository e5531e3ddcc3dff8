package com.maddatum.worker.poll;

import static com.maddatum.worker.poll.ScriptedBoss.json;
import static com.maddatum.worker.poll.ScriptedBoss.orderId;
import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.LongStream;
import mockwebserver3.MockResponse;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.core.type.TypeReference;
import tools.jackson.databind.JsonNode;

/**
 * A sweep's trial on a Worker: the script's progress lines reach the Boss with the heartbeats, and the
 * Boss's {@code "stop": "pruned"} ends it as done, with a real fixture script ({@code progress.py}).
 */
class ProgressAndPruningTest {

    private static final Duration A_WHILE = Duration.ofSeconds(30);
    private static final String ON = "{\"cancelRequested\":false}";
    private static final String PRUNED = "{\"cancelRequested\":false,\"stop\":\"pruned\"}";

    @TempDir
    Path root;

    /** The steps of every point the order's heartbeats carried, in the order they were sent. */
    private static List<Long> sentSteps(ScriptedBoss boss, String order) {
        List<Long> steps = new ArrayList<>();
        for (ScriptedBoss.Beat beat : boss.beats) {
            if (beat.orderId().equals(order)) {
                beat.body().path("progress").path("points").forEach(p -> steps.add(p.get(0).asLong()));
            }
        }
        return steps;
    }

    /** Prunes the trial once a heartbeat has carried a point at step 3 or beyond; until then, carry on. */
    private static MockResponse pruneFromStepThree(ScriptedBoss boss, String order) {
        for (ScriptedBoss.Beat beat : boss.beats) {
            if (beat.orderId().equals(order) && beat.body().path("progress").path("step").asLong(-1) >= 3) {
                return json(PRUNED);
            }
        }
        return json(ON);
    }

    @Test
    void stopPrunedStopsTheScriptWhichEndsDoneWithItsLastPointAndItsFilesUploaded() throws Exception {
        try (WorkerHarness worker = new WorkerHarness(root, 1, Duration.ofMillis(100))) {
            worker.boss.heartbeat = (order, n) -> pruneFromStepThree(worker.boss, order);
            worker.boss.order(1, "{\"scriptName\":\"progress.py\",\"forever\":true,\"artifact\":true}");
            worker.boss.order(2, "{\"scriptName\":\"napper.py\",\"seconds\":0,\"ignoreTerm\":false}");
            worker.start();

            JsonNode outcome = worker.boss.callback(A_WHILE);
            assertThat(outcome.get("orderId").asString()).isEqualTo(orderId(1));
            assertThat(outcome.get("status").asInt()).isEqualTo(200);
            assertThat(outcome.get("pruned").asBoolean()).isTrue();
            assertThat(outcome.has("retryable")).isFalse();
            assertThat(outcome.has("error")).isFalse();
            long step = outcome.get("prunedAt").get("step").asLong();
            double value = outcome.get("prunedAt").get("value").asDouble();
            assertThat(step).isGreaterThanOrEqualTo(3);
            assertThat(value).isEqualTo(1.0 / (step + 1));
            assertThat(outcome.get("loss").asDouble()).isEqualTo(value);
            // The last point is the last progress line the script printed before SIGTERM ended it.
            List<String> printed = Files.readAllLines(worker.settings.workDir().resolve(orderId(1) + "-a1")
                    .resolve("stdout.log"));
            assertThat(printed.get(printed.size() - 1)).isEqualTo("##progress {\"step\": " + step + ", \"value\": "
                    + outcome.get("prunedAt").get("value") + "}");
            // Every point the Boss took arrived once, in order, from the first on.
            List<Long> sent = sentSteps(worker.boss, orderId(1));
            assertThat(sent).isEqualTo(LongStream.range(0, sent.size()).boxed().toList());
            assertThat(sent.size()).isGreaterThanOrEqualTo(4).isLessThanOrEqualTo((int) step + 1);
            // Its files went up as a finished run's do: a checkpoint of a pruned trial is still worth having.
            assertThat(outcome.get("artifacts").get(0).get("name").asString()).isEqualTo("checkpoint.txt");
            assertThat(worker.boss.blobs.get(outcome.get("artifacts").get(0).get("sha256").asString()))
                    .isEqualTo("weights".getBytes());
            // Not the machine's fault: no re-check of its GPUs, and the slot takes the next order.
            Map<String, Object> asMap = com.maddatum.worker.support.TestSettings.JSON.convertValue(outcome,
                    new TypeReference<Map<String, Object>>() {});
            assertThat(MachineFault.of(asMap, true)).isNull();
            JsonNode next = worker.boss.callback(A_WHILE);
            assertThat(next.get("orderId").asString()).isEqualTo(orderId(2));
            assertThat(next.get("status").asInt()).isEqualTo(200);
        }
    }

    @Test
    void aScriptThatAnswersSigtermWithItsOwnOutcomeKeepsItMarkedPruned() throws Exception {
        try (WorkerHarness worker = new WorkerHarness(root, 1, Duration.ofMillis(100))) {
            worker.boss.heartbeat = (order, n) -> pruneFromStepThree(worker.boss, order);
            worker.boss.order(1, "{\"scriptName\":\"progress.py\",\"forever\":true,\"ownOutcomeOnTerm\":true}");
            worker.start();

            JsonNode outcome = worker.boss.callback(A_WHILE);
            assertThat(outcome.get("status").asInt()).isEqualTo(200);
            assertThat(outcome.get("loss").asDouble()).isEqualTo(0.3);
            assertThat(outcome.get("pruned").asBoolean()).isTrue();
            assertThat(outcome.get("prunedAt").get("step").asLong()).isGreaterThanOrEqualTo(3);
            assertThat(outcome.get("exitCode").asInt()).isZero();
        }
    }

    /** A Boss from before sweeps answers without {@code stop}: the trial runs to its own end, as every job did. */
    @Test
    void heartbeatAnswersWithoutAStopLeaveAReportingScriptToFinish() throws Exception {
        try (WorkerHarness worker = new WorkerHarness(root, 1, Duration.ofMillis(100))) {
            worker.boss.heartbeat = (order, n) -> json(ON);
            worker.boss.order(1, "{\"scriptName\":\"progress.py\",\"points\":5,\"sleep\":0.5}");
            worker.start();

            JsonNode outcome = worker.boss.callback(A_WHILE);
            assertThat(outcome.get("status").asInt()).isEqualTo(200);
            assertThat(outcome.get("loss").asDouble()).isEqualTo(0.5);
            assertThat(outcome.has("pruned")).isFalse();
            assertThat(outcome.has("prunedAt")).isFalse();
            assertThat(sentSteps(worker.boss, orderId(1))).containsExactly(0L, 1L, 2L, 3L, 4L);
        }
    }
}
