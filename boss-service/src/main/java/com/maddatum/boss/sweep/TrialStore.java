package com.maddatum.boss.sweep;

import com.maddatum.boss.store.StoreDurability;
import java.time.Instant;
import java.util.Date;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Predicate;
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
 *
 * <p>On the embedded store, which ignores secondary indexes and scans the collection for any query but one by
 * {@code _id} (or by exactly a unique index's keys), the trials are mirrored in memory per sweep: read once per
 * sweep, then kept current by every write, which all go through here. That store belongs to this process
 * alone (see {@link StoreDurability#isEmbedded}), so the mirror is the store: a change is checked against it
 * and written by {@code _id} under the sweep's lock. Without it every driver tick, heartbeat and view scanned
 * every trial of every sweep ever run. On a real MongoDB the same conditions are the writes' filters and the
 * reads use the indexes.
 */
@Component
class TrialStore {

    static final String COLLECTION = "trials";

    /** What an insert found. */
    enum Inserted { NEW, SAME_TRIAL, SAME_PARAMS }

    /** One sweep's trials, as stored; guarded by itself. */
    private static final class Mirror {
        final TreeMap<Integer, Trial> byNumber = new TreeMap<>();
        final Map<String, Trial> byJob = new HashMap<>();

        void put(Trial trial) {
            Trial before = byNumber.put(trial.trial(), trial);
            if (before != null) {
                byJob.remove(before.jobId());
            }
            byJob.put(trial.jobId(), trial);
        }
    }

    private final MongoTemplate mongo;
    private final StoreDurability durability;
    private final boolean mirrored;
    private final ConcurrentHashMap<String, Mirror> mirrors = new ConcurrentHashMap<>();

    TrialStore(MongoTemplate mongo, StoreDurability durability) {
        this.mongo = mongo;
        this.durability = durability;
        this.mirrored = durability.isEmbedded();
        var ops = mongo.indexOps(COLLECTION);
        // One record per trial number; also every read of a sweep's trials, in trial order.
        ops.createIndex(new Index().on(Trial.SWEEP_ID, Sort.Direction.ASC).on(Trial.TRIAL, Sort.Direction.ASC)
                .unique().named("bySweepTrial_unique"));
        // No configuration twice in a sweep; the driver's duplicate check looks a draw up by it.
        ops.createIndex(new Index().on(Trial.SWEEP_ID, Sort.Direction.ASC).on(Trial.PARAMS_HASH, Sort.Direction.ASC)
                .unique().named("bySweepParams_unique"));
        if (mirrored) {
            return; // ignored by the embedded store, which would rebuild each on every start
        }
        // The heartbeat's early stop: is this job a trial?
        ops.createIndex(new Index().on(Trial.JOB_ID, Sort.Direction.ASC).named("byJobId"));
        // The driver: the sweep's live trials (its parallelism), every step.
        ops.createIndex(new Index().on(Trial.SWEEP_ID, Sort.Direction.ASC).on(Trial.LIVE, Sort.Direction.ASC)
                .named("bySweepLive"));
    }

    /** Records the trial a pending start decided on; says whether it was new, or which index refused it. */
    Inserted insert(Sweep sweep, Sweep.Pending pending, Instant now) {
        String sweepId = sweep.id().toHexString();
        Document document = Trial.newDocument(sweepId, pending, now);
        Mirror mirror = mirrored ? mirror(sweepId) : null;
        try {
            if (mirror == null) {
                mongo.insert(document, COLLECTION);
            } else {
                synchronized (mirror) {
                    mongo.insert(document, COLLECTION);
                    mirror.put(Trial.fromDocument(document));
                }
            }
            durability.sync();
            return Inserted.NEW;
        } catch (DuplicateKeyException duplicate) {
            return find(sweepId, pending.trial()).isPresent() ? Inserted.SAME_TRIAL : Inserted.SAME_PARAMS;
        }
    }

    Optional<Trial> find(String sweepId, int trial) {
        if (mirrored) {
            Mirror mirror = mirror(sweepId);
            synchronized (mirror) {
                return Optional.ofNullable(mirror.byNumber.get(trial));
            }
        }
        return Optional.ofNullable(mongo.findOne(Query.query(Criteria.where(Trial.SWEEP_ID).is(sweepId)
                .and(Trial.TRIAL).is(trial)), Document.class, COLLECTION)).map(Trial::fromDocument);
    }

    /** The trial whose current job is {@code jobId}, among sweep {@code sweepId}'s. */
    Optional<Trial> findByJobId(String sweepId, String jobId) {
        if (mirrored) {
            Mirror mirror = mirror(sweepId);
            synchronized (mirror) {
                return Optional.ofNullable(mirror.byJob.get(jobId));
            }
        }
        return Optional.ofNullable(mongo.findOne(Query.query(Criteria.where(Trial.JOB_ID).is(jobId)
                .and(Trial.SWEEP_ID).is(sweepId)), Document.class, COLLECTION)).map(Trial::fromDocument);
    }

    /** Every trial of the sweep, in trial order. */
    List<Trial> all(String sweepId) {
        if (mirrored) {
            Mirror mirror = mirror(sweepId);
            synchronized (mirror) {
                return List.copyOf(mirror.byNumber.values());
            }
        }
        return mongo.find(Query.query(Criteria.where(Trial.SWEEP_ID).is(sweepId))
                .with(Sort.by(Trial.TRIAL)), Document.class, COLLECTION).stream().map(Trial::fromDocument).toList();
    }

    List<Trial> live(String sweepId) {
        if (mirrored) {
            return all(sweepId).stream().filter(Trial::live).toList();
        }
        return mongo.find(Query.query(Criteria.where(Trial.SWEEP_ID).is(sweepId).and(Trial.LIVE).is(true)),
                Document.class, COLLECTION).stream().map(Trial::fromDocument).toList();
    }

    long countLive(String sweepId) {
        if (mirrored) {
            return live(sweepId).size();
        }
        return mongo.count(Query.query(Criteria.where(Trial.SWEEP_ID).is(sweepId).and(Trial.LIVE).is(true)), COLLECTION);
    }

    boolean hasParams(String sweepId, String hash) {
        if (mirrored) {
            return all(sweepId).stream().anyMatch(t -> hash.equals(t.paramsHash()));
        }
        return mongo.exists(Query.query(Criteria.where(Trial.SWEEP_ID).is(sweepId).and(Trial.PARAMS_HASH).is(hash)),
                COLLECTION);
    }

    /** The hashes of every configuration the sweep has tried: only for a space small enough to list. */
    Set<String> hashes(String sweepId) {
        if (mirrored) {
            Set<String> hashes = new HashSet<>();
            all(sweepId).forEach(t -> hashes.add(t.paramsHash()));
            return hashes;
        }
        Query query = Query.query(Criteria.where(Trial.SWEEP_ID).is(sweepId));
        query.fields().include(Trial.PARAMS_HASH);
        Set<String> hashes = new HashSet<>();
        mongo.find(query, Document.class, COLLECTION).forEach(d -> hashes.add(d.getString(Trial.PARAMS_HASH)));
        return hashes;
    }

    /** The lowest-numbered trial waiting for its re-run. */
    Optional<Trial> nextRerun(String sweepId) {
        if (mirrored) {
            return all(sweepId).stream().filter(t -> t.rerunRequested() && !t.live()).findFirst();
        }
        return Optional.ofNullable(mongo.findOne(Query.query(Criteria.where(Trial.SWEEP_ID).is(sweepId)
                .and(Trial.RERUN_REQUESTED).is(true).and(Trial.LIVE).is(false)).with(Sort.by(Trial.TRIAL)),
                Document.class, COLLECTION)).map(Trial::fromDocument);
    }

    /** How job {@code jobId} of the trial ended; false when that was recorded already (or the trial moved on). */
    boolean ended(Trial trial, String jobId, TrialResult result, Instant now) {
        Update update = new Update().set(Trial.LIVE, false)
                .set(Trial.STATUS, result.status())
                .set(Trial.VALUE, result.value())
                .set(Trial.PRUNED, result.pruned())
                .set(Trial.PRUNED_AT, result.prunedAt())
                .set(Trial.OUTCOME_ID, result.outcomeId())
                .set(Trial.RETRYABLE, result.retryable())
                .set(Trial.ENDED_AT, Date.from(now));
        return change(trial.sweepId(), trial.trial(), t -> jobId.equals(t.jobId()) && t.live(),
                Criteria.where(Trial.ID).is(trial.id()).and(Trial.JOB_ID).is(jobId).and(Trial.LIVE).is(true), update);
    }

    /** The Boss refused to create the trial's job (its rules, 4xx): it ends failed, with no job to re-run. */
    void refused(Trial trial, String jobId, String error, Instant now) {
        change(trial.sweepId(), trial.trial(), t -> jobId.equals(t.jobId()),
                Criteria.where(Trial.ID).is(trial.id()).and(Trial.JOB_ID).is(jobId),
                new Update().set(Trial.LIVE, false).set(Trial.STATUS, "failed").set(Trial.RETRYABLE, false)
                        .set(Trial.JOBLESS, true).set(Trial.ERROR, error).set(Trial.RERUN_REQUESTED, false)
                        .set(Trial.ENDED_AT, Date.from(now)));
    }

    /** The sweep was cancelled between deciding the trial's start and creating its job: none is created. */
    void cancelledBeforeJob(Trial trial, String jobId, Instant now) {
        change(trial.sweepId(), trial.trial(), t -> jobId.equals(t.jobId()) && t.live(),
                Criteria.where(Trial.ID).is(trial.id()).and(Trial.JOB_ID).is(jobId).and(Trial.LIVE).is(true),
                new Update().set(Trial.LIVE, false).set(Trial.STATUS, "cancelled").set(Trial.RETRYABLE, false)
                        .set(Trial.JOBLESS, true)
                        .set(Trial.ERROR, "the sweep was cancelled before the trial's job was created")
                        .set(Trial.RERUN_REQUESTED, false).set(Trial.ENDED_AT, Date.from(now)));
    }

    /** Asks for a re-run of the trial whose current (ended) job is {@code jobId}. */
    boolean requestRerun(Trial trial, String jobId) {
        return change(trial.sweepId(), trial.trial(), t -> jobId.equals(t.jobId()) && !t.live(),
                Criteria.where(Trial.ID).is(trial.id()).and(Trial.JOB_ID).is(jobId).and(Trial.LIVE).is(false),
                new Update().set(Trial.RERUN_REQUESTED, true));
    }

    /** A cancelled sweep re-runs nothing. */
    void dropRerunRequests(String sweepId) {
        if (mirrored) {
            for (Trial trial : all(sweepId)) {
                if (trial.rerunRequested()) {
                    change(sweepId, trial.trial(), Trial::rerunRequested, null,
                            new Update().set(Trial.RERUN_REQUESTED, false));
                }
            }
            return;
        }
        mongo.updateMulti(Query.query(Criteria.where(Trial.SWEEP_ID).is(sweepId).and(Trial.RERUN_REQUESTED).is(true)),
                new Update().set(Trial.RERUN_REQUESTED, false), COLLECTION);
        durability.sync();
    }

    /**
     * The trial's new job {@code jobId}, re-running {@code previous}: live again, and what the previous one ended
     * with forgotten (it stays readable under its own job id, listed in {@code jobs}).
     */
    void relaunched(String sweepId, int trial, String previous, String jobId) {
        change(sweepId, trial, t -> previous.equals(t.jobId()),
                Criteria.where(Trial.SWEEP_ID).is(sweepId).and(Trial.TRIAL).is(trial).and(Trial.JOB_ID).is(previous),
                new Update().set(Trial.JOB_ID, jobId).push(Trial.JOBS, jobId).set(Trial.LIVE, true)
                        .set(Trial.RERUN_REQUESTED, false)
                        .unset(Trial.STATUS).unset(Trial.VALUE).unset(Trial.PRUNED).unset(Trial.PRUNED_AT)
                        .unset(Trial.OUTCOME_ID).unset(Trial.RETRYABLE).unset(Trial.ENDED_AT).unset(Trial.STOP));
    }

    /** The re-run could not be created (the Boss refused it): the trial stays as it ended. */
    void rerunRefused(String sweepId, int trial, String previous, String error) {
        change(sweepId, trial, t -> previous.equals(t.jobId()),
                Criteria.where(Trial.SWEEP_ID).is(sweepId).and(Trial.TRIAL).is(trial).and(Trial.JOB_ID).is(previous),
                new Update().set(Trial.RERUN_REQUESTED, false).set(Trial.ERROR, error));
    }

    /** Remembers the early-stop decision for job {@code jobId}; false when one is remembered already. */
    boolean stop(Trial trial, String jobId, Document decision) {
        return change(trial.sweepId(), trial.trial(), t -> jobId.equals(t.jobId()) && t.stop() == null,
                Criteria.where(Trial.ID).is(trial.id()).and(Trial.JOB_ID).is(jobId).and(Trial.STOP).is(null),
                new Update().set(Trial.STOP, decision));
    }

    /**
     * One conditional change of trial {@code number}: {@code holds} and {@code asStored} say the same thing, the
     * first of the mirror (embedded store: checked, then written by {@code _id}, under the sweep's lock), the
     * second as the write's filter (real MongoDB). False when the trial is not as the caller expects.
     */
    private boolean change(String sweepId, int number, Predicate<Trial> holds, Criteria asStored, Update update) {
        if (!mirrored) {
            return durability.changed(mongo, Query.query(asStored), update, COLLECTION);
        }
        Mirror mirror = mirror(sweepId);
        synchronized (mirror) {
            Trial current = mirror.byNumber.get(number);
            if (current == null || !holds.test(current)) {
                return false;
            }
            if (!durability.changed(mongo, Query.query(Criteria.where(Trial.ID).is(current.id())), update,
                    COLLECTION)) {
                return false;
            }
            mirror.put(Trial.fromDocument(mongo.findById(current.id(), Document.class, COLLECTION)));
            return true;
        }
    }

    /** The sweep's mirror, read from the store the first time it is asked for (one scan per sweep). */
    private Mirror mirror(String sweepId) {
        return mirrors.computeIfAbsent(sweepId, id -> {
            Mirror mirror = new Mirror();
            mongo.find(Query.query(Criteria.where(Trial.SWEEP_ID).is(id)), Document.class, COLLECTION)
                    .forEach(d -> mirror.put(Trial.fromDocument(d)));
            return mirror;
        });
    }
}
