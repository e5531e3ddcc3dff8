package com.maddatum.boss.idempotency;

import com.maddatum.boss.store.StoreDurability;
import com.mongodb.client.model.Filters;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.Optional;
import org.bson.Document;
import org.springframework.dao.DuplicateKeyException;
import org.springframework.data.domain.Sort;
import org.springframework.data.mongodb.core.MongoTemplate;
import org.springframework.data.mongodb.core.index.Index;
import org.springframework.data.mongodb.core.index.IndexOperations;
import org.springframework.data.mongodb.core.query.BasicQuery;
import org.springframework.data.mongodb.core.query.Criteria;
import org.springframework.data.mongodb.core.query.Query;
import org.springframework.stereotype.Component;

/**
 * The {@code idempotency_keys} collection. A first request is admitted by the unique {@code _id}
 * alone (an insert that fails on a duplicate is a repeat, never a check followed by an insert), and
 * every later change is a compare-and-set on {@code rev}, as orders' are.
 */
@Component
class IdempotencyStore {

    static final String COLLECTION = "idempotency_keys";

    private final MongoTemplate mongo;
    private final StoreDurability durability;

    IdempotencyStore(MongoTemplate mongo, StoreDurability durability) {
        this.mongo = mongo;
        this.durability = durability;
        createIndexes();
    }

    private void createIndexes() {
        IndexOperations ops = mongo.indexOps(COLLECTION);
        // replace()/delete(): every change is conditional on rev alone. Unique and a single key, so it is an
        // index lookup on the embedded server too (which scans for a filter like {_id, state}).
        ops.createIndex(new Index().on(KeyRecord.REV, Sort.Direction.ASC).unique().named("compareAndSet_rev_unique"));
        if (!durability.isEmbedded()) {
            // Keys past keep-for: MongoDB deletes them itself. The embedded server has no TTL, so
            // ExpiredKeyPurge deletes them there (and here too, should the TTL monitor lag).
            ops.createIndex(new Index().on(KeyRecord.EXPIRES_AT, Sort.Direction.ASC).expire(Duration.ZERO)
                    .named("expireKeys_expiresAt_ttl"));
        }
    }

    /** False when the key is already stored: the request is a repeat. */
    boolean insert(KeyRecord record) {
        try {
            mongo.insert(record.toDocument(), COLLECTION);
        } catch (DuplicateKeyException repeat) {
            return false;
        }
        durability.sync();
        return true;
    }

    Optional<KeyRecord> find(String id) {
        return Optional.ofNullable(mongo.findById(id, Document.class, COLLECTION)).map(KeyRecord::fromDocument);
    }

    /** Writes {@code next} if the stored record is still at {@code expectedRev}; false when another writer came first. */
    boolean replace(String expectedRev, KeyRecord next) {
        long matched = mongo.execute(COLLECTION, keys -> keys.replaceOne(Filters.eq(KeyRecord.REV, expectedRev),
                next.toDocument()).getMatchedCount());
        if (matched == 1) {
            durability.sync();
        }
        return matched == 1;
    }

    boolean delete(String expectedRev) {
        long deleted = mongo.remove(new BasicQuery(new Document(KeyRecord.REV, expectedRev)), COLLECTION).getDeletedCount();
        if (deleted == 1) {
            durability.sync();
        }
        return deleted == 1;
    }

    /** Deletes the keys whose time is up. A scan on the embedded server, which is why it runs only now and then. */
    long deleteExpired(Instant now) {
        long deleted = mongo.remove(Query.query(Criteria.where(KeyRecord.EXPIRES_AT).lte(Date.from(now))), COLLECTION)
                .getDeletedCount();
        if (deleted > 0) {
            durability.sync();
        }
        return deleted;
    }
}
