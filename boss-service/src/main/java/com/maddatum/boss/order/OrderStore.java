package com.maddatum.boss.order;

import static com.maddatum.boss.order.Order.*;

import com.maddatum.boss.store.StoreDurability;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Date;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Consumer;
import java.util.function.Function;
import org.bson.Document;
import org.bson.types.ObjectId;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.data.domain.Sort;
import org.springframework.data.mongodb.core.FindAndModifyOptions;
import org.springframework.data.mongodb.core.MongoTemplate;
import org.springframework.data.mongodb.core.index.Index;
import org.springframework.data.mongodb.core.index.IndexOperations;
import org.springframework.data.mongodb.core.query.BasicQuery;
import org.springframework.data.mongodb.core.query.Criteria;
import org.springframework.data.mongodb.core.query.Query;
import org.springframework.data.mongodb.core.query.Update;
import org.springframework.context.annotation.DependsOn;
import org.springframework.stereotype.Component;

/**
 * The {@code orders} collection. Every state change goes through {@link #apply}; every read a person
 * or a poller makes is served from memory ({@link OrderMirror}), so the queries here are lookups by
 * {@code _id} or {@code jobId}, start-up scans, and the resync of replicas sharing a real MongoDB.
 */
@Component
// After StoreMigrations: on a database the seed's Boss wrote, the unique index on rev cannot be built
// until every order has one.
@DependsOn("storeMigrations")
public class OrderStore {

    private static final Logger log = LoggerFactory.getLogger(OrderStore.class);

    static final String COLLECTION = "orders";
    private static final int MAX_ROUNDS = 8;
    /** What memory keeps of an order: everything but its history and progress, which only detail views show. */
    private static final String[] NOT_MIRRORED = {HISTORY, PROGRESS};

    private final MongoTemplate mongo;
    private final StoreDurability durability;

    OrderStore(MongoTemplate mongo, StoreDurability durability) {
        this.mongo = mongo;
        this.durability = durability;
        createIndexes();
    }

    /**
     * The indexes real MongoDB needs, named after the query they serve. (The embedded server ignores
     * non-unique indexes, which is why the claim path never queries by anything but {@code _id}.)
     */
    private void createIndexes() {
        IndexOperations ops = mongo.indexOps(COLLECTION);
        // apply(): every state change is a compare-and-set on rev. Unique, and a single key, so it is
        // an index lookup on both stores (the embedded one uses an index only when the query's keys
        // are exactly the index's keys; a filter like {_id, status, attempt} would scan).
        ops.createIndex(new Index().on(REV, Sort.Direction.ASC).unique().named("stateChange_rev_unique"));
        // findByJobId: bare seed callbacks, GET /jobs/{id}, GET /retrieve/outcome/{jobId}, cancel.
        // Unique: a job has exactly one order, and unique indexes are the only ones the embedded server
        // uses for lookups.
        ops.createIndex(new Index().on(JOB_ID, Sort.Direction.ASC).unique().named("byJobId_unique"));
        if (durability.isEmbedded()) {
            // The embedded server ignores non-unique indexes, yet rebuilds every one it has stored each
            // time it opens its file: about 5 s per index with 100k orders. Only real MongoDB gets them.
            return;
        }
        // findModifiedSince(): the incremental resync of replicas, {modifiedAt: {$gte: t}}.
        ops.createIndex(new Index().on(MODIFIED_AT, Sort.Direction.ASC).named("resyncFeed_modifiedAt"));
        // findLive(): the reconcile of live orders, {status: {$in: [unassigned, assigned, running]}}.
        ops.createIndex(new Index().on(STATUS, Sort.Direction.ASC).named("resyncLive_status"));
    }

    Order insert(ObjectId id, NewOrder spec, Instant now) {
        Document document = Order.newDocument(id, spec, now);
        mongo.insert(document, COLLECTION);
        durability.sync();
        return Order.fromDocument(document);
    }

    /**
     * What {@link #apply} found: the order as stored after it ran (null when there is no such order),
     * and whether this transition is what put it there.
     */
    record Result(Order current, boolean applied) {
        Optional<Order> changed() {
            return applied ? Optional.of(current) : Optional.empty();
        }
    }

    Result apply(ObjectId id, OrderTransition transition) {
        return apply(id, current -> transition);
    }

    /**
     * Applies the transition chosen for the order as it is now, if that order is as the transition
     * expects; a miss is a normal outcome. The write is conditional on the revision that was checked,
     * so nothing can slip in between; if another writer changed the order first, the choice and the
     * check are made again on the new revision.
     */
    Result apply(ObjectId id, Function<Order, OrderTransition> choose) {
        Order current = null;
        for (int round = 0; round < MAX_ROUNDS; round++) {
            current = findById(id).orElse(null);
            OrderTransition transition = current == null ? null : choose.apply(current);
            if (transition == null || !transition.allows(current)) {
                return new Result(current, false);
            }
            Update update = transition.update().set(REV, current.nextRev());
            Document updated = mongo.findAndModify(new BasicQuery(new Document(REV, current.rev())), update,
                    FindAndModifyOptions.options().returnNew(true), Document.class, COLLECTION);
            if (updated != null) {
                durability.sync();
                return new Result(Order.fromDocument(updated), true);
            }
        }
        // Lost the compare-and-set every round: others keep changing this order, so ours is stale.
        return new Result(current, false);
    }

