package com.maddatum.boss.sweep;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.bson.Document;
import org.bson.types.ObjectId;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import tools.jackson.databind.JsonNode;

/**
 * Two Boss replicas driving one sweep: two drivers (each with its own locks, as two processes have) on one
 * store, from many threads at once. Only the store's conditional writes keep them apart.
 */
class SweepRaceApiTest extends SweepApiTestBase {

    @Autowired SweepTicker ticker;

    @Test
    void twoReplicasDrivingOneSweepNeverStartMoreThanItAllows() throws Exception {
        SweepDriver other = newDriver(trials, jobs);
        String w = node("race");
        var reply = boss.post("/sweeps", sweepBody(base("learningRate", 0.1, "epochs", 1),
                List.of(range("learningRate", 0.0, 1.0, "uniform"), values("epochs", 1, 2, 3)),
                "maxJobs", 9, "parallelism", 3));
        String id = reply.json().get("sweepId").asString();
        ExecutorService threads = Executors.newFixedThreadPool(8);
        try {
            int finished = 0;
            while (true) {
                race(threads, new ObjectId(id), driver, other);
                assertThat(liveOrders(id)).as("after %d finished", finished).isEqualTo(Math.min(3, 9 - finished));
                assertThat(countIn("trials", new Document("sweepId", id))).isEqualTo(Math.min(9, finished + 3));
                JsonNode order = tryClaim(w);
                if (order == null) {
                    break;
                }
                succeed(order, w, 1.0);
                finished++;
            }
            assertThat(finished).isEqualTo(9);
        } finally {
            threads.shutdownNow();
            other.stop();
        }
        race(Executors.newFixedThreadPool(2), new ObjectId(id), driver, other);
        assertThat(sweep(id).get("status").asString()).isEqualTo("done");
        assertThat(countIn("jobs", new Document("sweepId", id))).isEqualTo(9);
        List<String> configurations = new ArrayList<>();
        mongo.getCollection("trials").find(new Document("sweepId", id))
                .forEach(t -> configurations.add(t.getString("paramsHash")));
        assertThat(configurations).hasSize(9).doesNotHaveDuplicates();
    }

    /**
     * The write the race comes down to: a start decided on a read of the sweep that another replica has moved
     * past since (a new trial, or a re-run, which leaves the trial count as it was) changes nothing.
     */
    @Test
    void aStartDecidedOnAStaleReadOfTheSweepLoses() {
        // Stored directly: no driver is told of it, so nothing but this test moves it.
        ObjectId id = new ObjectId();
        java.time.Instant now = systemClock.instant();
        sweeps.insert(new Sweep(id, "stale", null, "random", new Document("scriptName", "noop.py"),
                List.of(new ParameterSpec("learningRate", null, 0.0, 1.0, "uniform")), 5, 5, 1,
                new Sweep.Metric("loss", "minimize"), null, false, null, SweepStatus.RUNNING, now, 0, 0, 0, false, null,
                false, 0, null));
        Sweep seen = sweeps.find(id).orElseThrow();
        Document params = new Document("learningRate", 0.5);
        Sweep.Pending first = new Sweep.Pending("trial", 1, new ObjectId().toHexString(), params,
                CanonicalJson.hash(params), null);
        assertThat(sweeps.start(seen, first, 0, now)).isTrue();
        assertThat(sweeps.start(seen, first, 0, now)).as("while one is pending").isFalse();
        sweeps.clearPending(id, first.jobId());
        assertThat(sweeps.start(seen, first, 0, now)).as("trial 1 exists now").isFalse();

        Sweep afterFirst = sweeps.find(id).orElseThrow();
        Sweep.Pending rerun = new Sweep.Pending("rerun", 1, new ObjectId().toHexString(), null, null, first.jobId());
        assertThat(sweeps.start(afterFirst, rerun, 0, now)).isTrue();
        sweeps.clearPending(id, rerun.jobId());
        Sweep.Pending second = new Sweep.Pending("trial", 2, new ObjectId().toHexString(), params, "x", null);
        assertThat(sweeps.find(id).orElseThrow().created()).isEqualTo(afterFirst.created());
        assertThat(sweeps.start(afterFirst, second, 0, now)).as("a job was started since").isFalse();
        sweeps.cancel(id, now);
    }

