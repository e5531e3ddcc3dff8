package com.maddatum.boss.sweep;

import static org.assertj.core.api.Assertions.assertThat;

import com.maddatum.testsupport.HttpJson;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.bson.Document;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;

/** The median rule through heartbeats, and a pruned outcome in the counts and the leaderboard. */
class EarlyStopApiTest extends SweepApiTestBase {


    private final Map<Integer, JsonNode> orderOf = new HashMap<>();
    private final Map<Integer, String> nodeOf = new HashMap<>();

    private void claimAll(int n, String prefix) {
        for (int i = 0; i < n; i++) {
            String node = node(prefix + i);
            JsonNode order = tryClaim(node);
            int trial = storedJob(order.get("jobId").asString()).get("trial").asInt();
            orderOf.put(trial, order);
            nodeOf.put(trial, node);
        }
    }

    private HttpJson.Reply beat(int trial, Object progress) {
        JsonNode order = orderOf.get(trial);
        Map<String, Object> body = new HashMap<>(Map.of("node", nodeOf.get(trial), "attempt", 1));
        if (progress != null) {
            body.put("progress", progress);
        }
        HttpJson.Reply reply = boss.post("/orders/" + order.get("_id").asString() + "/heartbeat", body);
        assertThat(reply.status()).as(reply.body()).isEqualTo(200);
        return reply;
    }

    private static Map<String, Object> points(double... stepValue) {
        List<List<Double>> points = new java.util.ArrayList<>();
        for (int i = 0; i < stepValue.length; i += 2) {
            points.add(List.of(stepValue[i], stepValue[i + 1]));
        }
        return Map.of("step", stepValue[stepValue.length - 2], "value", stepValue[stepValue.length - 1],
                "points", points);
    }

    @Test
    void aTrialClearlyWorseThanTheMedianIsStoppedAndRankedBelowAFinishedOneOfTheSameValue() {
        String id = create(sweepBody(base("learningRate", 0.1), List.of(values("learningRate", 0.1, 0.2, 0.3, 0.4,
                0.5)), "method", "grid", "maxJobs", 5, "parallelism", 5,
                "earlyStop", Map.of("type", "median", "minSteps", 2, "minTrials", 3)));
        for (int i = 0; i < 5; i++) {
            String node = node("es" + i);
            JsonNode order = tryClaim(node);
            int trial = storedJob(order.get("jobId").asString()).get("trial").asInt();
            orderOf.put(trial, order);
            nodeOf.put(trial, node);
        }
        assertThat(beat(1, points(1, 1.0, 2, 0.9, 3, 0.8)).json().has("stop")).isFalse();
        assertThat(beat(2, points(1, 1.1, 2, 1.0, 3, 0.9)).json().has("stop")).isFalse();
        assertThat(beat(3, points(1, 0.9, 2, 0.8, 3, 0.7)).json().has("stop")).isFalse();
        assertThat(beat(4, points(1, 5.0)).json().has("stop")).as("before minSteps").isFalse();

        JsonNode pruned = beat(4, points(2, 4.0, 3, 3.5)).json();
        assertThat(pruned.get("stop").asString()).isEqualTo("pruned");
        assertThat(pruned.get("cancelRequested").asBoolean()).isFalse();
        assertThat(beat(4, null).json().get("stop").asString()).as("the decision is kept").isEqualTo("pruned");
        assertThat(beat(5, points(1, 0.5, 2, 0.4, 3, 0.3)).json().has("stop")).as("better than the median").isFalse();
        assertThat(beat(1, points(4, 0.75)).json().has("stop")).as("too few others at step 4").isFalse();

        JsonNode stored = boss.get("/jobs/" + orderOf.get(4).get("jobId").asString()).json().get("order").get("progress");
        assertThat(stored.get("step").asDouble()).isEqualTo(3.0);
        assertThat(stored.has("points")).as("points are the sweep's, not the order's").isFalse();
        JsonNode curve = boss.get("/sweeps/" + id + "/trials/4/curve").json();
        assertThat(curve).hasSize(3);
        assertThat(curve.get(0).get("step").asDouble()).isEqualTo(1.0);
        assertThat(curve.get(2).get("value").asDouble()).isEqualTo(3.5);
        assertThat(boss.get("/sweeps/" + id + "/trials/9/curve").status()).isEqualTo(404);

        // The Worker stops the script and says so; the outcome carries no loss, so prunedAt.value ranks it.
        callback(orderOf.get(4), nodeOf.get(4), Map.of("status", 200, "pruned", true,
                "prunedAt", Map.of("step", 3, "value", 3.5)));
        succeed(orderOf.get(1), nodeOf.get(1), 0.8);
        succeed(orderOf.get(2), nodeOf.get(2), 3.5);
        succeed(orderOf.get(3), nodeOf.get(3), 0.7);
        succeed(orderOf.get(5), nodeOf.get(5), 0.3);
        drive(id);

        JsonNode sweep = sweep(id);
        assertThat(sweep.get("status").asString()).isEqualTo("done");
        assertThat(sweep.get("counts").get("pruned").asInt()).isEqualTo(1);
        assertThat(sweep.get("counts").get("done").asInt()).isEqualTo(4);
        assertThat(sweep.get("best").get("trial").asInt()).isEqualTo(5);
        JsonNode board = leaderboard(id).get("trials");
        assertThat(board).extracting(t -> t.get("trial").asInt()).containsExactly(5, 3, 1, 2, 4);
        assertThat(board.get(4).get("pruned").asBoolean()).isTrue();
        assertThat(board.get(4).get("value").asDouble()).isEqualTo(3.5);
        assertThat(board.get(4).get("status").asString()).isEqualTo("done");
        assertThat(board.get(3).get("pruned").asBoolean()).isFalse();
    }

