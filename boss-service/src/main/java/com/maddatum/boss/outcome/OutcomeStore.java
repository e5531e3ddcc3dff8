package com.maddatum.boss.outcome;

import com.maddatum.boss.store.StoreDurability;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import org.bson.Document;
import org.bson.types.ObjectId;
import org.springframework.dao.DuplicateKeyException;
import org.springframework.data.domain.Sort;
import org.springframework.data.mongodb.core.MongoTemplate;
import org.springframework.data.mongodb.core.index.Index;
import org.springframework.data.mongodb.core.index.IndexOperations;
import org.springframework.data.mongodb.core.query.BasicQuery;
import org.springframework.data.mongodb.core.query.Criteria;
import org.springframework.data.mongodb.core.query.Query;
import org.springframework.context.annotation.DependsOn;
import org.springframework.stereotype.Component;

/**
 * The {@code outcomes} collection: at most one outcome per attempt of an order. The job's outcome is
 * the one its order points at ({@code outcomeId}); an outcome a stale attempt sent is kept but never
 * shown as the job's.
 */
@Component
// After StoreMigrations: the seed's outcomes have no order and attempt until it gives them one, and the
// unique index below could not be built.
@DependsOn("storeMigrations")
public class OutcomeStore {

    static final String COLLECTION = "outcomes";

    private final MongoTemplate mongo;
    private final StoreDurability durability;

    OutcomeStore(MongoTemplate mongo, StoreDurability durability) {
        this.mongo = mongo;
        this.durability = durability;
        IndexOperations ops = mongo.indexOps(COLLECTION);
        // save(): a repeated callback for the same attempt finds the outcome already written. Unique,
        // and the lookup after a duplicate uses exactly its keys, so the embedded server uses it too.
        ops.createIndex(new Index().on("orderId", Sort.Direction.ASC).on("attempt", Sort.Direction.ASC).unique()
                .named("byOrderAttempt_unique"));
    }

    /** An attempt's outcome as stored: its id, and the loss it carries (the order copies that one). */
    /** The outcome that stands for an attempt: its id, its loss, the status its script reported, and why. */
    record Saved(ObjectId id, Double loss, int status, String reason) {
        boolean ok() {
            return status == 200;
        }

        static Saved of(Document stored) {
            int status = stored.get("status") instanceof Number n ? n.intValue() : 500;
            return new Saved(stored.getObjectId("_id"), stored.get("loss") instanceof Number n ? n.doubleValue() : null,
                    status, OutcomeReport.reasonOf(status, stored.get("error") instanceof Document e ? e : null));
        }
    }

    /** The outcome already stored for this attempt, if any. */
    Optional<Saved> standing(ObjectId orderId, int attempt) {
        return Optional.ofNullable(mongo.findOne(new BasicQuery(new Document("orderId", orderId)
                .append("attempt", attempt)), Document.class, COLLECTION)).map(Saved::of);
    }

    /**
     * Writes the outcome of one attempt, durably; when that attempt's outcome is already stored (the
     * worker did not hear our answer and called back again), the first one stands, even if the repeat
     * says something else, and that is what this returns.
     */
    Saved save(Document outcome) {
        Document stored = outcome;
        try {
            mongo.insert(outcome, COLLECTION);
        } catch (DuplicateKeyException repeated) {
            stored = mongo.findOne(new BasicQuery(new Document("orderId", outcome.get("orderId"))
                    .append("attempt", outcome.get("attempt"))), Document.class, COLLECTION);
            if (stored == null) {
                throw repeated;
            }
        }
        // Also after a duplicate: the first writer may have died between its insert and its commit.
        durability.sync();
        return Saved.of(stored);
    }

    public Optional<Document> findById(ObjectId id) {
        return Optional.ofNullable(mongo.findById(id, Document.class, COLLECTION));
    }

    /**
     * id -> those fields of the outcome, for the ids that exist. Listings name their fields: an outcome
     * carries up to 64 KiB of log tail that a leaderboard does not show.
     */
    public Map<ObjectId, Document> findAll(Collection<ObjectId> ids, String... fields) {
        Map<ObjectId, Document> found = new LinkedHashMap<>();
        if (ids.isEmpty()) {
            return found;
        }
        Query query = Query.query(Criteria.where("_id").in(ids));
        query.fields().include(fields);
        mongo.find(query, Document.class, COLLECTION).forEach(outcome -> found.put(outcome.getObjectId("_id"), outcome));
        return found;
    }
}
