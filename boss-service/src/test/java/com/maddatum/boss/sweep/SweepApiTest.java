package com.maddatum.boss.sweep;

import static org.assertj.core.api.Assertions.assertThat;

import com.maddatum.testsupport.HttpJson;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.bson.Document;
import org.bson.types.ObjectId;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;

/** Sweeps run through the real HTTP stack, with Workers simulated by claims and callbacks. */
class SweepApiTest extends SweepApiTestBase {

    /** Claims and finishes every trial a node can get, driving after each, until the sweep is done. */
    private List<JsonNode> runToTheEnd(String sweepId, String... nodes) {
        List<JsonNode> finished = new ArrayList<>();
        for (int round = 0; round < 200 && !"done".equals(sweep(sweepId).get("status").asString()); round++) {
            String node = nodes[round % nodes.length];
            JsonNode order = tryClaim(node);
            if (order != null) {
                succeed(order, node, lossOf(order));
                finished.add(order);
            }
            drive(sweepId);
            assertThat(liveOrders(sweepId)).as("parallelism").isLessThanOrEqualTo(sweep(sweepId).get("parallelism").asInt());
        }
        assertThat(sweep(sweepId).get("status").asString()).isEqualTo("done");
        return finished;
    }

    /** A loss made from the trial's parameters: the same configuration always scores the same. */
    private double lossOf(JsonNode order) {
        JsonNode params = storedJob(order.get("jobId").asString()).get("sweepParams");
        double loss = 0;
        for (var entry : params.properties()) {
            loss += entry.getValue().isNumber() ? entry.getValue().asDouble() : entry.getValue().asString().length();
        }
        return loss;
    }

    private List<JsonNode> trialJobs(String sweepId) {
        List<JsonNode> jobs = new ArrayList<>();
        for (Document job : mongo.find(org.springframework.data.mongodb.core.query.Query.query(
                org.springframework.data.mongodb.core.query.Criteria.where("sweepId").is(sweepId)), Document.class,
                "jobs")) {
            jobs.add(storedJob(job.getObjectId("_id").toHexString()));
        }
        return jobs;
    }

