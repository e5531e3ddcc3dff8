package com.maddatum.boss.job;

import com.maddatum.boss.store.StoreDurability;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import org.bson.Document;
import org.bson.types.ObjectId;
import org.springframework.dao.DuplicateKeyException;
import org.springframework.data.mongodb.core.MongoTemplate;
import org.springframework.data.mongodb.core.query.Criteria;
import org.springframework.data.mongodb.core.query.Query;
import org.springframework.data.mongodb.core.query.Update;
import org.springframework.stereotype.Component;

/**
 * The {@code jobs} collection: each job is stored as submitted, plus {@code _id}, its seed and the
 * links between reruns (see {@link JobService}). Every lookup and update is by {@code _id}, so no
 * other index is needed.
 */
@Component
public class JobStore {

    static final String COLLECTION = "jobs";

    private final MongoTemplate mongo;
    private final StoreDurability durability;

    JobStore(MongoTemplate mongo, StoreDurability durability) {
        this.mongo = mongo;
        this.durability = durability;
    }

    /**
     * Stores the job under an id its creator chose; false when a job with that id is already stored
     * (an earlier try of the same creation, which the unique {@code _id} lets in only once).
     */
    boolean insert(ObjectId id, Document job) {
        // _id first, as MongoDB would put it, then the fields in the order they were sent.
        Document stored = new Document("_id", id);
        stored.putAll(job);
        try {
            mongo.insert(stored, COLLECTION);
        } catch (DuplicateKeyException alreadyStored) {
            return false;
        }
        durability.sync();
        return true;
    }

    /**
     * Records a rerun in the original job, atomically, so that two reruns at once are both kept; and once,
     * so that a retry of the same rerun (same id) adds nothing.
     */
    void addRerun(ObjectId original, String rerunId) {
        mongo.updateFirst(Query.query(Criteria.where("_id").is(original)), new Update().addToSet("reruns", rerunId),
                COLLECTION);
        durability.sync();
    }

    public Optional<Document> findById(ObjectId id) {
        return Optional.ofNullable(mongo.findById(id, Document.class, COLLECTION));
    }

    /** id (hex) -> those of the jobs' {@code fields} they have (and {@code _id}), read by {@code _id}. */
    Map<String, Document> fieldsOf(Collection<String> ids, Collection<String> fields) {
        var objectIds = ids.stream().filter(ObjectId::isValid).map(ObjectId::new).toList();
        Query query = Query.query(Criteria.where("_id").in(objectIds));
        fields.forEach(query.fields()::include);
        Map<String, Document> found = new LinkedHashMap<>();
        mongo.find(query, Document.class, COLLECTION)
                .forEach(job -> found.put(job.getObjectId("_id").toHexString(), job));
        return found;
    }

    /** id (hex) -> job, for listings that join jobs to their orders or outcomes. */
    public Map<String, Document> findAll(Collection<String> ids) {
        var objectIds = ids.stream().filter(ObjectId::isValid).map(ObjectId::new).toList();
        Map<String, Document> found = new LinkedHashMap<>();
        mongo.find(Query.query(Criteria.where("_id").in(objectIds)), Document.class, COLLECTION)
                .forEach(job -> found.put(job.getObjectId("_id").toHexString(), job));
        return found;
    }
}
