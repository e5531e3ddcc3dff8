package com.maddatum.boss.store;

import org.bson.Document;
import org.springframework.boot.health.contributor.AbstractHealthIndicator;
import org.springframework.boot.health.contributor.Health;
import org.springframework.data.mongodb.core.MongoTemplate;
import org.springframework.stereotype.Component;

/**
 * Replaces Boot's Mongo health check (same bean name), which sends {@code hello}: the embedded
 * server rejects that command, while {@code ping} works on both stores.
 */
@Component("mongoHealthIndicator")
class MongoPingHealthIndicator extends AbstractHealthIndicator {

    private final MongoTemplate mongo;
    private final StoreDurability durability;

    MongoPingHealthIndicator(MongoTemplate mongo, StoreDurability durability) {
        this.mongo = mongo;
        this.durability = durability;
    }

    @Override
    protected void doHealthCheck(Health.Builder builder) {
        Document reply = mongo.executeCommand(new Document("ping", 1));
        builder.up()
                .withDetail("store", durability.isEmbedded() ? "embedded" : "mongodb")
                .withDetail("database", mongo.getDb().getName())
                .withDetail("ping", reply.get("ok"));
    }
}
