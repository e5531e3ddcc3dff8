package com.maddatum.boss.sweep;

import static org.assertj.core.api.Assertions.assertThat;

import com.maddatum.boss.store.StoreDurability;
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

/**
 * A cancel racing a start half carried out (a Boss that died between its writes, or another replica creating the
 * job right now) or a rerun-failed request: no trial's job outlives its cancelled sweep, none waits for ever.
 */
class SweepCancelRaceApiTest extends SweepApiTestBase {

    @Autowired StoreDurability durability;
    @Autowired SweepTicker ticker;

    /**
     * A Boss died after creating a pending trial's job and before clearing the start (or another replica is
     * creating it while this one's cancel carries the start out). The cancel's carry-out finds the job's order:
     * the trial tracks it, and it is cancelled with the sweep, not left to run.
     */
    @Test
    void aTrialWhoseJobWasCreatedBeforeACrashIsStoppedWhenTheSweepIsCancelled() {
        String id = create(sweepBody(base("learningRate", 0.1), List.of(values("learningRate", 0.1, 0.2, 0.3)),
                "method", "grid", "maxJobs", 3, "parallelism", 1));
        Trial first = trials.find(id, 1).orElseThrow();
        assertThat(liveOrders(id)).isEqualTo(1);
        // As the sweep stood between jobs.create and clearPending (start had counted created and launches already).
        Document params = first.params();
        mongo.updateFirst(Query.query(Criteria.where("_id").is(new ObjectId(id))), new Update().set("pending",
                new Sweep.Pending("trial", 1, first.jobId(), params, first.paramsHash(), null).toDocument()), "sweeps");

        boss.post("/sweeps/" + id + "/cancel", "");

        assertThat(liveOrders(id)).as("the cancelled sweep's trial job is still queued: trial=%s",
                trials.find(id, 1).orElseThrow()).isZero();
    }

    /** The same for a re-run whose job was created before the Boss died and the sweep was cancelled. */
    @Test
    void aReRunWhoseJobWasCreatedBeforeACrashIsStoppedWhenTheSweepIsCancelled() {
        String w = node("rr");
        String id = create(sweepBody(base("learningRate", 0.1), List.of(values("learningRate", 0.1)),
                "method", "grid", "maxJobs", 1, "parallelism", 1));
        JsonNode order = tryClaim(w);
        callback(order, w, Map.of("status", 500, "error", Map.of("type", "Boom", "message", "infrastructure")));
        drive(id);
        Trial failed = trials.find(id, 1).orElseThrow();
        assertThat(failed.status()).isEqualTo("failed");
        assertThat(failed.retryable()).isTrue();

        // rerun-failed, then the driver decides the start and creates the job, and the Boss dies there.
        assertThat(trials.requestRerun(failed, failed.jobId())).isTrue();
        assertThat(sweeps.reopen(new ObjectId(id), clock.instant())).isTrue();
        Sweep seen = sweeps.find(new ObjectId(id)).orElseThrow();
        String rerunJob = new ObjectId().toHexString();
        assertThat(sweeps.start(seen, new Sweep.Pending("rerun", 1, rerunJob, null, null, failed.jobId()),
                seen.cursor(), clock.instant())).isTrue();
        jobs.rerun(failed.jobId(), new Document(), new ObjectId(rerunJob));
        assertThat(liveOrders(id)).isEqualTo(1);

        boss.post("/sweeps/" + id + "/cancel", "");

        assertThat(orderQueries.findByJobId(rerunJob).orElseThrow().status().isTerminal())
                .as("the re-run's order of a cancelled sweep").isTrue();
    }

    /**
     * rerun-failed racing cancel: the controller found the sweep running, then a cancel settled it, then the
     * controller flagged the failed trial. Its reopen fails, and the flags go: no trial shows queued for ever.
     */
    @Test
    void aReRunRequestRacingCancelLeavesNoTrialQueuedForEver() {
        String w = node("rc");
        String id = create(sweepBody(base("learningRate", 0.1), List.of(values("learningRate", 0.1, 0.2)),
                "method", "grid", "maxJobs", 2, "parallelism", 1));
        callback(tryClaim(w), w, Map.of("status", 500, "error", Map.of("type", "Boom", "message", "infrastructure")));
        drive(id); // trial 1 failed, trial 2 queued: the sweep runs
        Trial failed = trials.find(id, 1).orElseThrow();
        assertThat(failed.status()).isEqualTo("failed");
        // rerun-failed: status read (running), catchUp done. Then the cancel lands and settles the sweep.
        boss.post("/sweeps/" + id + "/cancel", "");
        // rerun-failed goes on exactly as the controller does: flags, then reopens, and undoes the flags when the
        // reopen finds the sweep cancelled.
        if (trials.requestRerun(failed, failed.jobId()) && !sweeps.reopen(new ObjectId(id), clock.instant())) {
            trials.dropRerunRequests(id);
        }
        ticker.tick(); // what drives sweeps from now on: it leaves a settled cancelled sweep alone
        JsonNode sweep = sweep(id);
        assertThat(sweep.get("status").asString()).isEqualTo("cancelled");
        assertThat(sweep.get("counts").get("queued").asInt()).as(sweep.toString()).isZero();
        assertThat(leaderboard(id).get("trials").get(0).get("status").asString()).isEqualTo("failed");
    }
}