    /** Eight drives at once, four through each driver, released together. */
    private static void race(ExecutorService threads, ObjectId id, SweepDriver one, SweepDriver two) throws Exception {
        CountDownLatch start = new CountDownLatch(1);
        List<Future<?>> runs = new ArrayList<>();
        for (int i = 0; i < 8; i++) {
            SweepDriver driver = i % 2 == 0 ? one : two;
            runs.add(threads.submit(() -> {
                start.await();
                driver.drive(id);
                return null;
            }));
        }
        start.countDown();
        for (Future<?> run : runs) {
            run.get(60, TimeUnit.SECONDS);
        }
    }

    /**
     * rerun-failed racing the driver's finish, replayed with the store calls each side makes: the driver read the
     * sweep (running, nothing live, nothing to re-run, created == maxJobs); rerun-failed then flagged the failed
     * trial and counted its request; the driver's finish, conditional on what it read, no longer matches, and the
     * next drive re-runs the trial.
     */
    @Test
    void aRerunRequestedWhileTheDriverFinishesIsNotLost() {
        JsonNode failedJob = submit(job("requiredLabels", List.of(label), "maxAttempts", 1));
        String jobId = failedJob.get("jobId").asString();
        ObjectId sid = new ObjectId();
        java.time.Instant now = clock.instant();
        sweeps.insert(new Sweep(sid, "race", null, "random", new Document("scriptName", "noop.py"),
                List.of(new ParameterSpec("learningRate", null, 0.0, 1.0, "uniform")), 1, 1, 1,
                new Sweep.Metric("loss", "minimize"), null, false, null, SweepStatus.RUNNING, now, 1, 1, 0, false, null,
                false, 0, null));
        Document params = new Document("learningRate", 0.5);
        mongo.insert(new Document("_id", new ObjectId()).append("sweepId", sid.toHexString()).append("trial", 1)
                .append("paramsHash", CanonicalJson.hash(params)).append("params", params).append("jobId", jobId)
                .append("jobs", List.of(jobId)).append("live", false).append("status", "failed")
                .append("retryable", true).append("createdAt", java.util.Date.from(now)), "trials");
        Sweep seen = sweeps.find(sid).orElseThrow();          // driver: read
        Trial trial = trials.find(sid.toHexString(), 1).orElseThrow();
        assertThat(trials.nextRerun(sid.toHexString())).isEmpty(); // driver: nothing to re-run
        assertThat(trials.requestRerun(trial, jobId)).isTrue(); // rerun-failed: flag, then count
        assertThat(sweeps.reopen(sid, now)).isTrue();
        assertThat(sweeps.finish(seen, now)).as("driver: finish on its stale read").isFalse();
        driver.drive(sid);
        assertThat(trials.find(sid.toHexString(), 1).orElseThrow().jobs()).as("re-run").hasSize(2);
        assertThat(sweeps.find(sid).orElseThrow().status()).isEqualTo(SweepStatus.RUNNING);
    }

    /** A start decided just before cancel and carried out after it: the trial is recorded cancelled, no job. */
    @Test
    void aPendingStartCarriedOutAfterCancelCreatesNoJob() {
        String id = create(sweepBody(base("learningRate", 0.1), List.of(values("learningRate", 0.1, 0.2, 0.3)),
                "method", "grid", "maxJobs", 3, "parallelism", 3));
        boss.post("/sweeps/" + id + "/extend?maxJobs=4", "");
        String jobId = new ObjectId().toHexString();
        Document params = new Document("learningRate", 0.9);
        mongo.updateFirst(org.springframework.data.mongodb.core.query.Query.query(
                        org.springframework.data.mongodb.core.query.Criteria.where("_id").is(new ObjectId(id))),
                new org.springframework.data.mongodb.core.query.Update().set("pending",
                        new Sweep.Pending("trial", 4, jobId, params, CanonicalJson.hash(params), null).toDocument())
                        .set("created", 4).inc("launches", 1), "sweeps");
        boss.post("/sweeps/" + id + "/cancel", "");
        assertThat(countIn("jobs", new Document("_id", new ObjectId(jobId)))).as("no job after cancel").isZero();
        Trial fourth = trials.find(id, 4).orElseThrow();
        assertThat(fourth.status()).isEqualTo("cancelled");
        assertThat(fourth.live()).isFalse();
        assertThat(sweeps.find(new ObjectId(id)).orElseThrow().pending()).isNull();
    }