    /**
     * A re-run is a new job of the same trial: its first heartbeat drops the earlier job's points, from its
     * curve and from every step the other trials are judged at. Left there, the failed job's high losses would
     * raise the median and spare a trial the rule stops.
     */
    @Test
    void aReRunsPointsReplaceItsEarlierJobsInItsCurveAndInTheOthersMedian() {
        String id = create(sweepBody(base("learningRate", 0.1), List.of(values("learningRate", 0.1, 0.2, 0.3, 0.4)),
                "method", "grid", "maxJobs", 4, "parallelism", 4,
                "earlyStop", Map.of("type", "median", "minSteps", 1, "minTrials", 2)));
        claimAll(4, "rr");
        beat(1, points(1, 20.0, 2, 20.0, 3, 20.0));
        callback(orderOf.get(1), nodeOf.get(1), Map.of("status", 500, "error",
                Map.of("type", "WorkerCrash", "message", "the node went away")));
        drive(id);
        assertThat(boss.post("/sweeps/" + id + "/rerun-failed", "").json().get("rerun"))
                .extracting(JsonNode::asInt).containsExactly(1);
        drive(id);
        String node = node("rr-again");
        JsonNode rerun = tryClaim(node);
        assertThat(storedJob(rerun.get("jobId").asString()).get("trial").asInt()).isEqualTo(1);
        orderOf.put(1, rerun);
        nodeOf.put(1, node);

        // A heartbeat the old job's Worker still sends changes nothing (its order ended: the Boss refuses it).
        assertThat(countIn(TrialPoints.STEPS, new Document("sweepId", id).append("values.1",
                new Document("$exists", true)))).isEqualTo(3);
        assertThat(beat(1, points(1, 0.5)).json().has("stop")).isFalse();
        assertThat(boss.get("/sweeps/" + id + "/trials/1/curve").json()).extracting(p -> p.get("value").asDouble())
                .containsExactly(0.5);
        assertThat(countIn(TrialPoints.STEPS, new Document("sweepId", id).append("values.1",
                new Document("$exists", true)))).as("only the re-run's step 1").isEqualTo(1);

        // At step 3 the others are trials 2 (4.0) and 3 (10.0): median 7, and trial 4's 8.0 is worse. With the
        // failed job's 20.0 still counted, the median would be 10 and trial 4 would run on.
        beat(2, points(3, 4.0));
        beat(3, points(3, 10.0));
        assertThat(beat(4, points(3, 8.0)).json().get("stop").asString()).isEqualTo("pruned");
    }

