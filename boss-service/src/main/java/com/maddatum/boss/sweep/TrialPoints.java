package com.maddatum.boss.sweep;

import java.util.List;
import org.bson.Document;
import org.springframework.data.domain.Sort;
import org.springframework.data.mongodb.core.BulkOperations;
import org.springframework.data.mongodb.core.MongoTemplate;
import org.springframework.data.mongodb.core.index.Index;
import org.springframework.data.mongodb.core.query.Criteria;
import org.springframework.data.mongodb.core.query.Query;
import org.springframework.data.mongodb.core.query.Update;
import org.springframework.stereotype.Component;

/**
 * The {@code trialPoints} collection: each trial's intermediate values, one document per (trial, step), as its
 * Worker's heartbeats brought them. The median rule reads the other trials' values at one step; the curve reads
 * one trial's. A re-run's points replace its earlier attempt's at the same steps. Not synced to disk one by one:
 * a point lost to a crash costs one comparison, and the next heartbeat brings newer ones.
 */
@Component
class TrialPoints {

    static final String COLLECTION = "trialPoints";

    /** One intermediate value. */
    record Point(double step, double value) {}

    private final MongoTemplate mongo;

    TrialPoints(MongoTemplate mongo) {
        this.mongo = mongo;
        var ops = mongo.indexOps(COLLECTION);
        // The median rule: every trial's value at one step. Unique: a heartbeat sent again adds nothing.
        ops.createIndex(new Index().on("sweepId", Sort.Direction.ASC).on("step", Sort.Direction.ASC)
                .on("trial", Sort.Direction.ASC).unique().named("bySweepStepTrial_unique"));
        // The curve, the trial's own best so far, and its count against the bound.
        ops.createIndex(new Index().on("sweepId", Sort.Direction.ASC).on("trial", Sort.Direction.ASC)
                .on("step", Sort.Direction.ASC).named("bySweepTrialStep"));
    }

    /** Keeps the points, at most {@code max} per trial (the first ones: the rule decides early, if at all). */
    void record(String sweepId, int trial, List<Point> points, int max) {
        if (points.isEmpty()) {
            return;
        }
        long kept = mongo.count(trialQuery(sweepId, trial), COLLECTION);
        List<Point> fresh = points.subList(0, (int) Math.max(0, Math.min(points.size(), max - kept)));
        if (fresh.isEmpty()) {
            return;
        }
        BulkOperations bulk = mongo.bulkOps(BulkOperations.BulkMode.UNORDERED, COLLECTION);
        for (Point point : fresh) {
            bulk.upsert(Query.query(Criteria.where("sweepId").is(sweepId).and("step").is(point.step())
                    .and("trial").is(trial)), new Update().set("value", point.value()));
        }
        bulk.execute();
    }

    /** The trial's points, by step. */
    List<Point> curve(String sweepId, int trial) {
        return mongo.find(trialQuery(sweepId, trial).with(Sort.by("step")), Document.class, COLLECTION).stream()
                .map(TrialPoints::point).toList();
    }

    /** The trial's values at steps up to {@code step}. */
    List<Double> upTo(String sweepId, int trial, double step) {
        return mongo.find(trialQuery(sweepId, trial).addCriteria(Criteria.where("step").lte(step)), Document.class,
                COLLECTION).stream().map(d -> point(d).value()).toList();
    }

    /** The other trials' values at exactly {@code step}. */
    List<Double> othersAt(String sweepId, double step, int trial) {
        return mongo.find(Query.query(Criteria.where("sweepId").is(sweepId).and("step").is(step).and("trial").ne(trial)),
                Document.class, COLLECTION).stream().map(d -> point(d).value()).toList();
    }

    private static Query trialQuery(String sweepId, int trial) {
        return Query.query(Criteria.where("sweepId").is(sweepId).and("trial").is(trial));
    }

    private static Point point(Document d) {
        return new Point(((Number) d.get("step")).doubleValue(), ((Number) d.get("value")).doubleValue());
    }
}
