package com.maddatum.boss.artifact;

import com.maddatum.boss.store.StoreDurability;
import java.time.Instant;
import java.util.Comparator;
import java.util.Date;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.bson.Document;
import org.springframework.dao.DuplicateKeyException;
import org.springframework.data.domain.Sort;
import org.springframework.data.mongodb.core.MongoTemplate;
import org.springframework.data.mongodb.core.index.Index;
import org.springframework.data.mongodb.core.index.IndexOperations;
import org.springframework.data.mongodb.core.query.BasicQuery;
import org.springframework.data.mongodb.core.query.Criteria;
import org.springframework.data.mongodb.core.query.Query;
import org.springframework.data.mongodb.core.query.Update;
import org.springframework.stereotype.Component;

/**
 * The {@code artifacts} collection, one document per name per job ({@link ArtifactRecord}), whose {@code _id}
 * is made of the job and the name, so {@link #find} is an {@code _id} lookup on either store. The other
 * queries have indexes on a real MongoDB; the embedded server ignores non-unique indexes and scans this
 * collection for them (a few documents per finished job).
 */
@Component
class ArtifactStore {

    static final String COLLECTION = "artifacts";

    private final MongoTemplate mongo;
    private final StoreDurability durability;

    ArtifactStore(MongoTemplate mongo, StoreDurability durability) {
        this.mongo = mongo;
        this.durability = durability;
        if (durability.isEmbedded()) {
            // The embedded server would not use them, yet rebuilds each one it has stored every time it opens its
            // file (see OrderStore): only a real MongoDB gets them.
            return;
        }
        IndexOperations ops = mongo.indexOps(COLLECTION);
        // ofJob(): GET /jobs/{id}/artifacts and a model's inputs at submit.
        ops.createIndex(new Index().on(ArtifactRecord.JOB_ID, Sort.Direction.ASC).named("byJob"));
        // prune(): marks one job's stored artifacts.
        ops.createIndex(new Index().on(ArtifactRecord.JOB_ID, Sort.Direction.ASC)
                .on(ArtifactRecord.PRUNED, Sort.Direction.ASC).named("byJob_pruned"));
        // keptIn(): the retention sweep after an outcome, one project's unpruned artifacts.
        ops.createIndex(new Index().on(ArtifactRecord.PROJECT_NAME, Sort.Direction.ASC)
                .on(ArtifactRecord.PRUNED, Sort.Direction.ASC).named("byProject_pruned"));
        // kept(): the scheduled sweep and the blobs artifacts still refer to.
        ops.createIndex(new Index().on(ArtifactRecord.PRUNED, Sort.Direction.ASC).named("byPruned"));
        // isArtifact(): a job's own inputs at submit, which must be artifacts.
        ops.createIndex(new Index().on(ArtifactRecord.SHA256, Sort.Direction.ASC).named("bySha256"));
    }

    /**
     * Records one name of a job's artifacts unless it is recorded already (a re-delivered outcome, or two
     * entries of one outcome with the same name): the first record stands. True when this one was written.
     */
    boolean insertIfAbsent(Document artifact) {
        try {
            mongo.insert(artifact, COLLECTION);
            return true;
        } catch (DuplicateKeyException recordedBefore) {
            return false;
        }
    }

    /** After a batch of writes, before the Boss answers the callback that made them. */
    void sync() {
        durability.sync();
    }

    /** The job's artifacts and skipped files, by name. */
    List<ArtifactRecord> ofJob(String jobId) {
        return mongo.find(new BasicQuery(new Document(ArtifactRecord.JOB_ID, jobId)), Document.class, COLLECTION)
                .stream().map(ArtifactRecord::of).sorted(Comparator.comparing(ArtifactRecord::name)).toList();
    }

    /** Whether these bytes are a file a job's script left (recorded from an accepted outcome, not skipped). */
    boolean isArtifact(String sha256) {
        Query query = new BasicQuery(new Document(ArtifactRecord.SHA256, sha256)
                .append(ArtifactRecord.SKIPPED, new Document("$ne", true))).limit(1);
        query.fields().include(ArtifactRecord.ID);
        return mongo.exists(query, COLLECTION);
    }

    Optional<ArtifactRecord> find(String jobId, String name) {
        return Optional.ofNullable(mongo.findById(ArtifactRecord.id(jobId, name), Document.class, COLLECTION))
                .map(ArtifactRecord::of);
    }

    /** The project's stored artifacts not pruned yet; {@code project} null: those of jobs without a project. */
    List<ArtifactRecord> keptIn(String project) {
        return mongo.find(new BasicQuery(new Document(ArtifactRecord.PROJECT_NAME, project)
                .append(ArtifactRecord.PRUNED, false)), Document.class, COLLECTION).stream()
                .map(ArtifactRecord::of).toList();
    }

    /** Every stored artifact not pruned yet. */
    List<ArtifactRecord> kept() {
        return mongo.find(new BasicQuery(new Document(ArtifactRecord.PRUNED, false)), Document.class, COLLECTION)
                .stream().map(ArtifactRecord::of).toList();
    }

    /** The blobs of every stored artifact not pruned yet. */
    Set<String> keptHashes() {
        Query query = new BasicQuery(new Document(ArtifactRecord.PRUNED, false));
        query.fields().include(ArtifactRecord.SHA256);
        Set<String> hashes = new HashSet<>();
        mongo.find(query, Document.class, COLLECTION).forEach(d -> hashes.add(d.getString(ArtifactRecord.SHA256)));
        return hashes;
    }

    /**
     * Marks the job's stored artifacts pruned, with when and why, unless they are already: run twice (two
     * sweeps, two replicas) it changes nothing the second time. Returns how many it marked.
     */
    long prune(String jobId, Instant at, String reason) {
        long marked = mongo.updateMulti(Query.query(Criteria.where(ArtifactRecord.JOB_ID).is(jobId)
                        .and(ArtifactRecord.PRUNED).is(false)),
                new Update().set(ArtifactRecord.PRUNED, true).set(ArtifactRecord.PRUNED_AT, Date.from(at))
                        .set(ArtifactRecord.PRUNED_REASON, reason), COLLECTION).getModifiedCount();
        if (marked > 0) {
            durability.sync();
        }
        return marked;
    }
}
