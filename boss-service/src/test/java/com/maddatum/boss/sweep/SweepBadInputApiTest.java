package com.maddatum.boss.sweep;

import static org.assertj.core.api.Assertions.assertThat;

import com.maddatum.testsupport.HttpJson;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import org.bson.Document;
import org.junit.jupiter.api.Test;

/** Every bad sweep is a 400 naming the field, and nothing is stored: no sweep, no job. */
@SuppressWarnings("unchecked")
class SweepBadInputApiTest extends SweepApiTestBase {

    private Map<String, Object> good() {
        Map<String, Object> layer = new LinkedHashMap<>(Map.of("activation", "relu", "dropout", 0.2));
        return sweepBody(base("learningRate", 0.01, "hiddenLayers", List.of(layer)),
                new ArrayList<>(List.of(range("learningRate", 0.001, 0.1, "log_uniform"),
                        values("hiddenLayers.0.dropout", 0.0, 0.2, 0.4))),
                "name", "bad-" + label);
    }

    private void refused(String field, Consumer<Map<String, Object>> change) {
        Map<String, Object> body = good();
        change.accept(body);
        long jobs = count("jobs");
        HttpJson.Reply reply = boss.post("/sweeps", body);
        assertThat(reply.status()).as("%s: %s", field, reply.body()).isEqualTo(400);
        assertThat(reply.json().get("field").asString()).as(reply.body()).isEqualTo(field);
        assertThat(reply.headers().firstValue("Content-Type")).hasValueSatisfying(
                type -> assertThat(type).startsWith("application/problem+json"));
        assertThat(countIn("sweeps", new Document("name", "bad-" + label))).isZero();
        assertThat(count("jobs")).isEqualTo(jobs);
    }

    @Test
    void theGoodBodyIsAccepted() {
        HttpJson.Reply reply = boss.post("/sweeps", good());
        assertThat(reply.status()).as(reply.body()).isEqualTo(201);
        assertThat(reply.json().get("maxJobs").asInt()).isEqualTo(4);
        assertThat(reply.json().get("planned").asLong()).isEqualTo(4);
        assertThat(reply.headers().firstValue("Location")).hasValue("/sweeps/" + reply.json().get("sweepId").asString());
    }

    @Test
    void parametersMayBeAnObjectKeyedByDottedPath() {
        Map<String, Object> body = good();
        body.put("parameters", Map.of("hiddenLayers.0.dropout", Map.of("values", List.of(0.1, 0.3))));
        HttpJson.Reply reply = boss.post("/sweeps", body);
        assertThat(reply.status()).as(reply.body()).isEqualTo(201);
        String id = reply.json().get("sweepId").asString();
        assertThat(reply.json().get("planned").asLong()).isEqualTo(2);
        assertThat(sweep(id).get("parameters").get(0).get("path").asString()).isEqualTo("hiddenLayers.0.dropout");
        boss.post("/sweeps/" + id + "/cancel", "");
    }

    @Test
    void anUnknownMethodIsRefused() {
        refused("method", b -> b.put("method", "bayes"));
        refused("method", b -> b.remove("method"));
    }

    @Test
    void anEmptyParameterSpaceIsRefused() {
        refused("parameters", b -> b.put("parameters", List.of()));
        refused("parameters", b -> b.put("parameters", Map.of()));
        refused("parameters", b -> b.remove("parameters"));
        refused("parameters[learningRate].values", b -> b.put("parameters", List.of(values("learningRate"))));
    }

    @Test
    void valuesThatAreNotAListAreRefused() {
        refused("parameters[learningRate].values", b -> b.put("parameters",
                List.of(Map.of("path", "learningRate", "values", 0.1))));
        refused("parameters[learningRate].values", b -> b.put("parameters",
                Map.of("learningRate", Map.of("values", Map.of("a", 1)))));
    }

    @Test
    void aRangeWithMinAboveMaxIsRefused() {
        refused("parameters[learningRate].min", b -> b.put("parameters",
                List.of(range("learningRate", 0.5, 0.1, "uniform"))));
    }

    @Test
    void aLogUniformRangeThatReachesZeroOrBelowIsRefused() {
        refused("parameters[learningRate].min", b -> b.put("parameters",
                List.of(range("learningRate", 0.0, 0.1, "log_uniform"))));
        refused("parameters[learningRate].min", b -> b.put("parameters",
                List.of(range("learningRate", -1.0, 0.1, "log_uniform"))));
    }

    @Test
    void otherBadRangesAreRefused() {
        refused("parameters[learningRate].distribution", b -> b.put("parameters",
                List.of(range("learningRate", 0.1, 0.2, "normal"))));
        refused("parameters[learningRate].min", b -> b.put("parameters",
                List.of(Map.of("path", "learningRate", "max", 1))));
        refused("parameters[learningRate].min", b -> b.put("parameters",
                List.of(range("learningRate", 0.5, 3, "int_uniform"))));
        refused("parameters[learningRate].min", b -> b.put("parameters",
                List.of(Map.of("path", "learningRate", "values", List.of(1), "min", 0))));
        refused("parameters[learningRate].step", b -> b.put("parameters",
                List.of(Map.of("path", "learningRate", "values", List.of(1), "step", 2))));
    }

    @Test
    void rangesADrawOrAGridCannotHoldAreRefused() {
        // max - min overflows a double: a draw would be Infinity.
        refused("parameters[learningRate].max", b -> b.put("parameters",
                List.of(range("learningRate", -1e308, 1e308, "uniform"))));
        // Integers beyond 2^53 are not all doubles, and a grid over them would not fit a long.
        refused("parameters[learningRate].max", b -> b.put("parameters",
                List.of(range("learningRate", 0, 1e19, "int_uniform"))));
        refused("parameters[learningRate].min", b -> {
            b.put("parameters", List.of(range("learningRate", -1e19, 1e19, "int_uniform")));
            b.put("method", "grid");
            b.put("truncate", true);
        });
    }

