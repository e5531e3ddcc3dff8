package com.maddatum.boss.order;

import static org.assertj.core.api.Assertions.assertThat;

import com.maddatum.boss.store.EmbeddedMongo;
import com.maddatum.boss.store.StoreDurability;
import com.mongodb.client.MongoClient;
import com.mongodb.client.MongoClients;
import de.bwaldvogel.mongo.MongoServer;
import de.bwaldvogel.mongo.backend.memory.MemoryBackend;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;
import org.bson.types.ObjectId;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.support.StaticListableBeanFactory;
import org.springframework.data.mongodb.core.MongoTemplate;

/**
 * A claim that lands while its node is being drained is given back unrun, and gives back the attempt it
 * took: a job must not lose one of its attempts to a race it had no part in.
 */
class ClaimGiveBackTest {

    private MongoServer server;
    private MongoClient client;
    private OrderStore store;
    private OrderService orders;
    private final AtomicBoolean drainedMeanwhile = new AtomicBoolean(true);

    /** A fleet whose node is admitted before the claim, and found drained after it the first time. */
    private final Fleet fleet = new Fleet() {
        @Override
        public boolean mayClaim(String node) {
            return true;
        }

        @Override
        public boolean stillMayClaim(String node) {
            return !drainedMeanwhile.getAndSet(false);
        }

        @Override
        public boolean anotherCanRun(Set<String> labels, Long minGpuMemoryMiB, Set<String> excluding) {
            return false;
        }

        @Override
        public void ended(AttemptEnding ending) {}

        @Override
        public java.util.List<com.maddatum.boss.worker.WorkerRegistry.LiveNode> takers(Set<String> labels) {
            return java.util.List.of();
        }
    };

    @BeforeEach
    void start() {
        server = new MongoServer(new MemoryBackend());
        client = MongoClients.create(server.bindAndGetConnectionString());
        MongoTemplate mongo = new MongoTemplate(client, "boss");
        StoreDurability durability = new StoreDurability(new StaticListableBeanFactory()
                .getBeanProvider(EmbeddedMongo.class));
        store = new OrderStore(mongo, durability);
        orders = OrderServices.over(store, fleet).orders();
    }

    @AfterEach
    void stop() {
        client.close();
        server.shutdownNow();
    }

    @Test
    void aClaimGivenBackBecauseItsNodeWasDrainedMeanwhileKeepsTheJobsAttempts() {
        ObjectId id = orders.create(new NewOrder("job-1", 0, List.of(), "p", "a.py", 1, null)).id();

        assertThat(orders.claim("n1", Set.of(), true)).as("the node was drained while it claimed").isEmpty();
        Order back = store.findById(id).orElseThrow();
        assertThat(back.status()).isEqualTo(OrderStatus.UNASSIGNED);
        assertThat(back.attempt()).isZero();
        assertThat(back.assignedTo()).isNull();
        assertThat(back.history().get(back.history().size() - 1).reason()).contains("drained");

        // The one attempt it has is still there for the next node: its failure would end it, not a race.
        Order claimed = orders.claim("n2", Set.of(), true).orElseThrow();
        assertThat(claimed.id()).isEqualTo(id);
        assertThat(claimed.attempt()).isEqualTo(1);
        assertThat(claimed.maxAttempts()).isEqualTo(1);
    }
}