    /** The tick drives running sweeps and cancelled ones still stopping their trials, never settled ones. */
    @Test
    void theTickLeavesSettledCancelledAndDoneSweepsAlone() {
        java.time.Instant now = clock.instant();
        java.util.Map<SweepStatus, ObjectId> ids = new java.util.EnumMap<>(SweepStatus.class);
        ObjectId settling = new ObjectId();
        for (SweepStatus status : SweepStatus.values()) {
            ids.put(status, new ObjectId());
        }
        List<ObjectId> all = new ArrayList<>(ids.values());
        all.add(settling);
        for (ObjectId id : all) {
            SweepStatus status = id == settling ? SweepStatus.CANCELLED : ids.entrySet().stream()
                    .filter(e -> e.getValue() == id).findFirst().orElseThrow().getKey();
            sweeps.insert(new Sweep(id, "tick", null, "random", new Document("scriptName", "noop.py"),
                    List.of(new ParameterSpec("learningRate", null, 0.0, 1.0, "uniform")), 1, 1, 1,
                    new Sweep.Metric("loss", "minimize"), null, false, null, status, now, 0, 0, 0, false, null,
                    status == SweepStatus.CANCELLED && id != settling, 0, null));
        }
        assertThat(sweeps.toDrive()).contains(ids.get(SweepStatus.RUNNING), settling)
                .doesNotContain(ids.get(SweepStatus.DONE), ids.get(SweepStatus.CANCELLED));
        driver.drive(ids.get(SweepStatus.DONE));
        assertThat(driver.hasLock(ids.get(SweepStatus.DONE))).isTrue();
        ticker.tick();
        assertThat(driver.hasLock(ids.get(SweepStatus.DONE))).as("a done sweep's lock is dropped").isFalse();
    }

    /** A trial whose job the Boss refused to create has nothing to re-run, even with all=true. */
    @Test
    void rerunFailedLeavesOutATrialThatNeverGotAJob() {
        ObjectId sid = new ObjectId();
        java.time.Instant now = clock.instant();
        sweeps.insert(new Sweep(sid, "jobless", null, "random", new Document("scriptName", "noop.py"),
                List.of(new ParameterSpec("learningRate", null, 0.0, 1.0, "uniform")), 1, 1, 1,
                new Sweep.Metric("loss", "minimize"), null, false, null, SweepStatus.DONE, now, 1, 1, 0, false, null,
                false, 0, null));
        Document params = new Document("learningRate", 0.5);
        String never = new ObjectId().toHexString();
        mongo.insert(new Document("_id", new ObjectId()).append("sweepId", sid.toHexString()).append("trial", 1)
                .append("paramsHash", CanonicalJson.hash(params)).append("params", params).append("jobId", never)
                .append("jobs", List.of(never)).append("live", true).append("createdAt", java.util.Date.from(now)),
                "trials");
        Trial trial = trials.find(sid.toHexString(), 1).orElseThrow();
        trials.refused(trial, never, "refused by the job rules", now);
        JsonNode answer = boss.post("/sweeps/" + sid.toHexString() + "/rerun-failed?all=true", "").json();
        assertThat(answer.get("rerun")).as(answer.toString()).isEmpty();
        assertThat(trials.find(sid.toHexString(), 1).orElseThrow().jobless()).isTrue();
    }
}