    /** An index has one spelling: {@code hiddenLayers.00.dropout} would vary {@code hiddenLayers.0.dropout} again. */
    @Test
    void anIndexWithALeadingZeroIsRefused() {
        refused("parameters[hiddenLayers.00.dropout].path", b -> b.put("parameters", List.of(
                values("hiddenLayers.0.dropout", 0.1, 0.2), values("hiddenLayers.00.dropout", 0.1, 0.2))));
        refused("parameters[hiddenLayers.01.dropout].path", b -> b.put("parameters",
                List.of(values("hiddenLayers.01.dropout", 0.1))));
    }

    @Test
    void aPathTheBaseDoesNotHaveIsRefused() {
        refused("parameters[learningRat].path", b -> b.put("parameters", List.of(values("learningRat", 0.1))));
        refused("parameters[hiddenLayers.1.dropout].path", b -> b.put("parameters",
                List.of(values("hiddenLayers.1.dropout", 0.1))));
        refused("parameters[hiddenLayers.x.dropout].path", b -> b.put("parameters",
                List.of(values("hiddenLayers.x.dropout", 0.1))));
        refused("parameters[hiddenLayers.0.width].path", b -> b.put("parameters",
                List.of(values("hiddenLayers.0.width", 1))));
        refused("parameters[0].path", b -> b.put("parameters", List.of(Map.of("values", List.of(1)))));
        refused("parameters[$where].path", b -> b.put("parameters", List.of(values("$where", 1))));
    }

    @Test
    void pathsTheBossSetsOrThatOverlapAreRefused() {
        refused("parameters[projectName].path", b -> {
            ((Map<String, Object>) b.get("base")).put("projectName", "p");
            b.put("parameters", List.of(values("projectName", "a", "b")));
        });
        refused("parameters[hiddenLayers.0.dropout].path", b -> b.put("parameters",
                List.of(values("hiddenLayers", List.of()), values("hiddenLayers.0.dropout", 0.1))));
    }

    @Test
    void aGridLargerThanMaxJobsNeedsTruncate() {
        Consumer<Map<String, Object>> grid = b -> {
            b.put("method", "grid");
            b.put("maxJobs", 5);
            b.put("parameters", List.of(values("learningRate", 0.1, 0.01, 0.001),
                    values("hiddenLayers.0.dropout", 0.0, 0.5)));
        };
        refused("maxJobs", grid);
        Map<String, Object> truncated = good();
        grid.accept(truncated);
        truncated.put("truncate", true);
        HttpJson.Reply reply = boss.post("/sweeps", truncated);
        assertThat(reply.status()).as(reply.body()).isEqualTo(201);
        assertThat(reply.json().get("planned").asLong()).isEqualTo(5);
    }

    @Test
    void aGridOfAContinuousRangeIsRefused() {
        refused("parameters[learningRate].distribution", b -> b.put("method", "grid"));
    }

    @Test
    void aMetricNoOutcomeCanHaveIsRefused() {
        refused("metric.name", b -> b.put("metric", Map.of("name", "status", "goal", "minimize")));
        refused("metric.name", b -> b.put("metric", Map.of("name", "exitCode")));
        refused("metric.name", b -> b.put("metric", Map.of("name", "metrics.")));
        refused("metric.name", b -> b.put("metric", Map.of("name", "val loss")));
        refused("metric.name", b -> b.put("metric", Map.of("name", 3)));
        refused("metric.goal", b -> b.put("metric", Map.of("name", "loss", "goal", "lowest")));
        refused("metric", b -> b.put("metric", "loss"));
    }

    @Test
    void parallelismAndMaxJobsOutOfRangeAreRefused() {
        refused("maxJobs", b -> b.put("maxJobs", 0));
        refused("maxJobs", b -> b.remove("maxJobs"));
        refused("maxJobs", b -> b.put("maxJobs", 10_000_001));
        refused("parallelism", b -> b.put("parallelism", 0));
        refused("parallelism", b -> b.put("parallelism", 1_000_000));
        refused("seed", b -> b.put("seed", -1));
        refused("truncate", b -> b.put("truncate", "yes"));
    }

    @Test
    void badEarlyStopsAreRefused() {
        refused("earlyStop.type", b -> b.put("earlyStop", Map.of("type", "hyperband")));
        refused("earlyStop.minSteps", b -> b.put("earlyStop", Map.of("type", "median", "minSteps", -1)));
        refused("earlyStop.minTrials", b -> b.put("earlyStop", Map.of("type", "median", "minTrials", 0)));
    }

    @Test
    void aBaseThatIsNotAValidJobIsRefusedNamingItsField() {
        refused("base", b -> b.remove("base"));
        refused("base.scriptName", b -> ((Map<String, Object>) b.get("base")).remove("scriptName"));
        refused("base.priority", b -> ((Map<String, Object>) b.get("base")).put("priority", "high"));
        refused("base.projectName", b -> {
            ((Map<String, Object>) b.get("base")).put("projectName", "one");
            b.put("projectName", "other");
        });
    }

    @Test
    void aValueThatMakesAnInvalidJobIsRefusedNamingTheValue() {
        refused("parameters[priority].values[1].priority", b -> {
            ((Map<String, Object>) b.get("base")).put("priority", 1);
            b.put("parameters", List.of(values("priority", 1, "urgent")));
        });
    }

    @Test
    void unknownFieldsAndBadNamesAreRefused() {
        refused("parallelsim", b -> b.put("parallelsim", 3));
        refused("name", b -> b.remove("name"));
        refused("name", b -> b.put("name", "two\nlines"));
    }
}
