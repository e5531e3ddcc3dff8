package com.maddatum.boss.blob;

import static org.assertj.core.api.Assertions.assertThat;

import com.mongodb.client.MongoClient;
import com.mongodb.client.MongoClients;
import com.mongodb.client.MongoDatabase;
import de.bwaldvogel.mongo.MongoServer;
import de.bwaldvogel.mongo.backend.h2.H2Backend;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import org.bson.Document;
import org.bson.types.Binary;
import org.bson.types.ObjectId;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The contract on GridFS over the embedded server: the code a real MongoDB runs, checked on every build.
 * Blobs stay small here, since the embedded server answers a GridFS read in one reply (see
 * {@link BlobStoreConfiguration}).
 */
class EmbeddedGridFsBlobStoreTest extends BlobStoreContract {

    private static MongoServer server;
    private static MongoClient client;
    private static MongoDatabase database;

    @BeforeAll
    static void start() {
        server = new MongoServer(H2Backend.inMemory());
        client = MongoClients.create(server.bindAndGetConnectionString());
        database = client.getDatabase("boss");
    }

    @AfterAll
    static void stop() {
        client.close();
        server.shutdownNow();
    }

    static BlobStore fresh(MongoDatabase database, Clock clock) {
        database.getCollection("blobs.files").drop();
        database.getCollection("blobs.chunks").drop();
        return new GridFsBlobStore(database, clock);
    }

    /** Unnamed files (an upload's temporary name), and chunks of no named file. */
    static int leftovers(MongoDatabase database) {
        int unnamed = (int) database.getCollection("blobs.files").countDocuments(
                new Document("filename", new Document("$not", java.util.regex.Pattern.compile("^[0-9a-f]{64}$"))));
        java.util.Set<Object> named = new java.util.HashSet<>();
        database.getCollection("blobs.files").find().forEach(d -> named.add(d.get("_id")));
        int orphans = 0;
        for (Document chunk : database.getCollection("blobs.chunks").find().projection(new Document("files_id", 1))) {
            if (!named.contains(chunk.get("files_id"))) {
                orphans++;
            }
        }
        return unnamed + orphans;
    }

    @Override
    protected BlobStore store() {
        return fresh(database, clock);
    }

    @Override
    protected int leftovers() {
        return leftovers(database);
    }

    @Test
    void aStartRemovesADeadBosssUploadsButNotOnesThatMayStillRun() {
        fresh(database, Clock.systemUTC());
        ObjectId old = new ObjectId(Date.from(Instant.now().minus(Duration.ofDays(2))));
        ObjectId recent = new ObjectId();
        ObjectId unnamedOld = new ObjectId(Date.from(Instant.now().minus(Duration.ofHours(2))));
        for (ObjectId id : new ObjectId[] {old, recent}) {
            database.getCollection("blobs.chunks").insertOne(new Document("files_id", id).append("n", 0)
                    .append("data", new Binary(new byte[] {1, 2, 3})));
        }
        database.getCollection("blobs.files").insertOne(new Document("_id", unnamedOld)
                .append("filename", GridFsBlobStore.UPLOADING + unnamedOld.toHexString()).append("length", 0L)
                .append("chunkSize", 1024).append("uploadDate", new Date()));
        new GridFsBlobStore(database, Clock.systemUTC());
        assertThat(database.getCollection("blobs.chunks").countDocuments(new Document("files_id", old))).isZero();
        assertThat(database.getCollection("blobs.chunks").countDocuments(new Document("files_id", recent))).isOne();
        assertThat(database.getCollection("blobs.files").countDocuments()).isZero();
    }
}
