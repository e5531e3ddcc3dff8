package com.maddatum.boss.idempotency;

import com.maddatum.boss.config.BossProperties;
import java.time.Instant;
import java.util.Date;
import org.bson.Document;
import org.bson.types.ObjectId;

/**
 * One key of one caller, as stored in {@code idempotency_keys}: pending while its first request runs,
 * done once that request's answer is stored.
 *
 * @param id the caller's scope and the key: the unique {@code _id} that admits one first request
 * @param resourceId the id the creation runs under, chosen before it starts, so every retry finishes the
 *     same creation
 * @param rev replaced on every write; writes are conditional on it, as orders' are
 * @param heldUntil while pending, until when its current runner holds it; after that a retry takes it over
 *     (the runner's Boss died, or the runner failed and let it go)
 * @param answer the stored answer, once done
 */
record KeyRecord(String id, String scope, String key, String requestHash, ObjectId resourceId, String rev,
        Instant heldUntil, Instant createdAt, Instant expiresAt, StoredAnswer answer) {

    static final String ID = "_id";
    static final String REV = "rev";
    static final String EXPIRES_AT = "expiresAt";

    static KeyRecord pending(String scope, String key, String requestHash, Instant now,
            BossProperties.Idempotency settings) {
        return new KeyRecord(scope + ":" + key, scope, key, requestHash, new ObjectId(), newRev(),
                now.plus(settings.takeOverAfter()), now, now.plus(settings.keepFor()), null);
    }

    /** The same key and request, started afresh: a new resource id, as if never sent. */
    KeyRecord restarted(Instant now, BossProperties.Idempotency settings) {
        return pending(scope, key, requestHash, now, settings);
    }

    /** Held by a new runner, which finishes the creation under the same resource id. */
    KeyRecord takenOver(Instant now, BossProperties.Idempotency settings) {
        return new KeyRecord(id, scope, key, requestHash, resourceId, newRev(), now.plus(settings.takeOverAfter()),
                createdAt, expiresAt, null);
    }

    /** Let go after a failure: the next retry takes it over at once. */
    KeyRecord released() {
        return new KeyRecord(id, scope, key, requestHash, resourceId, newRev(), Instant.EPOCH, createdAt, expiresAt,
                null);
    }

    KeyRecord done(StoredAnswer stored) {
        return new KeyRecord(id, scope, key, requestHash, resourceId, newRev(), null, createdAt, expiresAt, stored);
    }

    boolean isDone() {
        return answer != null;
    }

    boolean heldAt(Instant now) {
        return !isDone() && heldUntil.isAfter(now);
    }

    boolean expiredAt(Instant now) {
        return !expiresAt.isAfter(now);
    }

    Document toDocument() {
        Document document = new Document(ID, id).append("scope", scope).append("key", key)
                .append("requestHash", requestHash).append("resourceId", resourceId).append(REV, rev)
                .append("state", isDone() ? "done" : "pending").append("createdAt", Date.from(createdAt))
                .append(EXPIRES_AT, Date.from(expiresAt));
        if (heldUntil != null) {
            document.append("heldUntil", Date.from(heldUntil));
        }
        if (answer != null) {
            document.append("answer", answer.toDocument());
        }
        return document;
    }

    static KeyRecord fromDocument(Document document) {
        Date heldUntil = document.getDate("heldUntil");
        return new KeyRecord(document.getString(ID), document.getString("scope"), document.getString("key"),
                document.getString("requestHash"), document.getObjectId("resourceId"), document.getString(REV),
                heldUntil == null ? null : heldUntil.toInstant(), document.getDate("createdAt").toInstant(),
                document.getDate(EXPIRES_AT).toInstant(), StoredAnswer.fromDocument(document.get("answer", Document.class)));
    }

    private static String newRev() {
        return new ObjectId().toHexString();
    }
}
