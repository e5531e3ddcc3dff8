package com.maddatum.boss.sweep;

import static org.assertj.core.api.Assertions.assertThat;

import com.maddatum.testsupport.HttpJson;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.bson.Document;
import org.bson.types.ObjectId;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.data.mongodb.core.query.Criteria;
import org.springframework.data.mongodb.core.query.Query;
import org.springframework.data.mongodb.core.query.Update;
import tools.jackson.databind.JsonNode;

/** Reviewer's probes: each test asserts the behaviour the issue asks for; a failure is a defect. */
class ReviewScratchTest extends SweepApiTestBase {

    @Autowired SweepStore sweeps;
    @Autowired TrialStore trials;

    private final Map<Integer, JsonNode> orderOf = new HashMap<>();
    private final Map<Integer, String> nodeOf = new HashMap<>();

    private void claimAll(String id, int n, String prefix) {
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
        List<List<Double>> points = new ArrayList<>();
        for (int i = 0; i < stepValue.length; i += 2) {
            points.add(List.of(stepValue[i], stepValue[i + 1]));
        }
        return Map.of("step", stepValue[stepValue.length - 2], "value", stepValue[stepValue.length - 1],
                "points", points);
    }

    /**
     * rerun-failed racing the driver's finish, replayed with the very store calls each side makes: the driver
     * read the sweep (running, nothing live, no re-run requested, created == maxJobs); rerun-failed then
     * flagged the failed trial (requestRerun) and its reopen found the sweep still running (a no-op); the
     * driver's finish, conditional on what it read, still matches. The flagged trial is never re-run.
     */
    @Test
    void rerunRequestedWhileTheDriverFinishesIsLost() {
        JsonNode failedJob = submit(job("requiredLabels", List.of(label), "maxAttempts", 1));
        String jobId = failedJob.get("jobId").asString();
        ObjectId sid = new ObjectId();
        java.time.Instant now = clock.instant();
        sweeps.insert(new Sweep(sid, "race", null, "random", new Document("scriptName", "noop.py"),
                List.of(new ParameterSpec("learningRate", null, 0.0, 1.0, "uniform")), 1, 1, 1,
                new Sweep.Metric("loss", "minimize"), null, false, null, SweepStatus.RUNNING, now, 1, 1, 0, false, null,
                false));
        Document params = new Document("learningRate", 0.5);
        mongo.insert(new Document("_id", new ObjectId()).append("sweepId", sid.toHexString()).append("trial", 1)
                .append("paramsHash", CanonicalJson.hash(params)).append("params", params).append("jobId", jobId)
                .append("jobs", List.of(jobId)).append("live", false).append("status", "failed")
                .append("retryable", true).append("createdAt", java.util.Date.from(now)), "trials");
        Sweep seen = sweeps.find(sid).orElseThrow();          // driver: read
        Trial trial = trials.find(sid.toHexString(), 1).orElseThrow();
        assertThat(trials.nextRerun(sid.toHexString())).isEmpty(); // driver: nothing to re-run
        assertThat(trials.requestRerun(trial.id(), jobId)).isTrue(); // rerun-failed
        assertThat(sweeps.reopen(sid, now)).as("rerun-failed: still running, reopen is a no-op").isFalse();
        assertThat(sweeps.finish(seen, now)).as("driver: finish on its read").isTrue();
        driver.drive(sid);
        assertThat(sweeps.find(sid).orElseThrow().status()).isEqualTo(SweepStatus.DONE);
        assertThat(trials.find(sid.toHexString(), 1).orElseThrow().rerunRequested()).isTrue();
        assertThat(sweeps.toDrive()).as("a done sweep with a re-run waiting must still be driven").contains(sid);
    }