    @Test
    void aGridRunsEachConfigurationExactlyOnceWithTwoWorkers() {
        String a = node("grid-a");
        String b = node("grid-b");
        String id = create(sweepBody(base("learningRate", 0.1, "optimizer", "adam"),
                List.of(values("learningRate", 0.1, 0.01, 0.001), values("optimizer", "adam", "sgd")),
                "method", "grid", "maxJobs", 10, "parallelism", 2, "projectName", "grid-" + label));
        assertThat(liveOrders(id)).isEqualTo(2);

        List<JsonNode> finished = runToTheEnd(id, a, b);

        assertThat(finished).hasSize(6);
        assertThat(finished.stream().map(o -> o.get("assignedTo").asString()).distinct()).containsExactlyInAnyOrder(a, b);
        List<JsonNode> jobs = trialJobs(id);
        assertThat(jobs).hasSize(6);
        Set<String> configurations = new HashSet<>();
        List<Integer> trials = new ArrayList<>();
        for (JsonNode job : jobs) {
            configurations.add(job.get("sweepParams").toString());
            trials.add(job.get("trial").asInt());
            assertThat(job.get("projectName").asString()).isEqualTo("grid-" + label);
            assertThat(job.get("sweepId").asString()).isEqualTo(id);
        }
        assertThat(configurations).hasSize(6);
        assertThat(trials).containsExactlyInAnyOrder(1, 2, 3, 4, 5, 6);
        // Grid order: the first parameter varies slowest.
        JsonNode first = jobs.stream().filter(j -> j.get("trial").asInt() == 1).findFirst().orElseThrow();
        JsonNode second = jobs.stream().filter(j -> j.get("trial").asInt() == 2).findFirst().orElseThrow();
        assertThat(first.get("sweepParams").toString()).isEqualTo("{\"learningRate\":0.1,\"optimizer\":\"adam\"}");
        assertThat(second.get("sweepParams").toString()).isEqualTo("{\"learningRate\":0.1,\"optimizer\":\"sgd\"}");

        JsonNode sweep = sweep(id);
        assertThat(sweep.get("counts").get("done").asInt()).isEqualTo(6);
        assertThat(sweep.get("progress").get("done").asInt()).isEqualTo(6);
        assertThat(sweep.get("progress").get("planned").asInt()).isEqualTo(6);
        // The loss is the learning rate plus the optimizer's length: 0.001 with sgd is best.
        assertThat(sweep.get("best").get("params").toString()).isEqualTo("{\"learningRate\":0.001,\"optimizer\":\"sgd\"}");
        assertThat(sweep.get("best").get("outcome").get("loss").asDouble()).isEqualTo(3.001);
        assertThat(sweep.get("best").get("value").asDouble()).isEqualTo(3.001);
        JsonNode board = leaderboard(id).get("trials");
        List<Double> losses = new ArrayList<>();
        board.forEach(t -> losses.add(t.get("value").asDouble()));
        assertThat(losses).isSorted().hasSize(6);
        // Listed everywhere jobs are.
        assertThat(boss.get("/jobs?sweep=" + id).json().get("total").asInt()).isEqualTo(6);
        JsonNode listed = boss.get("/sweeps?project=grid-" + label).json();
        assertThat(listed.get("total").asInt()).isEqualTo(1);
        assertThat(listed.get("items").get(0).get("sweepId").asString()).isEqualTo(id);
        assertThat(listed.get("items").get(0).get("counts").get("done").asInt()).isEqualTo(6);
        assertThat(boss.get("/sweeps?size=0").status()).isEqualTo(400);
        assertThat(boss.get("/sweeps/" + new ObjectId().toHexString()).status()).isEqualTo(404);
        assertThat(boss.get("/sweeps/nope").status()).isEqualTo(404);
    }

    @Test
    void aRandomSweepWithAFixedSeedChoosesTheSameConfigurationsTwice() {
        String w = node("random");
        Object parameters = List.of(range("learningRate", 0.0001, 0.1, "log_uniform"),
                range("epochs", 5, 50, "int_uniform"), values("optimizer", "adam", "sgd", "rmsprop"));
        Map<String, Object> base = base("learningRate", 0.01, "epochs", 10, "optimizer", "adam");
        String one = create(sweepBody(base, parameters, "maxJobs", 6, "parallelism", 3, "seed", 42));
        runToTheEnd(one, w);
        // The second finishes its trials one at a time, in another order and at another pace.
        String two = create(sweepBody(base, parameters, "maxJobs", 6, "parallelism", 1, "seed", 42));
        runToTheEnd(two, w);
        String other = create(sweepBody(base, parameters, "maxJobs", 6, "parallelism", 2, "seed", 43));
        runToTheEnd(other, w);

        assertThat(byTrial(two)).isEqualTo(byTrial(one)).hasSize(6).doesNotContainKey(null);
        assertThat(byTrial(other).values()).doesNotContainAnyElementsOf(byTrial(one).values());
        for (JsonNode job : trialJobs(one)) {
            JsonNode params = job.get("sweepParams");
            assertThat(params.get("epochs").isInt()).isTrue();
            assertThat(params.get("epochs").asInt()).isBetween(5, 50);
            assertThat(params.get("learningRate").asDouble()).isBetween(0.0001, 0.1);
            assertThat(job.get("epochs").asInt()).isEqualTo(params.get("epochs").asInt());
        }
    }

    private Map<Integer, String> byTrial(String sweepId) {
        Map<Integer, String> found = new java.util.TreeMap<>();
        trialJobs(sweepId).forEach(job -> found.put(job.get("trial").asInt(), job.get("sweepParams").toString()));
        return found;
    }

