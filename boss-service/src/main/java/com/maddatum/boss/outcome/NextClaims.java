package com.maddatum.boss.outcome;

import com.maddatum.boss.config.BossProperties;
import com.maddatum.boss.store.StoreDurability;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.Optional;
import org.bson.Document;
import org.bson.types.ObjectId;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.dao.DuplicateKeyException;
import org.springframework.data.domain.Sort;
import org.springframework.data.mongodb.core.MongoTemplate;
import org.springframework.data.mongodb.core.index.Index;
import org.springframework.data.mongodb.core.query.Criteria;
import org.springframework.data.mongodb.core.query.Query;
import org.springframework.scheduling.annotation.Scheduled;
import org.springframework.stereotype.Component;

/**
 * Which order a callback claimed for its Worker ({@code POST /callback?next=true}), one document per
 * (order, attempt) in {@code nextClaims}, so that a repeat of that callback (its answer was lost) finds the
 * claim the Worker never heard of: to answer it again, or to put it back. Both sides insert under the same
 * {@code _id}, and only the first insert lands: a repeat that comes first {@linkplain #seal seals} the key,
 * and the first call's {@linkplain #link link} then fails, so that call puts its claim back itself. Either
 * way, no claim waits out its lease because an answer went astray.
 *
 * <p>A link is needed only while its claim could still be unheard: until the claim's lease ends, the order is
 * started or reaped. Links are kept for twice {@code boss.lease.timeout}, then purged. Each link carries its own
 * {@code expiresAt} under a TTL of zero, so a changed lease timeout never conflicts with the index a replica
 * with the old setting created (MongoDB refuses a second {@code expireAfterSeconds} under the same name).
 */
@Component
class NextClaims {

    private static final Logger log = LoggerFactory.getLogger(NextClaims.class);
    static final String COLLECTION = "nextClaims";
    static final String NEXT = "next";
    static final String NEXT_ATTEMPT = "nextAttempt";
    static final String AT = "at";
    static final String EXPIRES_AT = "expiresAt";
    /** The first release's TTL index, on {@link #AT}: dropped where it is found. */
    private static final String OLD_TTL = "purgeLinks_at_ttl";

    private final MongoTemplate mongo;
    private final StoreDurability durability;
    private final Clock clock;
    private final Duration keepFor;

    NextClaims(MongoTemplate mongo, StoreDurability durability, Clock clock, BossProperties properties) {
        this.mongo = mongo;
        this.durability = durability;
        this.clock = clock;
        this.keepFor = properties.lease().timeout().multipliedBy(2);
        if (!durability.isEmbedded()) {
            // purge(): MongoDB deletes old links itself; the embedded server has no TTL, so purge() scans there.
            mongo.indexOps(COLLECTION).createIndex(new Index().on(EXPIRES_AT, Sort.Direction.ASC)
                    .expire(Duration.ZERO).named("purgeLinks_expiresAt_ttl"));
            // The first release's TTL on "at" (twice the lease timeout of whichever replica made it): it would
            // go on deleting links early after the lease timeout was raised.
            if (mongo.indexOps(COLLECTION).getIndexInfo().stream().anyMatch(i -> OLD_TTL.equals(i.getName()))) {
                try {
                    mongo.indexOps(COLLECTION).dropIndex(OLD_TTL);
                } catch (RuntimeException droppedByAnotherReplica) {
                    log.info("old TTL index of nextClaims not dropped here error={}", droppedByAnotherReplica.toString());
                }
            }
        }
    }

    /** The claim a callback made: the next order and its attempt, or none. */
    record Link(ObjectId next, int nextAttempt) {}

    static String key(ObjectId orderId, int attempt) {
        return orderId.toHexString() + ":" + attempt;
    }

    /** Records that the callback of {@code key} claimed {@code next}; false when a repeat sealed the key first. */
    boolean link(String key, ObjectId next, int nextAttempt) {
        return insert(new Document("_id", key).append(NEXT, next).append(NEXT_ATTEMPT, nextAttempt));
    }

    /**
     * For a repeated callback: the claim its first call linked, if any. Seals the key when there is none, so
     * a first call still under way can no longer link one (it puts its claim back instead).
     */
    Optional<Link> seal(String key) {
        if (insert(new Document("_id", key).append(NEXT, null))) {
            return Optional.empty();
        }
        Document stored = mongo.findById(key, Document.class, COLLECTION);
        return stored == null || stored.getObjectId(NEXT) == null ? Optional.empty()
                : Optional.of(new Link(stored.getObjectId(NEXT), stored.getInteger(NEXT_ATTEMPT, 0)));
    }

    private boolean insert(Document link) {
        try {
            Instant now = clock.instant();
            mongo.insert(link.append(AT, Date.from(now)).append(EXPIRES_AT, Date.from(now.plus(keepFor))), COLLECTION);
        } catch (DuplicateKeyException taken) {
            return false;
        }
        // A Boss that dies after answering must still find the link when the Worker repeats the callback.
        durability.sync();
        return true;
    }

    /** Deletes links older than their use. A scan on the embedded server, which is why it runs only now and then. */
    @Scheduled(fixedDelayString = "PT5M", initialDelayString = "PT1M")
    long purge() {
        Instant now = clock.instant();
        long deleted = mongo.remove(Query.query(new Criteria().orOperator(Criteria.where(EXPIRES_AT).lte(Date.from(now)),
                // written by the first release, which kept no expiresAt
                Criteria.where(EXPIRES_AT).exists(false).and(AT).lte(Date.from(now.minus(keepFor))))),
                COLLECTION).getDeletedCount();
        if (deleted > 0) {
            durability.sync();
            log.debug("next-claim links purged count={}", deleted);
        }
        return deleted;
    }
}
