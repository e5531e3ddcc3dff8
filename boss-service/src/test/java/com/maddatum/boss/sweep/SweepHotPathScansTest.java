package com.maddatum.boss.sweep;

import static org.assertj.core.api.Assertions.assertThat;

import com.maddatum.boss.store.StoreDurability;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.bson.Document;
import org.bson.types.ObjectId;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.data.mongodb.core.MongoTemplate;
import org.springframework.data.mongodb.core.ReplaceOptions;
import org.springframework.data.mongodb.core.query.Query;
import org.springframework.data.mongodb.core.query.UpdateDefinition;
import tools.jackson.databind.JsonNode;

/**
 * The hot paths of sweeps (each heartbeat of a trial, each drive of a sweep) on the embedded store, which answers a
 * query by an index only when its keys are exactly a unique index's keys, and otherwise scans the collection:
 * every filter they use is recorded, and none may be a scan.
 */
class SweepHotPathScansTest extends SweepApiTestBase {

    @Autowired StoreDurability durability;
    @Autowired SweepTicker ticker;

    /**
     * A heartbeat's points: the curve is read by _id and written by a compare-and-set on its unique rev alone, the
     * steps by _id. (A filter of {_id, rev} would scan every trial's curve of every sweep.)
     */
    @Test
    void aHeartbeatsPointsAreWrittenByIdAlone() {
        Recording recording = new Recording(mongo);
        TrialPoints recorded = new TrialPoints(recording);
        String sweepId = new ObjectId().toHexString();
        String job = new ObjectId().toHexString();
        recorded.record(sweepId, 1, job, List.of(new TrialPoints.Point(1, 1.0)), 100);
        recorded.record(sweepId, 1, job, List.of(new TrialPoints.Point(2, 0.9)), 100); // the usual beat: a new point
        assertThat(recording.scans(Map.of(TrialPoints.CURVES, Set.of(Set.of("_id"), Set.of("rev")),
                TrialPoints.STEPS, Set.of(Set.of("_id"))))).isEmpty();
    }

    /**
     * A drive of a sweep whose slots are all taken (its usual state, every tick): no scan of the trials once the
     * sweep's trials are mirrored (they were read once, on its first drive in this process).
     */
    @Test
    void aTickOfASweepWithItsSlotsFullScansNoTrials() {
        String id = create(sweepBody(base("learningRate", 0.1), List.of(values("learningRate", 0.1, 0.2, 0.3)),
                "method", "grid", "maxJobs", 3, "parallelism", 1));
        Recording recording = new Recording(mongo);
        TrialStore recordedTrials = new TrialStore(recording, durability);
        SweepDriver other = newDriver(recordedTrials, jobs);
        try {
            other.drive(new ObjectId(id)); // the first look at the sweep reads its trials: one scan per process
            recording.forget();
            other.drive(new ObjectId(id));
            other.drive(new ObjectId(id));
        } finally {
            other.stop();
        }
        assertThat(liveOrders(id)).isEqualTo(1);
        Set<Set<String>> unique = Set.of(Set.of("_id"), Set.of("sweepId", "trial"), Set.of("sweepId", "paramsHash"));
        assertThat(recording.scans(Map.of(TrialStore.COLLECTION, unique))).isEmpty();
    }

    /**
     * A job that names a sweep without being one of its trials (a trial's job re-run by hand, which copies sweepId,
     * or fetched and sent back): its heartbeats cost at most the one read of the sweep's trials, not one each.
     */
    @Test
    void aJobNamingASweepItIsNoTrialOfCostsOneScanOfTheTrialsNotOnePerHeartbeat() {
        String id = create(sweepBody(base("learningRate", 0.1), List.of(values("learningRate", 0.1, 0.2)),
                "method", "grid", "maxJobs", 2, "parallelism", 1));
        String trialJob = trials.find(id, 1).orElseThrow().jobId();
        JsonNode rerun = boss.post("/jobs/" + trialJob + "/rerun", java.util.Map.of()).json();
        String byHand = rerun.has("jobId") ? rerun.get("jobId").asString() : rerun.get("job").get("_id").asString();
        assertThat(storedJob(byHand).get("sweepId").asString()).isEqualTo(id);
        com.maddatum.boss.order.Order order = orderQueries.findByJobId(byHand).orElseThrow();
        Recording recording = new Recording(mongo);
        EarlyStopping advice = new EarlyStopping(new TrialStore(recording, durability), points, sweeps, systemClock,
                properties);
        for (int step = 1; step <= 3; step++) {
            assertThat(advice.stopFor(order, new Document("step", step).append("value", 1.0))).isNull();
        }
        Set<Set<String>> unique = Set.of(Set.of("_id"), Set.of("sweepId", "trial"), Set.of("sweepId", "paramsHash"));
        assertThat(recording.scans(Map.of(TrialStore.COLLECTION, unique))).as("three heartbeats").hasSizeLessThanOrEqualTo(1);
    }

    /** Records the filters of reads and writes, to tell which ones the embedded server answers by a scan. */
    static final class Recording extends MongoTemplate {
        private final List<String> seen = new ArrayList<>();

        Recording(MongoTemplate mongo) {
            super(mongo.getMongoDatabaseFactory(), mongo.getConverter());
        }

        /** The filters on these collections whose keys are none of the given unique indexes' keys. */
        synchronized List<String> scans(Map<String, Set<Set<String>>> indexes) {
            List<String> scans = new ArrayList<>();
            for (String entry : seen) {
                String collection = entry.substring(0, entry.indexOf(' '));
                Document filter = Document.parse(entry.substring(entry.indexOf(' ') + 1));
                if (indexes.containsKey(collection) && !indexes.get(collection).contains(new HashSet<>(filter.keySet()))) {
                    scans.add(entry);
                }
            }
            return scans;
        }

        synchronized void forget() {
            seen.clear();
        }

        private synchronized void note(String collection, Query query) {
            seen.add(collection + " " + query.getQueryObject().toJson());
        }

        @Override
        public <T> com.mongodb.client.result.UpdateResult replace(Query query, T replacement, ReplaceOptions options,
                String collectionName) {
            note(collectionName, query);
            return super.replace(query, replacement, options, collectionName);
        }

        @Override
        public com.mongodb.client.result.UpdateResult updateFirst(Query query, UpdateDefinition update,
                String collectionName) {
            note(collectionName, query);
            return super.updateFirst(query, update, collectionName);
        }

        @Override
        public com.mongodb.client.result.UpdateResult updateMulti(Query query, UpdateDefinition update,
                String collectionName) {
            note(collectionName, query);
            return super.updateMulti(query, update, collectionName);
        }

        @Override
        public <T> List<T> find(Query query, Class<T> entityClass, String collectionName) {
            note(collectionName, query);
            return super.find(query, entityClass, collectionName);
        }

        @Override
        public <T> T findOne(Query query, Class<T> entityClass, String collectionName) {
            note(collectionName, query);
            return super.findOne(query, entityClass, collectionName);
        }

        @Override
        public long count(Query query, String collectionName) {
            note(collectionName, query);
            return super.count(query, collectionName);
        }

        @Override
        public boolean exists(Query query, String collectionName) {
            note(collectionName, query);
            return super.exists(query, collectionName);
        }
    }
}