    @Test
    void parallelismIsNeverExceededAndMaxJobsIsTheBudget() {
        String w = node("par");
        String id = create(sweepBody(base("learningRate", 0.1), List.of(range("learningRate", 0.0, 1.0, "uniform")),
                "maxJobs", 7, "parallelism", 3));
        assertThat(liveOrders(id)).isEqualTo(3);
        drive(id);
        assertThat(liveOrders(id)).as("driving again starts nothing").isEqualTo(3);
        JsonNode running = tryClaim(w);
        drive(id);
        assertThat(liveOrders(id)).as("a running trial still counts").isEqualTo(3);
        succeed(running, w, 0.5);
        drive(id);
        assertThat(liveOrders(id)).isEqualTo(3);
        runToTheEnd(id, w);
        assertThat(countIn("trials", new Document("sweepId", id))).isEqualTo(7);
        assertThat(sweep(id).get("counts").get("done").asInt()).isEqualTo(7);
    }

    @Test
    void aConfigurationDrawnAgainIsSkippedNotQueued() {
        String w = node("dup");
        // Four configurations, ten jobs of budget: random draws repeat, and only four trials ever run.
        HttpJson.Reply created = boss.post("/sweeps", sweepBody(base("optimizer", "adam", "epochs", 1),
                List.of(values("optimizer", "adam", "sgd"), values("epochs", 1, 2, 2, 1)), "maxJobs", 10,
                "parallelism", 10));
        assertThat(created.json().get("planned").asInt()).isEqualTo(4);
        String id = created.json().get("sweepId").asString();
        drive(id);
        assertThat(liveOrders(id)).isEqualTo(4);
        runToTheEnd(id, w);
        List<JsonNode> jobs = trialJobs(id);
        assertThat(jobs).hasSize(4);
        assertThat(jobs.stream().map(j -> j.get("sweepParams").toString()).distinct()).hasSize(4);
        assertThat(sweep(id).get("progress").get("planned").asInt()).isEqualTo(4);
    }