    /** A heartbeat sent again (its answer was lost) adds no point; a trial keeps its first steps up to the bound. */
    @Test
    void pointsAreOnePerStepAndBounded() {
        String id = create(sweepBody(base("learningRate", 0.1), List.of(values("learningRate", 0.1, 0.2)),
                "method", "grid", "maxJobs", 2, "parallelism", 2));
        claimAll(2, "pb");
        beat(1, points(1, 3.0, 2, 2.0));
        beat(1, points(1, 3.0, 2, 2.0));
        beat(1, points(2.0, 1.5, 3, 1.0));
        assertThat(boss.get("/sweeps/" + id + "/trials/1/curve").json()).extracting(p -> p.get("step").asDouble()
                + ":" + p.get("value").asDouble()).containsExactly("1.0:3.0", "2.0:1.5", "3.0:1.0");
        assertThat(countIn(TrialPoints.STEPS, new Document("sweepId", id))).isEqualTo(3);

        int max = properties.sweeps().maxPointsPerTrial();
        int step = 10;
        while (step < 10 + max + 5) {
            double[] batch = new double[2 * EarlyStopping.MAX_POINTS_PER_BEAT];
            for (int i = 0; i < EarlyStopping.MAX_POINTS_PER_BEAT; i++, step++) {
                batch[2 * i] = step;
                batch[2 * i + 1] = 1.0;
            }
            beat(2, points(batch));
        }
        JsonNode curve = boss.get("/sweeps/" + id + "/trials/2/curve").json();
        assertThat(curve).hasSize(max);
        assertThat(curve.get(max - 1).get("step").asDouble()).as("the first ones").isEqualTo(10 + max - 1);
    }

    @Test
    void aSweepWithoutEarlyStopKeepsThePointsAndStopsNothing() {
        String id = create(sweepBody(base("learningRate", 0.1), List.of(values("learningRate", 0.1, 0.2, 0.3, 0.4)),
                "method", "grid", "maxJobs", 4, "parallelism", 4));
        for (int i = 0; i < 4; i++) {
            String node = node("nes" + i);
            JsonNode order = tryClaim(node);
            int trial = storedJob(order.get("jobId").asString()).get("trial").asInt();
            orderOf.put(trial, order);
            nodeOf.put(trial, node);
        }
        for (int trial = 1; trial <= 3; trial++) {
            beat(trial, points(1, 0.1, 2, 0.1));
        }
        assertThat(beat(4, points(1, 9.0, 2, 9.0)).json().has("stop")).isFalse();
        assertThat(boss.get("/sweeps/" + id + "/trials/4/curve").json()).hasSize(2);
    }

    /** Progress values are losses (nn.py's validation loss): a sweep maximizing r2 still keeps the lowest loss. */
    @Test
    void aSweepMaximizingAnotherMetricJudgesProgressAsLosses() {
        create(sweepBody(base("learningRate", 0.1), List.of(values("learningRate", 0.1, 0.2, 0.3, 0.4)),
                "method", "grid", "maxJobs", 4, "parallelism", 4,
                "metric", Map.of("name", "r2", "goal", "maximize"),
                "earlyStop", Map.of("type", "median", "minSteps", 1, "minTrials", 3)));
        claimAll(4, "mx");
        beat(1, points(1, 3000, 2, 2900));
        beat(2, points(1, 3100, 2, 3000));
        beat(3, points(1, 3200, 2, 3100));
        assertThat(beat(4, points(1, 1000, 2, 900)).json().has("stop")).as("the best-learning trial").isFalse();
    }

