package com.maddatum.boss.store;

import com.maddatum.boss.config.BossProperties;
import java.util.Optional;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.data.mongodb.core.MongoTemplate;
import org.springframework.data.mongodb.core.query.Query;
import org.springframework.data.mongodb.core.query.Update;
import org.springframework.stereotype.Component;

/**
 * Called after each write and before the Boss acknowledges it. On the embedded store it commits the
 * MVStore so the write survives {@code kill -9}; on a real MongoDB the server's write concern has
 * already made it durable, so it does nothing.
 */
@Component
public class StoreDurability {

    private final Optional<EmbeddedMongo> embedded;
    private final boolean syncWrites;

    public StoreDurability(ObjectProvider<EmbeddedMongo> embedded) {
        this(embedded, true);
    }

    @Autowired
    public StoreDurability(ObjectProvider<EmbeddedMongo> embedded, BossProperties properties) {
        this(embedded, properties.store().syncWrites());
    }

    private StoreDurability(ObjectProvider<EmbeddedMongo> embedded, boolean syncWrites) {
        this.embedded = Optional.ofNullable(embedded.getIfAvailable());
        this.syncWrites = syncWrites;
    }

    public void sync() {
        if (syncWrites) {
            embedded.ifPresent(EmbeddedMongo::commit);
        }
    }

    /**
     * One conditional write: updates the first document {@code query} matches and, when one matched, makes
     * the change durable. True when one matched (the writer's view of the document still held).
     */
    public boolean changed(MongoTemplate mongo, Query query, Update update, String collection) {
        boolean changed = mongo.updateFirst(query, update, collection).getMatchedCount() == 1;
        if (changed) {
            sync();
        }
        return changed;
    }

    /** True when this process owns the store, so no other Boss can change it behind our back. */
    public boolean isEmbedded() {
        return embedded.isPresent();
    }
}