    public Optional<Order> findById(ObjectId id) {
        return Optional.ofNullable(mongo.findById(id, Document.class, COLLECTION)).map(Order::fromDocument);
    }

    public Optional<Order> findByJobId(String jobId) {
        Document found = mongo.findOne(new BasicQuery(new Document(JOB_ID, jobId)), Document.class, COLLECTION);
        return Optional.ofNullable(found).map(Order::fromDocument);
    }

    /**
     * The orders with these ids, in the order given; ids with no order, and orders this Boss cannot read
     * (logged), are left out: one odd document must not break a whole page of a listing.
     */
    List<Order> findAll(List<ObjectId> ids) {
        Map<ObjectId, Order> found = new LinkedHashMap<>();
        ids.forEach(id -> found.put(id, null));
        for (Document d : mongo.find(Query.query(Criteria.where(ID).in(ids)), Document.class, COLLECTION)) {
            try {
                found.put(d.getObjectId(ID), Order.fromDocument(d));
            } catch (RuntimeException e) {
                log.error("unreadable order left out of a listing order={} error={}", d.get(ID), e.toString());
            }
        }
        return found.values().stream().filter(java.util.Objects::nonNull).toList();
    }

    /**
     * Streams every order, without history and progress, to rebuild memory at start-up. A document
     * that cannot be read as an order is logged and skipped, never fatal.
     */
    int forEach(Consumer<Order> sink) {
        return stream(new Query(), sink);
    }

    /** Orders written at or after {@code since}, for the incremental resync of a replica. */
    int forEachModifiedSince(Instant since, Consumer<Order> sink) {
        return stream(Query.query(Criteria.where(MODIFIED_AT).gte(Date.from(since))), sink);
    }

    /** The live orders' ids and revisions, for the reconcile that finds what other replicas finished. */
    Map<ObjectId, Long> findLiveRevisions() {
        Query query = Query.query(Criteria.where(STATUS).in(
                OrderStatus.UNASSIGNED.wire(), OrderStatus.ASSIGNED.wire(), OrderStatus.RUNNING.wire()));
        query.fields().include(ID).include(REV);
        Map<ObjectId, Long> live = new LinkedHashMap<>();
        for (Document d : mongo.find(query, Document.class, COLLECTION)) {
            // An order loading skipped as unreadable is skipped here too, or every resync would fail on it.
            if (d.get(ID) instanceof ObjectId id && d.get(REV) instanceof String rev) {
                try {
                    live.put(id, Order.revisionOf(rev));
                } catch (RuntimeException unreadable) {
                    log.debug("unreadable revision skipped order={} rev={}", id, rev);
                }
            }
        }
        return live;
    }

    /** One order as the audit sees it: its id, revision (-1 if unreadable) and when it was last written (or null). */
    record Stamp(ObjectId id, long revision, Instant modifiedAt) {
    }

    /**
     * Every order's id, revision and modification time, for the audit's comparison with memory.
     * Returns how many documents it had to leave out because they cannot be read as orders.
     */
    int forEachStamp(Consumer<Stamp> sink) {
        Query query = new Query();
        query.fields().include(ID).include(REV).include(MODIFIED_AT);
        int unreadable = 0;
        try (var documents = mongo.stream(query, Document.class, COLLECTION)) {
            for (Document d : (Iterable<Document>) documents::iterator) {
                if (!(d.get(ID) instanceof ObjectId id)) {
                    unreadable++;
                    continue;
                }
                // An order is reported whatever else is odd about it: the audit forgets what the store
                // does not report, and memory may hold an order whose modifiedAt was written by hand.
                long revision = -1;
                try {
                    revision = Order.revisionOf(d.get(REV) instanceof String rev ? rev : null);
                } catch (RuntimeException e) {
                    unreadable++;
                }
                sink.accept(new Stamp(id, revision, d.get(MODIFIED_AT) instanceof Date at ? at.toInstant() : null));
            }
        }
        return unreadable;
    }

    private int stream(Query query, Consumer<Order> sink) {
        query.fields().exclude(NOT_MIRRORED);
        int[] count = {0};
        try (var documents = mongo.stream(query, Document.class, COLLECTION)) {
            documents.forEach(d -> {
                Order order;
                try {
                    order = Order.fromDocument(d);
                    order.revision();
                } catch (RuntimeException e) {
                    log.error("unreadable order skipped order={} error={}", d.get(ID), e.toString());
                    return;
                }
                sink.accept(order);
                count[0]++;
            });
        }
        return count[0];
    }

    /** How many orders the store holds in each status: the audit compares this with memory's counters. */
    Map<OrderStatus, Long> countByStatus() {
        Map<OrderStatus, Long> counts = new java.util.EnumMap<>(OrderStatus.class);
        for (OrderStatus status : OrderStatus.values()) {
            counts.put(status, mongo.count(Query.query(Criteria.where(STATUS).is(status.wire())), COLLECTION));
        }
        return counts;
    }
}