    @Test
    void rerunFailedRerunsOnlyWhatARetryCanChangeThenAllOnRequest() {
        String id = create(sweepBody(base("learningRate", 0.1), List.of(values("learningRate", 0.1, 0.2, 0.3, 0.4)),
                "method", "grid", "maxJobs", 4, "parallelism", 4));
        // Each on its own node: three failures in a row on one node would quarantine it.
        String handBack = node("handback");
        String timeout = node("timeout");
        String badInput = node("badinput");
        String good = node("good");
        JsonNode first = tryClaim(handBack);
        callback(first, handBack, Map.of("status", 503, "retryable", true,
                "error", Map.of("type", "ScriptNotStarted", "message", "no python")));
        JsonNode second = tryClaim(timeout);
        callback(second, timeout, Map.of("status", 504, "error", Map.of("type", "Timeout", "message", "too long")));
        JsonNode third = tryClaim(badInput);
        callback(third, badInput, Map.of("status", 422, "error", Map.of("type", "BadJob", "message", "no such column")));
        JsonNode fourth = tryClaim(good);
        succeed(fourth, good, 1.0);
        drive(id);

        JsonNode sweep = sweep(id);
        assertThat(sweep.get("status").asString()).as("failed trials never stop a sweep").isEqualTo("done");
        assertThat(sweep.get("counts").get("failed").asInt()).isEqualTo(3);
        assertThat(sweep.get("counts").get("done").asInt()).isEqualTo(1);

        HttpJson.Reply rerun = boss.post("/sweeps/" + id + "/rerun-failed", "");
        assertThat(rerun.status()).as(rerun.body()).isEqualTo(200);
        assertThat(rerun.json().get("rerun")).extracting(JsonNode::asInt).containsExactly(1, 2);
        assertThat(rerun.json().get("status").asString()).isEqualTo("running");
        drive(id);
        List<JsonNode> live = orders(id, "unassigned");
        assertThat(live).hasSize(2);
        Set<String> rerunOf = new HashSet<>();
        for (JsonNode order : live) {
            JsonNode job = storedJob(order.get("jobId").asString());
            rerunOf.add(job.get("rerunOf").asString());
            JsonNode original = storedJob(job.get("rerunOf").asString());
            assertThat(job.get("seed").asLong()).isEqualTo(original.get("seed").asLong());
            assertThat(job.get("sweepParams")).isEqualTo(original.get("sweepParams"));
            assertThat(job.get("trial")).isEqualTo(original.get("trial"));
        }
        assertThat(rerunOf).containsExactlyInAnyOrder(first.get("jobId").asString(), second.get("jobId").asString());
        JsonNode trialOne = trial(id, 1);
        assertThat(trialOne.get("jobs")).hasSize(2);
        assertThat(trialOne.get("jobs").get(0).asString()).isEqualTo(first.get("jobId").asString());
        assertThat(sweep(id).get("counts").get("queued").asInt()).isEqualTo(2);

        String again = node("again");
        for (int i = 0; i < 2; i++) {
            succeed(tryClaim(again), again, 0.5 + i);
        }
        drive(id);
        assertThat(sweep(id).get("status").asString()).isEqualTo("done");
        assertThat(sweep(id).get("counts").get("failed").asInt()).isEqualTo(1);
        assertThat(boss.post("/sweeps/" + id + "/rerun-failed", "").json().get("rerun")).isEmpty();

        JsonNode all = boss.post("/sweeps/" + id + "/rerun-failed?all=true", "").json();
        assertThat(all.get("rerun")).extracting(JsonNode::asInt).containsExactly(3);
        drive(id);
        JsonNode rerunThird = tryClaim(again);
        assertThat(storedJob(rerunThird.get("jobId").asString()).get("rerunOf").asString())
                .isEqualTo(third.get("jobId").asString());
    }

    private JsonNode trial(String sweepId, int trial) {
        for (JsonNode entry : leaderboard(sweepId).get("trials")) {
            if (entry.get("trial").asInt() == trial) {
                return entry;
            }
        }
        throw new AssertionError("no trial " + trial);
    }

    @Test
    void cancelStopsNewTrialsAndCancelsQueuedAndRunningOnes() {
        String w = node("cancel");
        String id = create(sweepBody(base("learningRate", 0.1), List.of(range("learningRate", 0.0, 1.0, "uniform")),
                "maxJobs", 10, "parallelism", 2));
        JsonNode running = tryClaim(w);
        boss.post("/orders/" + running.get("_id").asString() + "/heartbeat", Map.of("node", w, "attempt", 1));

        HttpJson.Reply cancelled = boss.post("/sweeps/" + id + "/cancel", "");
        assertThat(cancelled.status()).as(cancelled.body()).isEqualTo(200);
        assertThat(cancelled.json().get("status").asString()).isEqualTo("cancelled");
        assertThat(cancelled.json().get("counts").get("cancelled").asInt()).isEqualTo(2);
        assertThat(liveOrders(id)).isZero();
        JsonNode beat = boss.post("/orders/" + running.get("_id").asString() + "/heartbeat",
                Map.of("node", w, "attempt", 1)).json();
        assertThat(beat.get("cancelRequested").asBoolean()).isTrue();

        drive(id);
        assertThat(countIn("trials", new Document("sweepId", id))).isEqualTo(2);
        assertThat(tryClaim(w)).isNull();
        assertThat(boss.post("/sweeps/" + id + "/cancel", "").status()).as("again: no change").isEqualTo(200);
        assertThat(boss.post("/sweeps/" + id + "/extend?maxJobs=20", "").status()).isEqualTo(409);
        assertThat(boss.post("/sweeps/" + id + "/rerun-failed", "").status()).isEqualTo(409);
    }

