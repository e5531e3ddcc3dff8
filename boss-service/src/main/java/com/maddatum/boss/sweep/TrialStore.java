package com.maddatum.boss.sweep;

import com.maddatum.boss.store.StoreDurability;
import java.time.Instant;
import java.util.Date;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.bson.Document;
import org.bson.types.ObjectId;
import org.springframework.dao.DuplicateKeyException;
import org.springframework.data.domain.Sort;
import org.springframework.data.mongodb.core.MongoTemplate;
import org.springframework.data.mongodb.core.index.Index;
import org.springframework.data.mongodb.core.query.Criteria;
import org.springframework.data.mongodb.core.query.Query;
import org.springframework.data.mongodb.core.query.Update;
import org.springframework.stereotype.Component;

/**
 * The {@code trials} collection. Two unique indexes make the sweep's promises hold whoever writes: one
 * record per trial number, one per configuration. Every change of a trial is conditional on its current job,
 * so a late writer (another replica noticing the same ending) changes nothing twice.
 */
@Component
class TrialStore {

    static final String COLLECTION = "trials";

    /** What an insert found. */
    enum Inserted { NEW, SAME_TRIAL, SAME_PARAMS }

    private final MongoTemplate mongo;
    private final StoreDurability durability;

    TrialStore(MongoTemplate mongo, StoreDurability durability) {
        this.mongo = mongo;
        this.durability = durability;
        var ops = mongo.indexOps(COLLECTION);
        // One record per trial number; also every read of a sweep's trials, in trial order.
        ops.createIndex(new Index().on(Trial.SWEEP_ID, Sort.Direction.ASC).on(Trial.TRIAL, Sort.Direction.ASC)
                .unique().named("bySweepTrial_unique"));
        // No configuration twice in a sweep; the driver's duplicate check looks a draw up by it.
        ops.createIndex(new Index().on(Trial.SWEEP_ID, Sort.Direction.ASC).on(Trial.PARAMS_HASH, Sort.Direction.ASC)
                .unique().named("bySweepParams_unique"));
        // The heartbeat's early stop: is this job a trial? (Once per job: EarlyStopping remembers the answer.)
        ops.createIndex(new Index().on(Trial.JOB_ID, Sort.Direction.ASC).named("byJobId"));
        // The driver: the sweep's live trials (its parallelism), every step.
        ops.createIndex(new Index().on(Trial.SWEEP_ID, Sort.Direction.ASC).on(Trial.LIVE, Sort.Direction.ASC)
                .named("bySweepLive"));
    }

    /** Records the trial a pending start decided on; says whether it was new, or which index refused it. */
    Inserted insert(Sweep sweep, Sweep.Pending pending, Instant now) {
        String sweepId = sweep.id().toHexString();
        try {
            mongo.insert(Trial.newDocument(sweepId, pending, now), COLLECTION);
            durability.sync();
            return Inserted.NEW;
        } catch (DuplicateKeyException duplicate) {
            return find(sweepId, pending.trial()).isPresent() ? Inserted.SAME_TRIAL : Inserted.SAME_PARAMS;
        }
    }

    Optional<Trial> find(String sweepId, int trial) {
        return Optional.ofNullable(mongo.findOne(Query.query(Criteria.where(Trial.SWEEP_ID).is(sweepId)
                .and(Trial.TRIAL).is(trial)), Document.class, COLLECTION)).map(Trial::fromDocument);
    }

    Optional<Trial> findById(ObjectId id) {
        return Optional.ofNullable(mongo.findById(id, Document.class, COLLECTION)).map(Trial::fromDocument);
    }

    /** A scan on the embedded store (it ignores the index): not for a hot path. */
    Optional<Trial> findByJobId(String jobId) {
        return Optional.ofNullable(mongo.findOne(Query.query(Criteria.where(Trial.JOB_ID).is(jobId)), Document.class,
                COLLECTION)).map(Trial::fromDocument);
    }

    /** Every trial of the sweep, in trial order. */
    List<Trial> all(String sweepId) {
        return mongo.find(Query.query(Criteria.where(Trial.SWEEP_ID).is(sweepId))
                .with(Sort.by(Trial.TRIAL)), Document.class, COLLECTION).stream().map(Trial::fromDocument).toList();
    }

    List<Trial> live(String sweepId) {
        return mongo.find(Query.query(Criteria.where(Trial.SWEEP_ID).is(sweepId).and(Trial.LIVE).is(true)),
                Document.class, COLLECTION).stream().map(Trial::fromDocument).toList();
    }

    long countLive(String sweepId) {
        return mongo.count(Query.query(Criteria.where(Trial.SWEEP_ID).is(sweepId).and(Trial.LIVE).is(true)), COLLECTION);
    }

    boolean hasParams(String sweepId, String hash) {
        return mongo.exists(Query.query(Criteria.where(Trial.SWEEP_ID).is(sweepId).and(Trial.PARAMS_HASH).is(hash)),
                COLLECTION);
    }

    /** The hashes of every configuration the sweep has tried: only for a space small enough to list. */
    Set<String> hashes(String sweepId) {
        Query query = Query.query(Criteria.where(Trial.SWEEP_ID).is(sweepId));
        query.fields().include(Trial.PARAMS_HASH);
        Set<String> hashes = new HashSet<>();
        mongo.find(query, Document.class, COLLECTION).forEach(d -> hashes.add(d.getString(Trial.PARAMS_HASH)));
        return hashes;
    }