    /** A start decided just before cancel is carried out after it: a job is created for a cancelled sweep. */
    @Test
    void aPendingStartIsCarriedOutAfterCancel() {
        String id = create(sweepBody(base("learningRate", 0.1), List.of(values("learningRate", 0.1, 0.2, 0.3)),
                "method", "grid", "maxJobs", 3, "parallelism", 3));
        boss.post("/sweeps/" + id + "/extend?maxJobs=4", "");
        String jobId = new ObjectId().toHexString();
        Document params = new Document("learningRate", 0.9);
        mongo.updateFirst(Query.query(Criteria.where("_id").is(new ObjectId(id))),
                new Update().set("pending", new Sweep.Pending("trial", 4, jobId, params, CanonicalJson.hash(params), null)
                        .toDocument()).set("created", 4).inc("launches", 1), "sweeps");
        boss.post("/sweeps/" + id + "/cancel", "");
        assertThat(countIn("jobs", new Document("_id", new ObjectId(jobId)))).as("no job after cancel").isZero();
    }

    /** Cost of one heartbeat on the embedded store: 10 then 100 trials x 1000 points kept. */
    @Test
    @org.junit.jupiter.api.Timeout(900)
    void heartbeatCostWithManyPoints() {
        String id = create(sweepBody(base("learningRate", 0.1), List.of(range("learningRate", 0.0, 1.0, "uniform")),
                "maxJobs", 2, "parallelism", 2,
                "earlyStop", Map.of("type", "median", "minSteps", 1, "minTrials", 3)));
        claimAll(id, 2, "hb");
        int next = 1;
        for (int trialsKept : new int[] {10, 100}) {
            List<Document> docs = new ArrayList<>();
            for (int trial = 3 + (trialsKept == 10 ? 0 : 10); trial < 3 + trialsKept; trial++) {
                for (int step = 0; step < 1000; step++) {
                    docs.add(new Document("sweepId", id).append("step", (double) step).append("trial", trial)
                            .append("value", 1.0 + step));
                }
            }
            long t0 = System.nanoTime();
            mongo.getCollection("trialPoints").insertMany(docs);
            System.out.println("REVIEW insert ms=" + (System.nanoTime() - t0) / 1_000_000);
            long total = mongo.getCollection("trialPoints").countDocuments();
            int beats = 3;
            long started = System.nanoTime();
            for (int i = 0; i < beats; i++) {
                beat(1, points(next++, 5.0));
            }
            System.out.println("REVIEW trials=" + trialsKept + " heartbeat-with-point ms=" + (System.nanoTime() - started) / beats / 1_000_000
                    + " pointsInStore=" + total);
            long s2 = System.nanoTime();
            for (int i = 0; i < beats; i++) {
                beat(2, null);
            }
            System.out.println("REVIEW trials=" + trialsKept + " heartbeat-without-points ms=" + (System.nanoTime() - s2) / beats / 1_000_000);
        }
        mongo.remove(Query.query(Criteria.where("sweepId").is(id)), "trialPoints");
    }

    /** A trial's job, fetched and sent back as JobService's docs promise it can be, and reused as a sweep base. */
    @Test
    void aTrialJobCanBeSentBack() {
        Map<String, Object> base = base("hiddenLayers", List.of(Map.of("activation", "relu", "widthModifier", 2,
                "dropout", 0.2)));
        String id = create(sweepBody(base, List.of(values("hiddenLayers.0.dropout", 0.1, 0.2)), "method", "grid",
                "maxJobs", 2));
        String jobId = orders(id, "unassigned").get(0).get("jobId").asString();
        JsonNode job = storedJob(jobId);
        HttpJson.Reply again = boss.post("/job/create", job);
        assertThat(again.status()).as(again.body()).isEqualTo(201);
        @SuppressWarnings("unchecked")
        Map<String, Object> asMap = com.maddatum.testsupport.HttpJson.MAPPER.convertValue(job, Map.class);
        HttpJson.Reply sweepFromTrial = boss.post("/sweeps", sweepBody(asMap, List.of(values("hiddenLayers.0.dropout",
                0.3, 0.4)), "method", "grid", "maxJobs", 2));
        assertThat(sweepFromTrial.status()).as(sweepFromTrial.body()).isEqualTo(201);
    }
}