    @Test
    void aCancelledTrialNeverStopsTheSweep() {
        String w = node("one-cancelled");
        String id = create(sweepBody(base("learningRate", 0.1), List.of(range("learningRate", 0.0, 1.0, "uniform")),
                "maxJobs", 3, "parallelism", 1));
        JsonNode first = orders(id, "unassigned").get(0);
        boss.post("/jobs/" + first.get("jobId").asString() + "/cancel", "");
        drive(id);
        runToTheEnd(id, w);
        JsonNode counts = sweep(id).get("counts");
        assertThat(counts.get("cancelled").asInt()).isEqualTo(1);
        assertThat(counts.get("done").asInt()).isEqualTo(2);
    }

    @Test
    void extendGivesADoneSweepMoreTrials() {
        String w = node("extend");
        String id = create(sweepBody(base("learningRate", 0.1), List.of(range("learningRate", 0.0, 1.0, "uniform")),
                "maxJobs", 2, "parallelism", 2));
        runToTheEnd(id, w);
        assertThat(boss.post("/sweeps/" + id + "/extend?maxJobs=2", "").status()).isEqualTo(400);
        HttpJson.Reply extended = boss.post("/sweeps/" + id + "/extend?maxJobs=4", "");
        assertThat(extended.status()).as(extended.body()).isEqualTo(200);
        assertThat(extended.json().get("status").asString()).isEqualTo("running");
        assertThat(extended.json().get("maxJobs").asInt()).isEqualTo(4);
        drive(id);
        assertThat(orders(id, "unassigned")).hasSize(2);
        runToTheEnd(id, w);
        assertThat(byTrial(id).keySet()).containsExactly(1, 2, 3, 4);
        assertThat(sweep(id).get("progress").get("planned").asInt()).isEqualTo(4);
    }

    @Test
    void theSameIdempotencyKeyCreatesOneSweep() {
        Map<String, Object> body = sweepBody(base("learningRate", 0.1), List.of(values("learningRate", 0.1, 0.2)),
                "name", "idem-" + label);
        String key = "sweep-" + label;
        HttpJson.Reply first = postWithKey(body, key);
        HttpJson.Reply second = postWithKey(body, key);
        assertThat(first.status()).isEqualTo(201);
        assertThat(second.status()).isEqualTo(201);
        assertThat(second.json().get("sweepId")).isEqualTo(first.json().get("sweepId"));
        assertThat(second.headers().firstValue("Idempotent-Replayed")).hasValue("true");
        assertThat(countIn("sweeps", new Document("name", "idem-" + label))).isEqualTo(1);
    }

    private HttpJson.Reply postWithKey(Object body, String key) {
        try {
            var response = java.net.http.HttpClient.newHttpClient().send(java.net.http.HttpRequest.newBuilder(
                            java.net.URI.create("http://127.0.0.1:" + port + "/sweeps"))
                    .header("Content-Type", "application/json").header("Idempotency-Key", key)
                    .POST(java.net.http.HttpRequest.BodyPublishers.ofString(HttpJson.json(body))).build(),
                    java.net.http.HttpResponse.BodyHandlers.ofString());
            return new HttpJson.Reply(response.statusCode(), response.body(), response.headers());
        } catch (java.io.IOException | InterruptedException e) {
            throw new IllegalStateException(e);
        }
    }

