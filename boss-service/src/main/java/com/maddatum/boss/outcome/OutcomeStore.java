package com.maddatum.boss.outcome;

import com.maddatum.boss.store.StoreDurability;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.bson.Document;
import org.bson.types.ObjectId;
import org.springframework.data.domain.Sort;
import org.springframework.data.mongodb.core.MongoTemplate;
import org.springframework.data.mongodb.core.index.Index;
import org.springframework.data.mongodb.core.index.IndexOperations;
import org.springframework.data.mongodb.core.query.BasicQuery;
import org.springframework.data.mongodb.core.query.Criteria;
import org.springframework.data.mongodb.core.query.Query;
import org.springframework.data.mongodb.core.query.Update;
import org.springframework.stereotype.Component;

/** The {@code outcomes} collection: at most one outcome per order, and so per job. */
@Component
class OutcomeStore {

    static final String COLLECTION = "outcomes";

    private final MongoTemplate mongo;
    private final StoreDurability durability;

    OutcomeStore(MongoTemplate mongo, StoreDurability durability) {
        this.mongo = mongo;
        this.durability = durability;
        IndexOperations ops = mongo.indexOps(COLLECTION);
        // findByJobId: GET /retrieve/outcome/{jobId}, GET /jobs/{id}. Unique: one outcome per job,
        // and the embedded server only uses unique indexes for lookups.
        ops.createIndex(new Index().on("jobId", Sort.Direction.ASC).unique().named("byJobId_unique"));
        // leaderboard(project): GET /projects/{name}/leaderboard. Real MongoDB only: the embedded server
        // ignores non-unique indexes and would rebuild it on every start (see OrderStore).
        if (!durability.isEmbedded()) {
            ops.createIndex(new Index().on("projectName", Sort.Direction.ASC).on("status", Sort.Direction.ASC)
                    .on("loss", Sort.Direction.ASC).named("leaderboard_projectName_status_loss"));
        }
    }

    /**
     * Writes the outcome under the id its order already points at. Insert-if-absent, so a
     * repeated callback (the worker did not hear our 200) stores nothing twice.
     */
    void putIfAbsent(Document outcome) {
        Update update = new Update();
        outcome.forEach((key, value) -> {
            if (!key.equals("_id")) {
                update.setOnInsert(key, value);
            }
        });
        mongo.upsert(Query.query(Criteria.where("_id").is(outcome.getObjectId("_id"))), update, COLLECTION);
        durability.sync();
    }

    Optional<Document> findById(ObjectId id) {
        return Optional.ofNullable(mongo.findById(id, Document.class, COLLECTION));
    }

    Optional<Document> findByJobId(String jobId) {
        return Optional.ofNullable(mongo.findOne(new BasicQuery(new Document("jobId", jobId)), Document.class,
                COLLECTION));
    }

    /** A project's successful outcomes in the order they arrived (oldest first), at most {@code limit}. */
    List<Document> history(String project, int limit) {
        Query query = Query.query(Criteria.where("projectName").is(project).and("status").is(200))
                .with(Sort.by(Sort.Direction.ASC, "receivedAt")).limit(limit);
        return mongo.find(query, Document.class, COLLECTION);
    }

    /** node -> [succeeded, failed] outcome counts. */
    Map<String, long[]> countsByNode() {
        Map<String, long[]> counts = new HashMap<>();
        for (Document outcome : mongo.find(queryNodeAndStatus(),
                Document.class, COLLECTION)) {
            String node = outcome.getString("node");
            if (node != null) {
                long[] pair = counts.computeIfAbsent(node, n -> new long[2]);
                pair[Integer.valueOf(200).equals(outcome.get("status")) ? 0 : 1]++;
            }
        }
        return counts;
    }

    private static Query queryNodeAndStatus() {
        Query query = new Query();
        query.fields().include("node").include("status");
        return query;
    }

    /** Successful outcomes of a project with a loss, best (lowest) first. */
    List<Document> leaderboard(String project, int limit) {
        Query query = Query.query(Criteria.where("projectName").is(project).and("status").is(200)
                        .and("loss").ne(null))
                .with(Sort.by(Sort.Direction.ASC, "loss")).limit(limit);
        return mongo.find(query, Document.class, COLLECTION);
    }
}
