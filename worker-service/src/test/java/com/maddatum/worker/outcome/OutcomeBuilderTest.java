package com.maddatum.worker.outcome;

import static org.assertj.core.api.Assertions.assertThat;

import com.maddatum.worker.runner.ProcessResult;
import com.maddatum.worker.runner.Progress;
import com.maddatum.worker.runner.StopReason;
import com.maddatum.worker.support.TestSettings;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

class OutcomeBuilderTest {

    private final OutcomeBuilder builder = new OutcomeBuilder(TestSettings.JSON);

    private static ProcessResult ended(Integer exit, String lastLine, StopReason stoppedBy) {
        Instant now = Instant.parse("2026-01-01T00:00:00Z");
        return new ProcessResult(exit, null, stoppedBy == null ? null : stoppedBy.name().toLowerCase(), stoppedBy,
                false, 0, lastLine, lastLine == null ? "" : lastLine, "", 10, 0, false, now, now.plusSeconds(3));
    }

    @Test
    void aScriptThatFinishedByItselfKeepsItsResult() {
        assertThat(builder.fromResult(ended(0, "{\"status\":200,\"loss\":0.5}", null), "job-1"))
                .containsEntry("status", 200).containsEntry("loss", 0.5).doesNotContainKey("retryable");
    }

    @Test
    void theStopThatKilledALiveScriptIsHonoured() {
        assertThat(builder.fromResult(ended(143, null, StopReason.SHUTDOWN), "job-1"))
                .containsEntry("status", 503).containsEntry("retryable", true);
        assertThat(builder.fromResult(ended(143, null, StopReason.CANCELLED), "job-1")).containsEntry("status", 499);
        assertThat(builder.fromResult(ended(null, null, StopReason.TIMEOUT), "job-1")).containsEntry("status", 504);
    }

    @Test
    void aPrunedRunIsDoneWithItsLastPointAsItsLoss() {
        Map<String, Object> outcome = builder.fromResult(ended(-15, "##progress cut", StopReason.PRUNED), "job-1",
                new Progress.Point(7, 0.25));
        assertThat(outcome).containsEntry("status", 200).containsEntry("jobId", "job-1").containsEntry("loss", 0.25)
                .containsEntry("pruned", true).containsEntry("prunedAt", Map.of("step", 7L, "value", 0.25))
                .containsEntry("exitCode", -15).doesNotContainKeys("retryable", "error");
    }

    @Test
    void aPrunedScriptsOwnOutcomeWithALossIsKeptAndMarkedPruned() {
        Map<String, Object> outcome = builder.fromResult(ended(143,
                "{\"status\":200,\"jobId\":\"job-1\",\"loss\":0.125,\"epochs\":4}", StopReason.PRUNED), "job-1",
                new Progress.Point(4, 0.5));
        assertThat(outcome).containsEntry("status", 200).containsEntry("loss", 0.125).containsEntry("epochs", 4)
                .containsEntry("pruned", true).containsEntry("prunedAt", Map.of("step", 4L, "value", 0.5))
                .doesNotContainKey("error");
    }

    @Test
    void aPrunedScriptsOwnOutcomeWithoutAFiniteLossOrASuccessGivesWayToTheLastPoint() {
        for (String own : new String[] {"{\"status\":200,\"jobId\":\"job-1\"}", "{\"status\":200,\"loss\":NaN}",
                "{\"status\":500,\"loss\":0.1,\"error\":{\"type\":\"KeyboardInterrupt\"}}"}) {
            Map<String, Object> outcome = builder.fromResult(ended(0, own, StopReason.PRUNED), "job-1",
                    new Progress.Point(2, 0.75));
            assertThat(outcome).as(own).containsEntry("status", 200).containsEntry("loss", 0.75)
                    .containsEntry("pruned", true).doesNotContainKey("error");
        }
    }

    @Test
    void aRunPrunedBeforeItReportedAnythingIsDoneWithoutALoss() {
        assertThat(builder.fromResult(ended(-15, null, StopReason.PRUNED), "job-1", null))
                .containsEntry("status", 200).containsEntry("pruned", true).doesNotContainKeys("loss", "prunedAt");
        // Not handed back either when the stop came before the script started: it would only be pruned again.
        assertThat(OutcomeBuilder.notStarted("job-1", StopReason.PRUNED)).containsEntry("status", 200)
                .containsEntry("pruned", true).doesNotContainKey("retryable");
    }

