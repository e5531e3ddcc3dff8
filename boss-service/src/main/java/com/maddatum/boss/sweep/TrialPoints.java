package com.maddatum.boss.sweep;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.bson.Document;
import org.springframework.data.domain.Sort;
import org.springframework.data.mongodb.core.BulkOperations;
import org.springframework.data.mongodb.core.index.Index;
import org.springframework.data.mongodb.core.MongoTemplate;
import org.springframework.data.mongodb.core.query.Criteria;
import org.springframework.data.mongodb.core.query.Query;
import org.springframework.data.mongodb.core.query.Update;
import org.springframework.stereotype.Component;

/**
 * Trials' intermediate values, as their Workers' heartbeats brought them, kept so that every read and write
 * of a heartbeat is by {@code _id}: the embedded store ignores secondary indexes and scans a collection for
 * any other query, and a sweep of a few hundred trials keeps hundreds of thousands of points (a scan per
 * heartbeat took seconds there).
 * <ul>
 *   <li>{@code trialCurves}, one document per trial ({@code _id} {@code <sweepId>/<trial>}): the points of the
 *       trial's current job, by step, one value per step (a heartbeat sent again changes nothing). The curve
 *       view, the trial's own best so far and the bound on how many are kept read it. A re-run's first
 *       heartbeat replaces its earlier job's points, which then count for no other trial either.</li>
 *   <li>{@code sweepSteps}, one document per (sweep, step) ({@code _id} {@code <sweepId>@<step>}): every
 *       trial's value at that step, {@code values.<trial>}. The median rule reads the other trials' there.</li>
 * </ul>
 * Not synced to disk one by one: a point lost to a crash costs one comparison, and the next heartbeat brings
 * newer ones.
 */
@Component
class TrialPoints {

    static final String CURVES = "trialCurves";
    static final String STEPS = "sweepSteps";
    /** Optimistic writes of one trial's curve lost to a concurrent heartbeat of the same job before giving up. */
    private static final int ATTEMPTS = 5;

    /** One intermediate value. */
    record Point(double step, double value) {}

    private final MongoTemplate mongo;

    TrialPoints(MongoTemplate mongo) {
        this.mongo = mongo;
        // A curve's compare-and-set is on rev alone ("<_id>#<n>"): unique and a single key, so an index lookup on
        // both stores (the embedded one uses an index only for exactly its keys; {_id, rev} would scan). Every
        // other query here is by _id; forget() is the one by sweepId, once per cancelled sweep.
        mongo.indexOps(CURVES).createIndex(new Index().on("rev", Sort.Direction.ASC).unique()
                .named("curveChange_rev_unique"));
    }

    /**
     * Adds job {@code jobId}'s points to trial {@code trial}'s curve, keeping at most {@code max} steps (the
     * first ones: the rule decides early, if at all), and returns the curve as it now stands, by step. Points
     * of an earlier job of the trial are dropped first, from the curve and from every step.
     */
    List<Point> record(String sweepId, int trial, String jobId, List<Point> fresh, int max) {
        String id = curveId(sweepId, trial);
        for (int attempt = 0; attempt < ATTEMPTS; attempt++) {
            Document stored = mongo.findById(id, Document.class, CURVES);
            TreeMap<Double, Double> curve = new TreeMap<>();
            long rev = 0;
            if (stored != null) {
                rev = revision(stored.getString("rev"));
                if (jobId.equals(stored.getString("jobId"))) {
                    curve.putAll(read(stored));
                } else {
                    // A re-run: the earlier job's values leave every step, then its curve is replaced.
                    unsetSteps(sweepId, trial, read(stored).keySet());
                }
            }
            TreeMap<Double, Double> kept = new TreeMap<>(curve);
            List<Point> taken = new ArrayList<>();
            for (Point point : fresh) {
                if (kept.containsKey(point.step()) || kept.size() < max) {
                    kept.put(point.step(), point.value());
                    taken.add(point);
                }
            }
            boolean same = stored != null && jobId.equals(stored.getString("jobId")) && kept.equals(curve);
            Document next = new Document("_id", id).append("sweepId", sweepId).append("trial", trial)
                    .append("jobId", jobId).append("rev", id + "#" + (rev + 1)).append("points", kept.entrySet().stream()
                            .map(e -> List.of(e.getKey(), e.getValue())).toList());
            if (same || write(stored, next)) {
                // Every step the heartbeat brought, changed or not: a heartbeat sent again after a failure here
                // (its points then already in the curve) still puts them where the other trials look.
                setSteps(sweepId, trial, taken);
                return points(kept);
            }
        }
        // Heartbeats of one job do not race this long; the points come again with a later heartbeat.
        return curve(sweepId, trial);
    }

