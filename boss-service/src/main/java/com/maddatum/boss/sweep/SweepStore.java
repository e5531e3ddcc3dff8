package com.maddatum.boss.sweep;

import com.maddatum.boss.store.StoreDurability;
import java.time.Instant;
import java.util.Date;
import java.util.List;
import java.util.Optional;
import org.bson.Document;
import org.bson.types.ObjectId;
import org.springframework.dao.DuplicateKeyException;
import org.springframework.data.domain.Sort;
import org.springframework.data.mongodb.core.FindAndModifyOptions;
import org.springframework.data.mongodb.core.MongoTemplate;
import org.springframework.data.mongodb.core.index.Index;
import org.springframework.data.mongodb.core.query.Criteria;
import org.springframework.data.mongodb.core.query.Query;
import org.springframework.data.mongodb.core.query.Update;
import org.springframework.stereotype.Component;

/**
 * The {@code sweeps} collection. Every change of where a sweep stands is one conditional write on the state
 * its writer read (see {@link Sweep}); losing it means another writer (a second Boss replica, or this one's
 * other thread) moved the sweep first, and the caller reads it again.
 */
@Component
class SweepStore {

    static final String COLLECTION = "sweeps";

    private final MongoTemplate mongo;
    private final StoreDurability durability;

    SweepStore(MongoTemplate mongo, StoreDurability durability) {
        this.mongo = mongo;
        this.durability = durability;
        var ops = mongo.indexOps(COLLECTION);
        // SweepTicker: the sweeps still to drive, every tick.
        ops.createIndex(new Index().on(Sweep.STATUS, Sort.Direction.ASC).named("byStatus"));
        // GET /sweeps, newest first, and its project filter.
        ops.createIndex(new Index().on(Sweep.CREATED_AT, Sort.Direction.DESC).named("byCreatedAt"));
        ops.createIndex(new Index().on(Sweep.PROJECT_NAME, Sort.Direction.ASC).on(Sweep.CREATED_AT, Sort.Direction.DESC)
                .named("byProjectCreatedAt"));
    }

    /** Stores a new sweep; false when one with its id exists (an idempotent retry of the same request). */
    boolean insert(Sweep sweep) {
        try {
            mongo.insert(sweep.toNewDocument(), COLLECTION);
        } catch (DuplicateKeyException again) {
            return false;
        }
        durability.sync();
        return true;
    }

    Optional<Sweep> find(ObjectId id) {
        return Optional.ofNullable(mongo.findById(id, Document.class, COLLECTION)).map(Sweep::fromDocument);
    }

    /** Newest first; {@code project} filters when not null. */
    List<Sweep> page(String project, int page, int size) {
        Query query = project == null ? new Query() : Query.query(Criteria.where(Sweep.PROJECT_NAME).is(project));
        query.with(Sort.by(Sort.Direction.DESC, Sweep.CREATED_AT)).skip((long) page * size).limit(size);
        return mongo.find(query, Document.class, COLLECTION).stream().map(Sweep::fromDocument).toList();
    }

    long count(String project) {
        Query query = project == null ? new Query() : Query.query(Criteria.where(Sweep.PROJECT_NAME).is(project));
        return mongo.count(query, COLLECTION);
    }

    /** The sweeps a tick drives: running ones, and cancelled ones whose trials are not all cancelled yet. */
    List<ObjectId> toDrive() {
        // A settled cancelled sweep has nothing left to do: the query leaves it out, so a tick never reads it.
        Query query = Query.query(new Criteria().orOperator(
                Criteria.where(Sweep.STATUS).is(SweepStatus.RUNNING.wire()),
                Criteria.where(Sweep.STATUS).is(SweepStatus.CANCELLED.wire()).and(Sweep.SETTLED).ne(true)));
        query.fields().include(Sweep.ID);
        return mongo.find(query, Document.class, COLLECTION).stream().map(d -> d.getObjectId(Sweep.ID)).toList();
    }

    /**
     * Records a start (a new trial when {@code newTrial}, else a re-run) as pending, if the sweep is still as
     * {@code seen}: running, nothing pending, the same trials created and jobs launched. The guard on
     * {@code launches} is what keeps the sweep within its parallelism across replicas: a job started by anyone
     * since {@code seen} was read makes this write miss.
     */
    boolean start(Sweep seen, Sweep.Pending pending, long cursor, Instant now) {
        Update update = new Update().set(Sweep.PENDING, pending.toDocument())
                .set(Sweep.LAUNCHES, seen.launches() + 1)
                .set(Sweep.CURSOR, cursor)
                .set(Sweep.UPDATED_AT, Date.from(now));
        if (Sweep.Pending.TRIAL.equals(pending.kind())) {
            update.set(Sweep.CREATED, seen.created() + 1);
        }
        return changed(asSeen(seen), update);
    }

    /** Nothing more to propose: the sampler found no configuration not tried yet. */
    boolean exhaust(Sweep seen, long cursor, Instant now) {
        return changed(asSeen(seen), new Update().set(Sweep.EXHAUSTED, true).set(Sweep.CURSOR, cursor)
                .set(Sweep.UPDATED_AT, Date.from(now)));
    }

    /** The pending start is finished: the next one may be decided. */
    void clearPending(ObjectId id, String jobId) {
        changed(Query.query(Criteria.where(Sweep.ID).is(id).and(Sweep.PENDING + ".jobId").is(jobId)),
                new Update().unset(Sweep.PENDING));
    }

