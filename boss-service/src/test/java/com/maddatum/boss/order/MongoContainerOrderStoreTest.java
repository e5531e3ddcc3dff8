package com.maddatum.boss.order;

import com.mongodb.client.MongoClient;
import com.mongodb.client.MongoClients;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.springframework.data.mongodb.core.MongoTemplate;
import org.testcontainers.junit.jupiter.Container;
import org.testcontainers.junit.jupiter.Testcontainers;
import org.testcontainers.mongodb.MongoDBContainer;

/** The same contract against a real MongoDB; skipped where no Docker engine runs (as on our dev boxes). */
@Testcontainers(disabledWithoutDocker = true)
class MongoContainerOrderStoreTest extends OrderStoreContract {

    @Container
    static final MongoDBContainer MONGO = new MongoDBContainer("mongo:7.0");

    private static MongoClient client;
    private static MongoTemplate template;

    @BeforeAll
    static void connect() {
        client = MongoClients.create(MONGO.getReplicaSetUrl());
        template = new MongoTemplate(client, "boss");
    }

    @AfterAll
    static void close() {
        client.close();
    }

    @Override
    protected MongoTemplate mongo() {
        return template;
    }
}
