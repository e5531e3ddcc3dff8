package com.maddatum.boss.order;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.maddatum.boss.store.EmbeddedMongo;
import com.maddatum.boss.store.StoreDurability;
import com.mongodb.MongoNotPrimaryException;
import com.mongodb.ServerAddress;
import com.mongodb.client.MongoClient;
import com.mongodb.client.MongoClients;
import de.bwaldvogel.mongo.MongoServer;
import de.bwaldvogel.mongo.backend.memory.MemoryBackend;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.function.Function;
import org.bson.BsonDocument;
import org.bson.BsonInt32;
import org.bson.types.ObjectId;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.support.StaticListableBeanFactory;
import org.springframework.dao.DataIntegrityViolationException;
import org.springframework.data.mongodb.UncategorizedMongoDbException;
import org.springframework.data.mongodb.core.MongoTemplate;

/**
 * Claims when the store misbehaves: a failure of the store (an election, a timeout) leaves every order
 * claimable; only an order this Boss cannot read is skipped, one per claim, and logged once.
 */
class ClaimFailureTest {

    /**
     * A store that fails every call while {@code failing} is set, as MongoDB does during an election;
     * and whose server refuses every write to the orders in {@code refused}, as it does a document that
     * fails validation.
     */
    static class ElectingStore extends OrderStore {
        volatile boolean failing;
        volatile boolean failingAfterRefusal;
        final Set<ObjectId> refused = java.util.concurrent.ConcurrentHashMap.newKeySet();
        volatile RuntimeException readFailure;
        volatile java.util.function.Supplier<RuntimeException> refusal =
                () -> new DataIntegrityViolationException("Document failed validation (test)");

        ElectingStore(MongoTemplate mongo, StoreDurability durability) {
            super(mongo, durability);
        }

        private void maybeFail() {
            if (failing) {
                // What Spring makes of a lost primary: the driver's MongoNotPrimaryException inside.
                throw new UncategorizedMongoDbException("NotWritablePrimary (test)",
                        new MongoNotPrimaryException(new BsonDocument("code", new BsonInt32(10107)), new ServerAddress()));
            }
        }

        @Override
        Result apply(ObjectId id, Function<Order, OrderTransition> choose) {
            maybeFail();
            if (refused.contains(id)) {
                failing = failingAfterRefusal;
                throw refusal.get();
            }
            return super.apply(id, choose);
        }

        @Override
        public Optional<Order> findById(ObjectId id) {
            maybeFail();
            if (readFailure != null && refused.contains(id)) {
                throw readFailure;
            }
            return super.findById(id);
        }
    }

    private MongoServer server;
    private MongoClient client;
    private ElectingStore store;
    private ReadyIndex ready;
    private OrderService orders;
    private final List<ObjectId> created = new java.util.ArrayList<>();

    @BeforeEach
    void start() {
        server = new MongoServer(new MemoryBackend());
        client = MongoClients.create(server.bindAndGetConnectionString());
        MongoTemplate mongo = new MongoTemplate(client, "boss");
        StoreDurability durability = new StoreDurability(new StaticListableBeanFactory()
                .getBeanProvider(EmbeddedMongo.class));
        store = new ElectingStore(mongo, durability);
        OrderServices wired = OrderServices.over(store, Fleet.OPEN);
        ready = wired.ready();
        orders = wired.orders();
        created.clear();
        for (int i = 0; i < 5; i++) {
            created.add(orders.create(new NewOrder("job-" + i, 0, List.of(), "p", "a.py", 3, null)).id());
        }
    }

    @AfterEach
    void stop() {
        client.close();
        server.shutdownNow();
    }

    @Test
    void aStoreFailureDuringAClaimLeavesEveryOrderClaimable() {
        store.failing = true;
        assertThatThrownBy(() -> orders.claim("n1", Set.of(), true)).isInstanceOf(UncategorizedMongoDbException.class);
        assertThat(ready.size()).isEqualTo(5);
        assertThat(ready.skippedCount()).isZero();
        store.failing = false;
        for (int i = 0; i < 5; i++) {
            assertThat(orders.claim("n1", Set.of(), true)).isPresent();
        }
        assertThat(orders.claim("n1", Set.of(), true)).isEmpty();
    }

