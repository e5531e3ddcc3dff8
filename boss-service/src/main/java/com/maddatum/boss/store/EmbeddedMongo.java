package com.maddatum.boss.store;

import de.bwaldvogel.mongo.MongoServer;
import de.bwaldvogel.mongo.backend.h2.H2Backend;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The default store: mongo-java-server with its H2 (MVStore) backend, listening on a loopback port
 * chosen by the OS. The Boss talks to it through the real driver and Spring Data, exactly as it
 * talks to a real MongoDB, so there is one code path for both.
 */
public final class EmbeddedMongo implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(EmbeddedMongo.class);

    private final H2Backend backend;
    private final MongoServer server;
    private final InetSocketAddress address;

    EmbeddedMongo(Path dataDir) {
        try {
            Files.createDirectories(dataDir);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create boss.store.data-dir " + dataDir, e);
        }
        Path file = dataDir.resolve("boss.mv");
        this.backend = new H2Backend(file.toString());
        this.server = new MongoServer(backend);
        server.bind(new InetSocketAddress("127.0.0.1", 0));
        this.address = server.getLocalAddress();
        log.info("embedded store started file={} address={}", file.toAbsolutePath(), address);
    }

    String connectionString(String database) {
        return "mongodb://" + address.getHostString() + ":" + address.getPort() + "/" + database;
    }

    /**
     * Persists every write the server has applied so far. MVStore otherwise commits about once a
     * second, and a {@code kill -9} in that window would lose writes the Boss already acknowledged.
     * Concurrent callers queue on MVStore's own lock, so each commit carries everyone's writes.
     */
    void commit() {
        backend.commit();
    }

    @Override
    public void close() {
        server.shutdownNow();
        backend.close();
        log.info("embedded store closed");
    }
}
