package com.maddatum.boss.order;

import com.mongodb.client.MongoClient;
import com.mongodb.client.MongoClients;
import de.bwaldvogel.mongo.MongoServer;
import de.bwaldvogel.mongo.backend.h2.H2Backend;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.springframework.data.mongodb.core.MongoTemplate;

/** The order store contract on the embedded server (H2 backend), through the real driver. */
class EmbeddedOrderStoreTest extends OrderStoreContract {

    private static MongoServer server;
    private static MongoClient client;
    private static MongoTemplate template;

    @BeforeAll
    static void start() {
        server = new MongoServer(H2Backend.inMemory());
        client = MongoClients.create(server.bindAndGetConnectionString());
        template = new MongoTemplate(client, "boss");
    }

    @AfterAll
    static void stop() {
        client.close();
        server.shutdownNow();
    }

    @Override
    protected MongoTemplate mongo() {
        return template;
    }
}