    /** A pruned trial's loss is no r2: without the metric it has no value, ranks last, and is never best. */
    @Test
    void aPrunedTrialOfASweepOnAnotherMetricHasNoValueAndIsNeverBest() {
        String id = create(sweepBody(base("learningRate", 0.1), List.of(values("learningRate", 0.1, 0.2)),
                "method", "grid", "maxJobs", 2, "parallelism", 2,
                "metric", Map.of("name", "r2", "goal", "maximize")));
        claimAll(2, "pr");
        callback(orderOf.get(1), nodeOf.get(1), Map.of("status", 200, "loss", 10.0, "r2", 0.9));
        // What the Worker sends for a pruned run (OutcomeBuilder.prunedOutcome): loss = last point, prunedAt.
        callback(orderOf.get(2), nodeOf.get(2), Map.of("status", 200, "loss", 3000.0, "pruned", true,
                "prunedAt", Map.of("step", 3, "value", 3000.0)));
        drive(id);
        assertThat(sweep(id).get("best").get("trial").asInt()).isEqualTo(1);
        JsonNode board = leaderboard(id).get("trials");
        assertThat(board).extracting(t -> t.get("trial").asInt()).containsExactly(1, 2);
        assertThat(board.get(1).get("value").isNull()).as(board.toString()).isTrue();
        assertThat(board.get(1).get("pruned").asBoolean()).isTrue();
    }

    /** best is the best finished trial (as Optuna's best_trial): a pruned one saved no model to fetch. */
    @Test
    void bestIsNeverAPrunedTrialAndNullUntilOneFinished() {
        String id = create(sweepBody(base("learningRate", 0.1), List.of(values("learningRate", 0.1, 0.2)),
                "method", "grid", "maxJobs", 2, "parallelism", 2));
        claimAll(2, "bp");
        callback(orderOf.get(2), nodeOf.get(2), Map.of("status", 200, "loss", 1.0, "pruned", true,
                "prunedAt", Map.of("step", 3, "value", 1.0)));
        drive(id);
        assertThat(sweep(id).get("best").isNull()).as("only a pruned trial so far").isTrue();
        succeed(orderOf.get(1), nodeOf.get(1), 5.0);
        drive(id);
        assertThat(sweep(id).get("best").get("trial").asInt()).isEqualTo(1);
        assertThat(sweep(id).get("best").get("pruned").asBoolean()).isFalse();
        assertThat(leaderboard(id).get("trials")).extracting(t -> t.get("trial").asInt())
                .as("the leaderboard still shows the pruned trial, by its value").containsExactly(2, 1);
    }

    /** A pruned outcome with no point of its own (the attempt heard "pruned" at once) takes the Boss's decision. */
    @Test
    void aPrunedOutcomeWithoutAValueIsValuedAtTheBosssDecision() {
        String id = create(sweepBody(base("learningRate", 0.1), List.of(values("learningRate", 0.1, 0.2, 0.3, 0.4)),
                "method", "grid", "maxJobs", 4, "parallelism", 4,
                "earlyStop", Map.of("type", "median", "minSteps", 1, "minTrials", 3)));
        claimAll(4, "rm");
        beat(1, points(1, 1.0));
        beat(2, points(1, 1.1));
        beat(3, points(1, 0.9));
        assertThat(beat(4, points(1, 7.0)).json().get("stop").asString()).isEqualTo("pruned");
        callback(orderOf.get(4), nodeOf.get(4), Map.of("status", 200, "pruned", true));
        drive(id);
        JsonNode fourth = leaderboard(id).get("trials").get(0);
        assertThat(fourth.get("trial").asInt()).as("the only trial ended").isEqualTo(4);
        assertThat(fourth.get("pruned").asBoolean()).isTrue();
        assertThat(fourth.get("value").asDouble()).isEqualTo(7.0);
    }
}