    /** The lowest-numbered trial waiting for its re-run. */
    Optional<Trial> nextRerun(String sweepId) {
        return Optional.ofNullable(mongo.findOne(Query.query(Criteria.where(Trial.SWEEP_ID).is(sweepId)
                .and(Trial.RERUN_REQUESTED).is(true).and(Trial.LIVE).is(false)).with(Sort.by(Trial.TRIAL)),
                Document.class, COLLECTION)).map(Trial::fromDocument);
    }

    /** How job {@code jobId} of the trial ended; false when that was recorded already (or the trial moved on). */
    boolean ended(ObjectId trialId, String jobId, TrialResult result, Instant now) {
        Update update = new Update().set(Trial.LIVE, false)
                .set(Trial.STATUS, result.status())
                .set(Trial.VALUE, result.value())
                .set(Trial.PRUNED, result.pruned())
                .set(Trial.PRUNED_AT, result.prunedAt())
                .set(Trial.OUTCOME_ID, result.outcomeId())
                .set(Trial.RETRYABLE, result.retryable())
                .set(Trial.ENDED_AT, Date.from(now));
        return changed(Query.query(Criteria.where(Trial.ID).is(trialId).and(Trial.JOB_ID).is(jobId)
                .and(Trial.LIVE).is(true)), update);
    }

    /** The Boss refused to create the trial's job (its rules, 4xx): it ends failed, with no job to re-run. */
    void refused(ObjectId trialId, String jobId, String error, Instant now) {
        changed(Query.query(Criteria.where(Trial.ID).is(trialId).and(Trial.JOB_ID).is(jobId)),
                new Update().set(Trial.LIVE, false).set(Trial.STATUS, "failed").set(Trial.RETRYABLE, false)
                        .set(Trial.JOBLESS, true).set(Trial.ERROR, error).set(Trial.RERUN_REQUESTED, false).set(Trial.ENDED_AT, Date.from(now)));
    }

    /** The sweep was cancelled between deciding the trial's start and creating its job: none is created. */
    void cancelledBeforeJob(ObjectId trialId, String jobId, Instant now) {
        changed(Query.query(Criteria.where(Trial.ID).is(trialId).and(Trial.JOB_ID).is(jobId).and(Trial.LIVE).is(true)),
                new Update().set(Trial.LIVE, false).set(Trial.STATUS, "cancelled").set(Trial.RETRYABLE, false)
                        .set(Trial.JOBLESS, true)
                        .set(Trial.ERROR, "the sweep was cancelled before the trial's job was created")
                        .set(Trial.RERUN_REQUESTED, false).set(Trial.ENDED_AT, Date.from(now)));
    }

    /** Asks for a re-run of the trial whose current (ended) job is {@code jobId}. */
    boolean requestRerun(ObjectId trialId, String jobId) {
        return changed(Query.query(Criteria.where(Trial.ID).is(trialId).and(Trial.JOB_ID).is(jobId)
                .and(Trial.LIVE).is(false)), new Update().set(Trial.RERUN_REQUESTED, true));
    }

    /** A cancelled sweep re-runs nothing. */
    void dropRerunRequests(String sweepId) {
        mongo.updateMulti(Query.query(Criteria.where(Trial.SWEEP_ID).is(sweepId).and(Trial.RERUN_REQUESTED).is(true)),
                new Update().set(Trial.RERUN_REQUESTED, false), COLLECTION);
        durability.sync();
    }

    /**
     * The trial's new job {@code jobId}, re-running {@code previous}: live again, and what the previous one ended
     * with forgotten (it stays readable under its own job id, listed in {@code jobs}).
     */
    void relaunched(String sweepId, int trial, String previous, String jobId) {
        changed(Query.query(Criteria.where(Trial.SWEEP_ID).is(sweepId).and(Trial.TRIAL).is(trial)
                        .and(Trial.JOB_ID).is(previous)),
                new Update().set(Trial.JOB_ID, jobId).push(Trial.JOBS, jobId).set(Trial.LIVE, true)
                        .set(Trial.RERUN_REQUESTED, false)
                        .unset(Trial.STATUS).unset(Trial.VALUE).unset(Trial.PRUNED).unset(Trial.PRUNED_AT)
                        .unset(Trial.OUTCOME_ID).unset(Trial.RETRYABLE).unset(Trial.ENDED_AT).unset(Trial.STOP));
    }

    /** The re-run could not be created (the Boss refused it): the trial stays as it ended. */
    void rerunRefused(String sweepId, int trial, String previous, String error) {
        changed(Query.query(Criteria.where(Trial.SWEEP_ID).is(sweepId).and(Trial.TRIAL).is(trial)
                .and(Trial.JOB_ID).is(previous)), new Update().set(Trial.RERUN_REQUESTED, false).set(Trial.ERROR, error));
    }

    /** Remembers the early-stop decision for job {@code jobId}; false when one is remembered already. */
    boolean stop(ObjectId trialId, String jobId, Document decision) {
        return changed(Query.query(Criteria.where(Trial.ID).is(trialId).and(Trial.JOB_ID).is(jobId)
                .and(Trial.STOP).is(null)), new Update().set(Trial.STOP, decision));
    }

    private boolean changed(Query query, Update update) {
        return durability.changed(mongo, query, update, COLLECTION);
    }
}