    /**
     * Takes back a pending new trial that turned out to repeat a configuration already tried: its number is
     * free again, and the grid's cursor stays past it.
     */
    void withdraw(ObjectId id, Sweep.Pending pending) {
        changed(Query.query(Criteria.where(Sweep.ID).is(id).and(Sweep.PENDING + ".jobId").is(pending.jobId())),
                new Update().unset(Sweep.PENDING).set(Sweep.CREATED, pending.trial() - 1).inc(Sweep.LAUNCHES, -1));
    }

    /** running -> done, if nothing changed since {@code seen} (no start, no extend). */
    boolean finish(Sweep seen, Instant now) {
        return changed(asSeen(seen).addCriteria(Criteria.where(Sweep.MAX_JOBS).is(seen.maxJobs())),
                new Update().set(Sweep.STATUS, SweepStatus.DONE.wire()).set(Sweep.UPDATED_AT, Date.from(now)));
    }

    /** running -> cancelled; false when it was not running (a done sweep has nothing to stop and stays done). */
    boolean cancel(ObjectId id, Instant now) {
        return changed(Query.query(Criteria.where(Sweep.ID).is(id).and(Sweep.STATUS).is(SweepStatus.RUNNING.wire())),
                new Update().set(Sweep.STATUS, SweepStatus.CANCELLED.wire()).set(Sweep.SETTLED, false)
                        .set(Sweep.UPDATED_AT, Date.from(now)));
    }

    /**
     * One more trial's job refused at creation; when that makes {@code limit} in a row, the running sweep is
     * cancelled, {@code stopReason} saying why (every later trial would be refused too). True when this call
     * cancelled it.
     */
    boolean refused(ObjectId id, int limit, String error, Instant now) {
        Document after = mongo.findAndModify(Query.query(Criteria.where(Sweep.ID).is(id)),
                new Update().inc(Sweep.REFUSED_IN_A_ROW, 1), FindAndModifyOptions.options().returnNew(true),
                Document.class, COLLECTION);
        durability.sync();
        if (after == null || !(after.get(Sweep.REFUSED_IN_A_ROW) instanceof Number n) || n.intValue() < limit) {
            return false;
        }
        return changed(Query.query(Criteria.where(Sweep.ID).is(id).and(Sweep.STATUS).is(SweepStatus.RUNNING.wire())),
                new Update().set(Sweep.STATUS, SweepStatus.CANCELLED.wire()).set(Sweep.SETTLED, false)
                        .set(Sweep.STOP_REASON, "the last " + n.intValue() + " trials' jobs were refused; the last: "
                                + error)
                        .set(Sweep.UPDATED_AT, Date.from(now)));
    }

    /** A trial's job was created: the refusals in a row start again from none. */
    void accepted(ObjectId id) {
        changed(Query.query(Criteria.where(Sweep.ID).is(id).and(Sweep.REFUSED_IN_A_ROW).gt(0)),
                new Update().set(Sweep.REFUSED_IN_A_ROW, 0));
    }

    /** A cancelled sweep none of whose trials is queued or running any more. */
    void settle(ObjectId id) {
        changed(Query.query(Criteria.where(Sweep.ID).is(id).and(Sweep.STATUS).is(SweepStatus.CANCELLED.wire())),
                new Update().set(Sweep.SETTLED, true));
    }

    /** A larger budget; a done sweep runs again. False when the sweep is cancelled or has that many already. */
    boolean extend(ObjectId id, int maxJobs, Instant now) {
        return changed(Query.query(Criteria.where(Sweep.ID).is(id).and(Sweep.MAX_JOBS).lt(maxJobs).and(Sweep.STATUS)
                        .in(SweepStatus.RUNNING.wire(), SweepStatus.DONE.wire())),
                new Update().set(Sweep.MAX_JOBS, maxJobs).set(Sweep.STATUS, SweepStatus.RUNNING.wire())
                        .set(Sweep.UPDATED_AT, Date.from(now)));
    }

    /**
     * rerun-failed flagged trials: counts the request and makes a done sweep run again, in one write. A driver's
     * finish decided on what it read before the request checks the count, so it cannot settle the sweep as done
     * with a re-run waiting. False when the sweep is cancelled.
     */
    boolean reopen(ObjectId id, Instant now) {
        return changed(Query.query(Criteria.where(Sweep.ID).is(id).and(Sweep.STATUS)
                        .in(SweepStatus.RUNNING.wire(), SweepStatus.DONE.wire())),
                new Update().set(Sweep.STATUS, SweepStatus.RUNNING.wire()).inc(Sweep.RERUNS, 1)
                        .set(Sweep.UPDATED_AT, Date.from(now)));
    }

    /** The sweep exactly as {@code seen} left it, for a conditional write. */
    private static Query asSeen(Sweep seen) {
        return Query.query(Criteria.where(Sweep.ID).is(seen.id())
                .and(Sweep.STATUS).is(SweepStatus.RUNNING.wire())
                .and(Sweep.PENDING).is(null)
                .and(Sweep.CREATED).is(seen.created())
                .and(Sweep.LAUNCHES).is(seen.launches())
                // A sweep stored before the counter existed has none: 0.
                .and(Sweep.RERUNS).in(seen.reruns() == 0 ? new Object[] {0, null} : new Object[] {seen.reruns()}));
    }

    private boolean changed(Query query, Update update) {
        return durability.changed(mongo, query, update, COLLECTION);
    }
}
