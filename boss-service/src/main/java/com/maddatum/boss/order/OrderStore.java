package com.maddatum.boss.order;

import static com.maddatum.boss.order.Order.*;

import com.maddatum.boss.store.StoreDurability;
import java.time.Instant;
import java.util.Collection;
import java.util.List;
import java.util.Optional;
import org.bson.Document;
import org.bson.types.ObjectId;
import org.springframework.data.domain.Sort;
import org.springframework.data.mongodb.core.FindAndModifyOptions;
import org.springframework.data.mongodb.core.MongoTemplate;
import org.springframework.data.mongodb.core.index.Index;
import org.springframework.data.mongodb.core.index.IndexOperations;
import org.springframework.data.mongodb.core.query.BasicQuery;
import org.springframework.data.mongodb.core.query.Criteria;
import org.springframework.data.mongodb.core.query.Query;
import org.springframework.data.mongodb.core.query.Update;
import org.springframework.stereotype.Component;

/** The {@code orders} collection. Every state change goes through {@link #apply}. */
@Component
public class OrderStore {

    static final String COLLECTION = "orders";
    private static final int MAX_ROUNDS = 8;

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
        // findByJobId: bare seed callbacks, GET /jobs/{id}, cancel. Unique: a job has exactly one
        // order, and unique indexes are the only ones the embedded server uses for lookups.
        ops.createIndex(new Index().on(JOB_ID, Sort.Direction.ASC).unique().named("byJobId_unique"));
        if (durability.isEmbedded()) {
            // The embedded server ignores non-unique indexes, yet rebuilds every one it has stored each
            // time it opens its file: about 5 s per index with 100k orders. Only real MongoDB gets them.
            return;
        }
        // findByStatus(UNASSIGNED) in StoreSync: rebuilds the ready index in claim order.
        ops.createIndex(new Index().on(STATUS, Sort.Direction.ASC).on(PRIORITY, Sort.Direction.DESC)
                .on(CREATED_DATE, Sort.Direction.ASC).named("readySync_status_priority_createdDate"));
        // findByStatus(ASSIGNED, RUNNING) in StoreSync: reloads leases for the reaper.
        ops.createIndex(new Index().on(STATUS, Sort.Direction.ASC).on(LEASE_EXPIRES_AT, Sort.Direction.ASC)
                .named("leaseSync_status_leaseExpiresAt"));
        // page(project, status): GET /jobs?project=&status=.
        ops.createIndex(new Index().on(PROJECT_NAME, Sort.Direction.ASC).on(STATUS, Sort.Direction.ASC)
                .on(CREATED_DATE, Sort.Direction.DESC).named("jobsList_projectName_status_createdDate"));
        // page(null, status) and page(null, null): GET /jobs?status=, GET /retrieve/order.
        ops.createIndex(new Index().on(STATUS, Sort.Direction.ASC).on(CREATED_DATE, Sort.Direction.DESC)
                .named("jobsList_status_createdDate"));
        ops.createIndex(new Index().on(CREATED_DATE, Sort.Direction.DESC).named("ordersList_createdDate"));
    }

    Order insert(NewOrder spec, Instant now) {
        Document document = Order.newDocument(new ObjectId(), spec, now);
        mongo.insert(document, COLLECTION);
        durability.sync();
        return Order.fromDocument(document);
    }

    /**
     * Applies the transition if the order is as it expects; empty when it is not (a normal miss).
     * The write is conditional on the revision that was checked, so nothing can slip in between;
     * if another writer did change the order first, the check is made again on the new revision.
     */
    Optional<Order> apply(ObjectId id, OrderTransition transition) {
        for (int round = 0; round < MAX_ROUNDS; round++) {
            Optional<Order> current = findById(id);
            if (current.isEmpty() || !transition.allows(current.get())) {
                return Optional.empty();
            }
            Update update = transition.update().set(REV, current.get().nextRev());
            Document updated = mongo.findAndModify(new BasicQuery(new Document(REV, current.get().rev())), update,
                    FindAndModifyOptions.options().returnNew(true), Document.class, COLLECTION);
            if (updated != null) {
                durability.sync();
                return Optional.of(Order.fromDocument(updated));
            }
        }
        // Lost the compare-and-set every round: others keep changing this order, so ours is stale.
        return Optional.empty();
    }

    public Optional<Order> findById(ObjectId id) {
        return Optional.ofNullable(mongo.findById(id, Document.class, COLLECTION)).map(Order::fromDocument);
    }

    public Optional<Order> findByJobId(String jobId) {
        Document found = mongo.findOne(new BasicQuery(new Document(JOB_ID, jobId)), Document.class, COLLECTION);
        return Optional.ofNullable(found).map(Order::fromDocument);
    }

    List<Order> findByStatus(Collection<OrderStatus> statuses) {
        Query query = Query.query(Criteria.where(STATUS).in(statuses.stream().map(OrderStatus::wire).toList()));
        return mongo.find(query, Document.class, COLLECTION).stream().map(Order::fromDocument).toList();
    }

    /** Newest first; {@code project} and {@code status} filter when given. */
    public List<Order> page(String project, OrderStatus status, int page, int size) {
        Query query = listing(project, status).with(Sort.by(Sort.Direction.DESC, CREATED_DATE))
                .skip((long) page * size).limit(size);
        return mongo.find(query, Document.class, COLLECTION).stream().map(Order::fromDocument).toList();
    }

    List<String> projects() {
        return mongo.findDistinct(new Query(), PROJECT_NAME, COLLECTION, String.class).stream()
                .filter(java.util.Objects::nonNull).sorted().toList();
    }

    public long count(String project, OrderStatus status) {
        return mongo.count(listing(project, status), COLLECTION);
    }

    private static Query listing(String project, OrderStatus status) {
        Criteria criteria = new Criteria();
        if (project != null) {
            criteria.and(PROJECT_NAME).is(project);
        }
        if (status != null) {
            criteria.and(STATUS).is(status.wire());
        }
        return Query.query(criteria);
    }
}
