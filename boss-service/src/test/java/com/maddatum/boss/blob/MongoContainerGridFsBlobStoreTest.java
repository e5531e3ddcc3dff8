package com.maddatum.boss.blob;

import com.mongodb.client.MongoClient;
import com.mongodb.client.MongoClients;
import com.mongodb.client.MongoDatabase;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.testcontainers.junit.jupiter.Container;
import org.testcontainers.junit.jupiter.Testcontainers;
import org.testcontainers.mongodb.MongoDBContainer;

/** The blob store contract on GridFS in a real MongoDB; skipped where no Docker engine runs. */
@Testcontainers(disabledWithoutDocker = true)
class MongoContainerGridFsBlobStoreTest extends BlobStoreContract {

    @Container
    static final MongoDBContainer MONGO = new MongoDBContainer("mongo:7.0");

    private static MongoClient client;
    private static MongoDatabase database;

    @BeforeAll
    static void connect() {
        client = MongoClients.create(MONGO.getReplicaSetUrl());
        database = client.getDatabase("boss");
    }

    @AfterAll
    static void close() {
        client.close();
    }

    @Override
    protected BlobStore store() {
        return EmbeddedGridFsBlobStoreTest.fresh(database, clock);
    }

    @Override
    protected int leftovers() {
        return EmbeddedGridFsBlobStoreTest.leftovers(database);
    }
}