    /** The trial's current job's points, by step. */
    List<Point> curve(String sweepId, int trial) {
        Document stored = mongo.findById(curveId(sweepId, trial), Document.class, CURVES);
        return stored == null ? List.of() : points(read(stored));
    }

    /** The other trials' values at exactly {@code step}. */
    List<Double> othersAt(String sweepId, double step, int trial) {
        Document stored = mongo.findById(stepId(sweepId, step), Document.class, STEPS);
        if (stored == null || !(stored.get("values") instanceof Document values)) {
            return List.of();
        }
        String own = Integer.toString(trial);
        List<Double> others = new ArrayList<>();
        values.forEach((key, value) -> {
            if (!own.equals(key) && value instanceof Number number) {
                others.add(number.doubleValue());
            }
        });
        return others;
    }

    /** A cancelled sweep judges no trial again: its steps go (the curves stay, for the views). */
    void forget(String sweepId) {
        mongo.remove(Query.query(Criteria.where("sweepId").is(sweepId)), STEPS);
    }

    private boolean write(Document stored, Document next) {
        if (stored == null) {
            try {
                mongo.insert(next, CURVES);
                return true;
            } catch (org.springframework.dao.DuplicateKeyException raced) {
                return false;
            }
        }
        return mongo.replace(Query.query(Criteria.where("rev").is(stored.getString("rev"))), next, CURVES)
                .getMatchedCount() == 1;
    }

    private void setSteps(String sweepId, int trial, List<Point> points) {
        if (points.isEmpty()) {
            return;
        }
        BulkOperations bulk = mongo.bulkOps(BulkOperations.BulkMode.UNORDERED, STEPS);
        for (Point point : points) {
            bulk.upsert(Query.query(Criteria.where("_id").is(stepId(sweepId, point.step()))),
                    new Update().set("values." + trial, point.value()).setOnInsert("sweepId", sweepId)
                            .setOnInsert("step", point.step()));
        }
        bulk.execute();
    }

    private void unsetSteps(String sweepId, int trial, java.util.Set<Double> steps) {
        if (steps.isEmpty()) {
            return;
        }
        BulkOperations bulk = mongo.bulkOps(BulkOperations.BulkMode.UNORDERED, STEPS);
        for (double step : steps) {
            bulk.updateOne(Query.query(Criteria.where("_id").is(stepId(sweepId, step))),
                    new Update().unset("values." + trial));
        }
        bulk.execute();
    }

    private static TreeMap<Double, Double> read(Document stored) {
        TreeMap<Double, Double> curve = new TreeMap<>();
        for (Object entry : stored.getList("points", Object.class, List.of())) {
            if (entry instanceof List<?> pair && pair.size() == 2 && pair.get(0) instanceof Number step
                    && pair.get(1) instanceof Number value) {
                curve.put(step.doubleValue(), value.doubleValue());
            }
        }
        return curve;
    }

    private static List<Point> points(Map<Double, Double> curve) {
        return curve.entrySet().stream().map(e -> new Point(e.getKey(), e.getValue())).toList();
    }

    private static long revision(String rev) {
        return rev == null ? 0 : Long.parseLong(rev.substring(rev.lastIndexOf('#') + 1));
    }

    static String curveId(String sweepId, int trial) {
        return sweepId + "/" + trial;
    }

    /** One key per step value: 3 and 3.0 are the same step. */
    static String stepId(String sweepId, double step) {
        return sweepId + "@" + (step == Math.rint(step) && Math.abs(step) < 1e15 ? Long.toString((long) step)
                : Double.toString(step));
    }
}