    @Test
    void aScriptCannotClaimItWasPrunedItsOwnWordIsKeptAside() {
        Map<String, Object> outcome = builder.fromResult(ended(0,
                "{\"status\":200,\"loss\":1,\"pruned\":true,\"prunedAt\":{\"step\":1}}", null), "job-1",
                new Progress.Point(3, 0.5));
        assertThat(outcome).doesNotContainKeys("pruned", "prunedAt").containsEntry("scriptPruned", true)
                .containsKey("scriptPrunedAt").containsEntry("loss", 1);
    }

    @Test
    void pythonsNanAndInfinityAreReadSoTheContractCanFixThem() {
        Map<String, Object> outcome = builder.fromResult(ended(0, "{\"status\":200,\"loss\":NaN,\"metric\":-Infinity}", null),
                "job-1");
        assertThat(outcome).containsEntry("status", 200);
        assertThat((Double) outcome.get("loss")).isNaN();
        assertThat(outcome.get("metric")).isEqualTo(Double.NEGATIVE_INFINITY);
    }

    @Test
    void aScriptCannotClaimArtifactsOrAFetchTimeItsOwnAreKeptAside() {
        Map<String, Object> outcome = builder.fromResult(ended(0, "{\"status\":200,\"artifacts\":[{\"name\":\"x\","
                + "\"sha256\":\"" + "b".repeat(64) + "\"}],\"skippedArtifacts\":[],\"fetchSeconds\":0,"
                + "\"logs\":[\"epoch 1\"]}", null), "job-1");
        assertThat(outcome).doesNotContainKeys("artifacts", "skippedArtifacts", "fetchSeconds", "logs")
                .containsKeys("scriptArtifacts", "scriptSkippedArtifacts", "scriptFetchSeconds", "scriptLogs");
    }

    @Test
    void theJobsOwnIdWinsAndWhatTheScriptSaidIsKept() {
        Map<String, Object> outcome = builder.fromResult(ended(0, "{\"status\":200,\"jobId\":\"other\"}", null), "job-1");
        assertThat(outcome).containsEntry("jobId", "job-1").containsEntry("scriptJobId", "other");
    }

    @Test
    void aRefusedOutcomeIsReplacedByOneForTheSameOrderAndAttemptWithItsManifestThenWithoutItsLogTailAndManifestThenNothing() {
        Map<String, Object> refused = new LinkedHashMap<>();
        refused.put("status", 200);
        refused.put("jobId", "job-1");
        refused.put("orderId", "65a1b2c3d4e5f60718293a4b");
        refused.put("attempt", 2);
        refused.put("node", "n1");
        refused.put("loss", 0.5);
        refused.put("logTail", "epoch 1\nepoch 2");
        refused.put("manifest", Map.of("scriptSha256", "ab12", "seed", 7));
        Map<String, Object> replacement = OutcomeBuilder.replacement(refused, "HTTP 400: jobId does not match (field jobId)");
        assertThat(replacement).containsEntry("status", 500).containsEntry("jobId", "job-1")
                .containsEntry("orderId", "65a1b2c3d4e5f60718293a4b").containsEntry("attempt", 2)
                .containsEntry("node", "n1").containsEntry("logTail", "epoch 1\nepoch 2").doesNotContainKey("loss")
                .containsEntry("manifest", Map.of("scriptSha256", "ab12", "seed", 7))
                .doesNotContainKey("retryable");
        assertThat(replacement.get("error")).isEqualTo(Map.of("type", "OutcomeRejected", "message",
                "the Boss refused the script's outcome (status 200): HTTP 400: jobId does not match (field jobId)"));

        Map<String, Object> lastResort = OutcomeBuilder.replacement(replacement, "HTTP 413: too large");
        assertThat(lastResort).containsEntry("status", 500).containsEntry("attempt", 2).doesNotContainKeys("logTail",
                "manifest");
        assertThat((String) ((Map<?, ?>) lastResort.get("error")).get("message")).contains("jobId does not match", "too large");
        assertThat(OutcomeBuilder.replacement(lastResort, "HTTP 400")).isNull();
    }
}