    @Test
    void unreadableOrdersAreSkippedOnePerClaimAndTheRestStayClaimable() {
        MongoTemplate mongo = new MongoTemplate(client, "boss");
        for (int i = 0; i < 2; i++) {
            mongo.getCollection("orders").updateOne(new org.bson.Document("jobId", "job-" + i),
                    new org.bson.Document("$set", new org.bson.Document("attempt", "not a number")));
        }
        // The oldest two are unreadable: a claim skips the first; meeting the second in the same claim
        // it stops with an error and keeps that one; the next claim skips it too.
        assertThatThrownBy(() -> orders.claim("n1", Set.of(), true)).isInstanceOf(ClassCastException.class);
        assertThat(ready.skippedCount()).isEqualTo(1);
        assertThat(ready.size()).isEqualTo(4);
        Optional<Order> second = orders.claim("n1", Set.of(), true);
        assertThat(ready.skippedCount()).isEqualTo(2);
        assertThat(second).isPresent();
        for (int i = 0; i < 2; i++) {
            assertThat(orders.claim("n1", Set.of(), true)).isPresent();
        }
        assertThat(orders.claim("n1", Set.of(), true)).isEmpty();
    }

    @Test
    void anOrderTheServerRefusesIsSetAsideAndTheOthersAreClaimed() {
        // A refusal for one document alone (it fails validation) is no store failure: answering 500 to
        // every /bored until someone fixes it by hand would stop the whole queue.
        ObjectId oldest = created.get(0);
        store.refused.add(oldest);
        Optional<Order> claimed = orders.claim("n1", Set.of(), true);
        assertThat(claimed).isPresent();
        assertThat(claimed.get().id()).isNotEqualTo(oldest);
        assertThat(ready.skippedCount()).isEqualTo(1);
    }

    @Test
    void aStoreFailureWhileCheckingARefusedClaimKeepsTheOrderClaimable() {
        // The write was refused, and reading the order again to see whether it landed failed too: nothing
        // is known, so the order must stay in the queue, not vanish from memory until a restart.
        ObjectId oldest = created.get(0);
        store.refused.add(oldest);
        store.failingAfterRefusal = true;
        assertThatThrownBy(() -> orders.claim("n1", Set.of(), true)).isInstanceOf(UncategorizedMongoDbException.class);
        assertThat(ready.contains(oldest)).isTrue();
        assertThat(ready.size()).isEqualTo(5);
        assertThat(ready.skippedCount()).isZero();
    }

    @Test
    void aFailureOfTheWholeStoreSetsNoOrderAside() {
        // Revoked credentials fail every order alike: setting orders aside one per /bored would park the
        // whole queue until a restart.
        store.refused.addAll(created);
        store.refusal = () -> new org.springframework.dao.PermissionDeniedDataAccessException("not authorized (test)",
                null);
        for (int i = 0; i < 5; i++) {
            assertThatThrownBy(() -> orders.claim("n1", Set.of(), true))
                    .isInstanceOf(org.springframework.dao.PermissionDeniedDataAccessException.class);
        }
        assertThat(ready.skippedCount()).isZero();
        assertThat(ready.size()).isEqualTo(5);
    }

    @Test
    void theSameExceptionInstanceFromTheClaimAndTheReadIsStillOneSkip() {
        // A hot ClassCastException is thrown by the JVM as one reused instance: the claim and the read
        // after it can fail with the very same object, which cannot be added to itself as suppressed.
        RuntimeException hot = new ClassCastException("reused (test)");
        store.refused.add(created.get(0));
        store.refusal = () -> hot;
        store.readFailure = hot;
        Optional<Order> claimed = orders.claim("n1", Set.of(), true);
        assertThat(claimed).isPresent();
        assertThat(claimed.get().id()).isEqualTo(created.get(1));
        assertThat(ready.skippedCount()).isEqualTo(1);
    }
}
