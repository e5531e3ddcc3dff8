package com.maddatum.boss.worker;

import static org.assertj.core.api.Assertions.assertThat;

import com.maddatum.boss.store.EmbeddedMongo;
import com.maddatum.boss.store.StoreDurability;
import com.maddatum.boss.support.TestProperties;
import com.maddatum.testsupport.MutableClock;
import com.mongodb.client.MongoClient;
import com.mongodb.client.MongoClients;
import de.bwaldvogel.mongo.MongoServer;
import de.bwaldvogel.mongo.backend.memory.MemoryBackend;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.bson.Document;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.support.StaticListableBeanFactory;
import org.springframework.data.mongodb.core.MongoTemplate;

/** Node names come from requests: what the registry keeps of them is bounded, in memory and in the store. */
class WorkerRegistryTest {

    private MongoServer server;
    private MongoClient client;
    private final MutableClock clock = MutableClock.stopped();
    private WorkerRegistry registry;

    @BeforeEach
    void start() {
        server = new MongoServer(new MemoryBackend());
        client = MongoClients.create(server.bindAndGetConnectionString());
        MongoTemplate mongo = new MongoTemplate(client, "boss");
        registry = new WorkerRegistry(mongo, new StoreDurability(new StaticListableBeanFactory()
                .getBeanProvider(EmbeddedMongo.class)), clock,
                TestProperties.with(Map.of("boss.workers.max-known", "5", "boss.workers.forget-after", "1d")),
                new SimpleMeterRegistry());
    }

    @AfterEach
    void stop() {
        client.close();
        server.shutdownNow();
    }

    @Test
    void keepsAtMostMaxKnownNodesAndForgetsTheLeastRecentlySeen() {
        for (int i = 0; i < 40; i++) {
            clock.advance(Duration.ofSeconds(11));
            registry.seen("node-" + i);
        }
        assertThat(registry.knownInMemory()).isLessThanOrEqualTo(5);
        assertThat(registry.forgetStale()).isEqualTo(35);
        assertThat(registry.all()).extracting(d -> d.get("_id"))
                .containsExactlyInAnyOrder("node-35", "node-36", "node-37", "node-38", "node-39");
    }

    @Test
    void nodesNotSeenForForgetAfterAreRemoved() {
        registry.seen("old");
        clock.advance(Duration.ofDays(2));
        registry.seen("new");
        assertThat(registry.forgetStale()).isEqualTo(1);
        assertThat(registry.all()).extracting(d -> d.get("_id")).containsExactly("new");
    }

    /**
     * An operator's drain and a quarantine outlive any absence and the max-known trim (the machine must not
     * come back with work); a stopped pod's own drain does not (pod names are never reused).
     */
    @Test
    void operatorDrainsAndQuarantinesAreNeverForgottenButAPodsOwnDrainIs() {
        var workers = client.getDatabase("boss").getCollection("workers");
        for (String node : List.of("drained", "quarantined", "pod-1", "plain")) {
            registry.seen(node);
        }
        workers.updateOne(new Document("_id", "drained"), new Document("$set", new Document("drain.by", "operator")));
        workers.updateOne(new Document("_id", "quarantined"), new Document("$set", new Document("quarantine.reason", "x")));
        workers.updateOne(new Document("_id", "pod-1"), new Document("$set", new Document("drain.by", "node")));
        clock.advance(Duration.ofDays(2));
        for (int i = 0; i < 6; i++) {
            clock.advance(Duration.ofSeconds(11));
            registry.seen("new-" + i); // three over max-known with the two kept: the trim must pass them by
        }
        // pod-1 and plain for their absence, then the three oldest of the others, never the two kept.
        assertThat(registry.forgetStale()).isEqualTo(5);
        assertThat(registry.all()).extracting(d -> d.get("_id"))
                .containsExactlyInAnyOrder("drained", "quarantined", "new-3", "new-4", "new-5");
    }

    /** What one slot claims with: a GPU shared by slots is shared (slot i on GPU i mod n, as the Worker binds). */
    @Test
    void aSlotsGpuMemoryIsItsShareOfTheGpuItIsBoundTo() {
        assertThat(WorkerRegistry.slotGpuMemory(1, List.of(81920L))).isEqualTo(81920);
        assertThat(WorkerRegistry.slotGpuMemory(2, List.of(81920L))).isEqualTo(40960);
        assertThat(WorkerRegistry.slotGpuMemory(4, List.of(81920L, 81920L))).isEqualTo(40960);
        assertThat(WorkerRegistry.slotGpuMemory(3, List.of(24576L, 81920L))).isEqualTo(81920); // GPU 1 has one slot
        assertThat(WorkerRegistry.slotGpuMemory(1, List.of(24576L, 81920L))).isEqualTo(81920); // a slot may move
        assertThat(WorkerRegistry.slotGpuMemory(2, List.of())).isNull();
    }

    @Test
    void aNodeNamedLikeAnObjectIdStaysAString() {
        String name = "0123456789abcdef01234567";
        registry.register(new WorkerRegistration(name, null, List.of("gpu"), 1, null, null, null, null, null, null, null));
        assertThat(registry.all().get(0).get("_id")).isEqualTo(name);
        assertThat(registry.labelsOf(name)).containsExactly("gpu");
    }

    @Test
    void aFullListOfDataFilesSaysNothingSinceItMayHaveBeenCutShort() {
        List<String> some = List.of("wine.csv", "iris.csv");
        registry.register(new WorkerRegistration("lists", null, null, 1, null, null, null, null, null, null, some));
        assertThat(registry.advertisedDataFiles()).hasValue(java.util.Set.copyOf(some));

        List<String> full = java.util.stream.IntStream.range(0, WorkerRegistration.MAX_DATA_FILES)
                .mapToObj(i -> String.format("f%04d.csv", i)).toList();
        registry.register(new WorkerRegistration("full", null, null, 1, null, null, null, null, null, null, full));
        assertThat(registry.advertisedDataFiles()).as("the full list may leave names out").isEmpty();

        registry.register(new WorkerRegistration("full", null, null, 1, null, null, null, null, null, null,
                full.subList(0, WorkerRegistration.MAX_DATA_FILES - 1)));
        assertThat(registry.advertisedDataFiles()).get().satisfies(files -> assertThat(files).hasSize(1001));
    }
}
