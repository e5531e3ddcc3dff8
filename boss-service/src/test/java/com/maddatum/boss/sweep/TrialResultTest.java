package com.maddatum.boss.sweep;

import static org.assertj.core.api.Assertions.assertThat;

import org.bson.Document;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class TrialResultTest {

    private static final Document OUTCOME = new Document("status", 200).append("loss", 1.5).append("metric", 0.8)
            .append("metrics", new Document("r2", 0.9)).append("details", new Document("metricStd", 0.1)
                    .append("device", "cpu"));

    @ParameterizedTest
    @CsvSource(nullValues = "none", value = {"loss, 1.5", "metric, 0.8", "metrics.r2, 0.9", "metricStd, 0.1",
            "device, none", "metrics.mae, none", "epochs, none"})
    void readsTheMetricWhereTheBossStoresIt(String name, Double value) {
        assertThat(TrialResult.valueOf(OUTCOME, name)).isEqualTo(value);
    }

    @ParameterizedTest
    @CsvSource({"loss, true", "metric, true", "metrics.r2, true", "r2, true", "status, false", "exitCode, false",
            "fetchSeconds, false", "prunedAt, false", "metrics., false", "val loss, false", "a.b, false"})
    void aMetricIsNeverOneOfTheOutcomesOwnFields(String name, boolean possible) {
        assertThat(TrialResult.canBeMetric(name)).isEqualTo(possible);
    }

    @Test
    void aPrunedOutcomeHasTheMetricOnlyWhenItCarriesIt() {
        Document pruned = new Document("status", 200).append("details", new Document("pruned", true)
                .append("prunedAt", new Document("step", 3).append("value", 2.5)));
        assertThat(TrialResult.valueOf(pruned, "loss")).isNull();
        Document withLoss = new Document(pruned).append("loss", 2.0);
        assertThat(TrialResult.valueOf(withLoss, "loss")).isEqualTo(2.0);
    }

    /** A 4xx is the script's unless the Worker names a failure before the script ran (data, inputs, room). */
    @ParameterizedTest
    @CsvSource(nullValues = "none", value = {"400, none, false", "422, ScriptError, false", "404, ScriptNotFound, false",
            "404, DataNotFound, true", "404, InputNotFound, true", "422, DataCorrupt, true", "400, InvalidInputs, true",
            "507, InsufficientStorage, true", "507, DataTooLarge, true", "504, Timeout, true", "500, none, true"})
    void aFailureIsRetryableUnlessTheScriptReportedA4xx(int status, String type, boolean retryable) {
        Document outcome = new Document("status", status);
        if (type != null) {
            outcome.append("error", new Document("type", type).append("message", "m"));
        }
        assertThat(TrialResult.retryable(outcome)).isEqualTo(retryable);
        assertThat(TrialResult.retryable(null)).as("no outcome: the infrastructure's").isTrue();
    }
}
