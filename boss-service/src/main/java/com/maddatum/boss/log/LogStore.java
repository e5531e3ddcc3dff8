package com.maddatum.boss.log;

import com.maddatum.boss.config.BossProperties;
import java.time.Clock;
import java.util.Date;
import java.util.Optional;
import org.bson.Document;
import org.bson.types.ObjectId;
import org.springframework.data.mongodb.core.MongoTemplate;
import org.springframework.stereotype.Component;

/**
 * The {@code logs} collection: one document per order ({@code _id} = the order's id), holding the
 * last {@code boss.limits.max-log-chars-per-order} characters a script printed. Logs are for people
 * watching a run; they are not made durable with a commit per batch like jobs and outcomes are.
 */
@Component
class LogStore {

    static final String COLLECTION = "logs";

    private final MongoTemplate mongo;
    private final Clock clock;
    private final int cap;

    LogStore(MongoTemplate mongo, Clock clock, BossProperties properties) {
        this.mongo = mongo;
        this.clock = clock;
        this.cap = properties.limits().maxLogCharsPerOrder();
    }

    /** Appends a batch (one writer per order: the worker holding it), keeping the tail under the cap. */
    synchronized void append(ObjectId orderId, String jobId, int attempt, String text) {
        Document current = mongo.findById(orderId, Document.class, COLLECTION);
        String before = current == null ? "" : current.getString("text");
        long received = (current == null ? 0L : current.get("receivedChars", Number.class).longValue()) + text.length();
        String combined = before + (current != null && attempt != current.getInteger("attempt", attempt)
                ? "\n[boss: attempt " + attempt + "]\n" : "") + text;
        boolean truncated = combined.length() > cap || (current != null && current.getBoolean("truncated", false));
        if (combined.length() > cap) {
            combined = combined.substring(combined.length() - cap);
        }
        mongo.save(new Document("_id", orderId).append("jobId", jobId).append("attempt", attempt)
                .append("text", combined).append("receivedChars", received).append("truncated", truncated)
                .append("updatedAt", Date.from(clock.instant())), COLLECTION);
    }

    Optional<Document> find(ObjectId orderId) {
        return Optional.ofNullable(mongo.findById(orderId, Document.class, COLLECTION));
    }
}