    @Test
    void aStartLeftPendingByACrashIsFinishedWithItsJobId() {
        String id = create(sweepBody(base("learningRate", 0.1), List.of(values("learningRate", 0.1, 0.2, 0.3)),
                "method", "grid", "maxJobs", 3, "parallelism", 3));
        // As if a Boss died after deciding trial 4's start and before carrying it out.
        boss.post("/sweeps/" + id + "/extend?maxJobs=4", "");
        String jobId = new ObjectId().toHexString();
        Document params = new Document("learningRate", 0.9);
        mongo.updateFirst(org.springframework.data.mongodb.core.query.Query.query(
                        org.springframework.data.mongodb.core.query.Criteria.where("_id").is(new ObjectId(id))),
                new org.springframework.data.mongodb.core.query.Update()
                        .set("pending", new Sweep.Pending("trial", 4, jobId, params, CanonicalJson.hash(params), null)
                                .toDocument())
                        .set("created", 4).inc("launches", 1), "sweeps");

        drive(id);
        drive(id);

        JsonNode job = storedJob(jobId);
        assertThat(job.get("trial").asInt()).isEqualTo(4);
        assertThat(job.get("learningRate").asDouble()).isEqualTo(0.9);
        assertThat(countIn("jobs", new Document("sweepId", id))).isEqualTo(4);
        assertThat(countIn("trials", new Document("sweepId", id))).isEqualTo(4);
        assertThat(mongo.findById(new ObjectId(id), Document.class, "sweeps").get("pending")).isNull();
    }

    /** A trial's job, fetched and sent back as JobService's docs promise it can be, and reused as a sweep base. */
    @Test
    void aTrialsJobCanBeSentBackAsAJobAndUsedAsASweepsBase() {
        Map<String, Object> base = base("hiddenLayers", List.of(Map.of("activation", "relu", "widthModifier", 2,
                "dropout", 0.2)));
        String id = create(sweepBody(base, List.of(values("hiddenLayers.0.dropout", 0.1, 0.2)), "method", "grid",
                "maxJobs", 2));
        String jobId = orders(id, "unassigned").get(0).get("jobId").asString();
        // As fetched, less its _id (the Boss assigns one; JobRules refuses it for every job, trial or not).
        tools.jackson.databind.node.ObjectNode job = (tools.jackson.databind.node.ObjectNode) storedJob(jobId);
        job.remove("_id");
        HttpJson.Reply again = boss.post("/job/create", job);
        assertThat(again.status()).as(again.body()).isEqualTo(201);
        assertThat(storedJob(again.json().get("jobId").asString()).has("sweepParams")).as("not a trial").isFalse();
        @SuppressWarnings("unchecked")
        Map<String, Object> asMap = com.maddatum.testsupport.HttpJson.MAPPER.convertValue(job, Map.class);
        HttpJson.Reply sweepFromTrial = boss.post("/sweeps", sweepBody(asMap, List.of(values("hiddenLayers.0.dropout",
                0.3, 0.4)), "method", "grid", "maxJobs", 2));
        assertThat(sweepFromTrial.status()).as(sweepFromTrial.body()).isEqualTo(201);
        String other = sweepFromTrial.json().get("sweepId").asString();
        drive(other);
        JsonNode trial = storedJob(orders(other, "unassigned").get(0).get("jobId").asString());
        assertThat(trial.get("sweepId").asString()).isEqualTo(other);
        assertThat(trial.get("sweepParams").toString()).isIn("{\"hiddenLayers.0.dropout\":0.3}",
                "{\"hiddenLayers.0.dropout\":0.4}");
    }

    /** A done sweep has nothing to stop: cancel leaves it done, its results as they were. */
    @Test
    void cancellingADoneSweepChangesNothing() {
        String id = create(sweepBody(base("learningRate", 0.1), List.of(values("learningRate", 0.1)),
                "method", "grid", "maxJobs", 1));
        String node = node("cd");
        JsonNode order = tryClaim(node);
        succeed(order, node, 2.0);
        drive(id);
        assertThat(sweep(id).get("status").asString()).isEqualTo("done");
        HttpJson.Reply cancelled = boss.post("/sweeps/" + id + "/cancel", "");
        assertThat(cancelled.status()).as(cancelled.body()).isEqualTo(200);
        assertThat(sweep(id).get("status").asString()).isEqualTo("done");
        assertThat(sweep(id).get("best").get("value").asDouble()).isEqualTo(2.0);
    }
}
