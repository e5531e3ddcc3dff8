package com.maddatum.boss.order;

import static org.assertj.core.api.Assertions.assertThat;

import com.maddatum.boss.store.EmbeddedMongo;
import com.maddatum.boss.store.StoreDurability;
import com.maddatum.boss.store.StoreMigrations;
import com.maddatum.boss.support.TestProperties;
import java.time.Clock;
import java.time.ZoneOffset;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.bson.Document;
import org.bson.types.ObjectId;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.support.StaticListableBeanFactory;
import org.springframework.data.mongodb.core.MongoTemplate;

/**
 * What every store backend must do for orders: conditional writes that miss instead of clobbering,
 * and the reads that keep replicas' memory in step. Runs against the embedded server here and against
 * a real MongoDB wherever Docker is available.
 */
abstract class OrderStoreContract {

    private static final Instant NOW = Instant.parse("2026-01-01T00:00:00Z");
    private static final Duration LEASE = Duration.ofMinutes(5);

    protected abstract MongoTemplate mongo();

    private OrderStore store;

    @BeforeEach
    void freshCollection() {
        mongo().dropCollection(OrderStore.COLLECTION);
        mongo().dropCollection("outcomes");
        store = newStore();
    }

    private OrderStore newStore() {
        return new OrderStore(mongo(), durability());
    }

    private StoreDurability durability() {
        return new StoreDurability(new StaticListableBeanFactory().getBeanProvider(EmbeddedMongo.class));
    }

    /** A Boss starting on this database: its migrations run first, then its stores. */
    private void startOnThisDatabase() {
        mongo().dropCollection("migrations");
        migrate();
        store = newStore();
        new com.maddatum.boss.outcome.OutcomeStoreAccess(mongo(), durability());
    }

    private void migrate() {
        new StoreMigrations(mongo(), durability(), Clock.fixed(NOW, ZoneOffset.UTC), TestProperties.defaults());
    }

    private Order insert(String jobId, Instant at) {
        return store.insert(new ObjectId(), spec(jobId), at);
    }

    @Test
    void claimSucceedsOnceAndRecordsHistory() {
        Order order = insert("j1", NOW);
        OrderStore.Result first = store.apply(order.id(), OrderTransition.claim("n1", 0, NOW, LEASE, false));
        OrderStore.Result second = store.apply(order.id(), OrderTransition.claim("n2", 0, NOW, LEASE, false));
        assertThat(first.changed()).get().satisfies(o -> {
            assertThat(o.status()).isEqualTo(OrderStatus.ASSIGNED);
            assertThat(o.attempt()).isEqualTo(1);
            assertThat(o.assignedTo()).isEqualTo("n1");
            assertThat(o.leaseExpiresAt()).isEqualTo(NOW.plus(LEASE));
            assertThat(o.revision()).isEqualTo(1);
            assertThat(o.history()).extracting(Order.HistoryEntry::status)
                    .containsExactly(OrderStatus.UNASSIGNED, OrderStatus.ASSIGNED);
        });
        // A miss still says what the store holds, so the caller can mirror it without reading again.
        assertThat(second.applied()).isFalse();
        assertThat(second.current().assignedTo()).isEqualTo("n1");
    }

    @Test
    void concurrentClaimsOfOneOrderHaveExactlyOneWinner() throws Exception {
        Order order = insert("j2", NOW);
        ExecutorService pool = Executors.newFixedThreadPool(8);
        try {
            List<Callable<OrderStore.Result>> claims = new ArrayList<>();
            for (int i = 0; i < 8; i++) {
                String node = "n" + i;
                claims.add(() -> store.apply(order.id(), OrderTransition.claim(node, 0, NOW, LEASE, false)));
            }
            long winners = 0;
            for (Future<OrderStore.Result> result : pool.invokeAll(claims)) {
                winners += result.get().applied() ? 1 : 0;
            }
            assertThat(winners).isEqualTo(1);
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void staleAttemptOrWrongNodeMissesAndChangesNothing() {
        Order order = insert("j3", NOW);
        store.apply(order.id(), OrderTransition.claim("n1", 0, NOW, LEASE, false));
        assertThat(store.apply(order.id(), OrderTransition.complete("n1", 2, new ObjectId(), NOW, null)).applied()).isFalse();
        assertThat(store.apply(order.id(), OrderTransition.heartbeat("n2", 1, NOW, LEASE, null)).applied()).isFalse();
        assertThat(store.apply(order.id(), OrderTransition.start("n2", 1, NOW, LEASE, null)).applied()).isFalse();
        assertThat(store.findById(order.id())).get().extracting(Order::status).isEqualTo(OrderStatus.ASSIGNED);
    }

    @Test
    void expiryOnlyFiresOnceTheStoredLeaseHasPassed() {
        Order order = insert("j4", NOW);
        Order held = store.apply(order.id(), OrderTransition.claim("n1", 0, NOW, LEASE, false)).current();
        assertThat(store.apply(order.id(), OrderTransition.expire(held, NOW.plusSeconds(10))).applied()).isFalse();
        OrderStore.Result expired = store.apply(order.id(), OrderTransition.expire(held, NOW.plus(LEASE).plusSeconds(1)));
        assertThat(expired.changed()).get().satisfies(o -> {
            assertThat(o.status()).isEqualTo(OrderStatus.UNASSIGNED);
            assertThat(o.assignedTo()).isNull();
            assertThat(o.attempt()).isEqualTo(1);
        });
    }

    @Test
    void terminalOrdersCannotBeCancelledOrReclaimed() {
        Order order = insert("j5", NOW);
        store.apply(order.id(), OrderTransition.claim("n1", 0, NOW, LEASE, false));
        assertThat(store.apply(order.id(), OrderTransition.complete("n1", 1, new ObjectId(), NOW, 1.0)).applied()).isTrue();
        assertThat(store.apply(order.id(), OrderTransition.cancel(NOW, "late")).applied()).isFalse();
        assertThat(store.apply(order.id(), OrderTransition.claim("n1", 1, NOW, LEASE, false)).applied()).isFalse();
        assertThat(store.apply(order.id(), OrderTransition.requeue("n1", 1, NOW, "late")).applied()).isFalse();
        assertThat(store.findById(order.id())).get().extracting(Order::loss).isEqualTo(1.0);
    }

    @Test
    void findsByJobIdAndByIdsInTheOrderAsked() {
        Order a = insert("ja", NOW);
        Order b = insert("jb", NOW.plusSeconds(1));
        assertThat(store.findByJobId("jb")).get().extracting(Order::id).isEqualTo(b.id());
        assertThat(store.findAll(List.of(b.id(), new ObjectId(), a.id()))).extracting(Order::id)
                .containsExactly(b.id(), a.id());
    }

    @Test
    void theFeedReturnsWhatWasWrittenSinceAGivenTime() {
        Order old = insert("old", NOW);
        Order fresh = insert("fresh", NOW.plusSeconds(60));
        store.apply(old.id(), OrderTransition.claim("n1", 0, NOW.plusSeconds(120), LEASE, false));
        List<ObjectId> since = new ArrayList<>();
        store.forEachModifiedSince(NOW.plusSeconds(30), o -> since.add(o.id()));
        assertThat(since).containsExactlyInAnyOrder(old.id(), fresh.id());
        since.clear();
        store.forEachModifiedSince(NOW.plusSeconds(90), o -> since.add(o.id()));
        assertThat(since).containsExactly(old.id());
    }

    @Test
    void liveRevisionsListOnlyOrdersThatAreNotFinished() {
        Order waiting = insert("w", NOW);
        Order held = insert("h", NOW);
        Order done = insert("d", NOW);
        store.apply(held.id(), OrderTransition.claim("n1", 0, NOW, LEASE, false));
        store.apply(done.id(), OrderTransition.claim("n1", 0, NOW, LEASE, false));
        store.apply(done.id(), OrderTransition.complete("n1", 1, new ObjectId(), NOW, null));
        assertThat(store.findLiveRevisions()).isEqualTo(Map.of(waiting.id(), 0L, held.id(), 1L));
    }

    @Test
    void ordersTheSeedsBossWroteAreAdoptedAtStartAndThenReadable() {
        mongo().dropCollection(OrderStore.COLLECTION); // a database the seed's Boss wrote: none of our indexes
        ObjectId unassigned = new ObjectId();
        ObjectId assigned = new ObjectId();
        // The seed's Boss wrote {_id, jobId, createdDate, status} and nothing else.
        mongo().insert(new Document("_id", unassigned).append("jobId", "s1").append("createdDate", new java.util.Date())
                .append("status", "unassigned"), OrderStore.COLLECTION);
        mongo().insert(new Document("_id", assigned).append("jobId", "s2").append("status", "assigned"),
                OrderStore.COLLECTION);
        startOnThisDatabase();
        List<Order> all = new ArrayList<>();
        store.forEach(all::add);
        assertThat(all).extracting(Order::id).containsExactlyInAnyOrder(unassigned, assigned);
        Order held = store.findById(assigned).orElseThrow();
        assertThat(held.attempt()).isEqualTo(1);
        assertThat(held.maxAttempts()).isEqualTo(3);
        assertThat(held.leaseExpiresAt()).isEqualTo(NOW.plus(Duration.ofHours(6)));
        assertThat(held.acceptsBareCallback()).isTrue();
        assertThat(held.createdDate()).isNotNull();
        // The reaper can hand it on: one attempt used of three.
        assertThat(OrderTransition.expire(held, NOW.plus(Duration.ofHours(7))).to()).isEqualTo(OrderStatus.UNASSIGNED);
    }

    @Test
    void theSeedsOutcomesGetTheirOrderAndFinishIt() {
        mongo().dropCollection(OrderStore.COLLECTION);
        mongo().dropCollection("outcomes");
        ObjectId order = new ObjectId();
        mongo().insert(new Document("_id", order).append("jobId", "seeded").append("status", "assigned"),
                OrderStore.COLLECTION);
        // Two outcomes for the same job (it ran twice), and one whose order is gone: {status, jobId, loss, metric}.
        ObjectId first = new ObjectId();
        mongo().insert(new Document("_id", first).append("status", 200).append("jobId", "seeded").append("loss", 3.5)
                .append("metric", 1.0), "outcomes");
        mongo().insert(new Document("_id", new ObjectId()).append("status", 200).append("jobId", "seeded")
                .append("loss", 4.0), "outcomes");
        mongo().insert(new Document("_id", new ObjectId()).append("status", 500).append("jobId", "gone"), "outcomes");
        startOnThisDatabase();
        Order done = store.findById(order).orElseThrow();
        assertThat(done.status()).isEqualTo(OrderStatus.DONE);
        assertThat(done.outcomeId()).isEqualTo(first);
        assertThat(done.loss()).isEqualTo(3.5);
        assertThat(done.revision()).isEqualTo(1);
        assertThat(mongo().getCollection("outcomes").countDocuments(new Document("orderId", order))).isEqualTo(1);
        assertThat(mongo().getCollection("outcomes").countDocuments(new Document("orderId",
                new Document("$exists", false)))).isZero();
    }

    @Test
    void doneOrdersOfAnEarlierVersionGetTheirLossForTheLeaderboard() {
        Order order = insert("earlier", NOW);
        store.apply(order.id(), OrderTransition.claim("n1", 0, NOW, LEASE, false));
        ObjectId outcome = new ObjectId();
        store.apply(order.id(), OrderTransition.complete("n1", 1, outcome, NOW, null));
        // What an earlier version stored: the order done, no loss on it; the loss in the outcome only.
        mongo().getCollection(OrderStore.COLLECTION).updateOne(new Document("_id", order.id()),
                new Document("$unset", new Document("loss", "")));
        mongo().insert(new Document("_id", outcome).append("status", 200).append("jobId", "earlier")
                .append("orderId", order.id()).append("attempt", 1).append("loss", 7.25), "outcomes");
        startOnThisDatabase();
        Order upgraded = store.findById(order.id()).orElseThrow();
        assertThat(upgraded.loss()).isEqualTo(7.25);
        assertThat(upgraded.revision()).isEqualTo(3);
    }

    private static NewOrder spec(String jobId) {
        return new NewOrder(jobId, 0, List.of(), "p", "a.py", 3, null);
    }

    @Test
    void replicasStartingTogetherMigrateOnceAndAllStart() throws Exception {
        mongo().dropCollection(OrderStore.COLLECTION);
        mongo().dropCollection("migrations");
        ObjectId order = new ObjectId();
        mongo().insert(new Document("_id", order).append("jobId", "together").append("status", "assigned"),
                OrderStore.COLLECTION);
        ObjectId outcome = new ObjectId();
        mongo().insert(new Document("_id", outcome).append("status", 200).append("jobId", "together")
                .append("loss", 1.5), "outcomes");
        ExecutorService pool = Executors.newFixedThreadPool(4);
        try {
            List<Callable<Object>> starts = new ArrayList<>();
            for (int i = 0; i < 4; i++) {
                starts.add(() -> {
                    migrate();
                    return null;
                });
            }
            for (Future<Object> start : pool.invokeAll(starts)) {
                start.get(); // a replica that lost the race on a marker or the lock must not fail to start
            }
        } finally {
            pool.shutdownNow();
        }
        store = newStore();
        Order done = store.findById(order).orElseThrow();
        assertThat(done.status()).isEqualTo(OrderStatus.DONE);
        assertThat(done.revision()).isEqualTo(1); // adopted at :0, finished once
        assertThat(done.history()).filteredOn(h -> h.status() == OrderStatus.DONE).hasSize(1);
        assertThat(mongo().getCollection("migrations").countDocuments(new Document("_id",
                new Document("$regex", "^lock:")))).isZero();
        assertThat(mongo().getCollection("migrations").countDocuments()).isEqualTo(3);
    }

    @Test
    void aMigrationCutShortBetweenTheOrderAndItsOutcomeIsFinishedByTheNextStart() {
        mongo().dropCollection(OrderStore.COLLECTION);
        mongo().dropCollection("migrations");
        // The other outcome's id sorts first: a migration that trusted sort order alone would link it.
        ObjectId other = new ObjectId();
        ObjectId outcome = new ObjectId();
        // Where a start died: the order already finished by its seed outcome, the outcome not yet linked.
        ObjectId order = new ObjectId();
        mongo().insert(new Document("_id", order).append("jobId", "cut").append("status", "done")
                .append("rev", order.toHexString() + ":1").append("attempt", 1).append("outcomeId", outcome)
                .append("loss", 2.0).append("modifiedAt", java.util.Date.from(NOW)), OrderStore.COLLECTION);
        mongo().insert(new Document("_id", outcome).append("status", 200).append("jobId", "cut").append("loss", 2.0),
                "outcomes");
        // And a second seed outcome of the same job, which must not take the order over.
        mongo().insert(new Document("_id", other).append("status", 200).append("jobId", "cut").append("loss", 9.0),
                "outcomes");
        startOnThisDatabase();
        assertThat(mongo().findById(outcome, Document.class, "outcomes"))
                .satisfies(d -> assertThat(d.get("orderId")).isEqualTo(order))
                .satisfies(d -> assertThat(d.get("attempt")).isEqualTo(1));
        assertThat(mongo().findById(other, Document.class, "outcomes").get("orderId")).isEqualTo(other);
        Order done = store.findById(order).orElseThrow();
        assertThat(done.outcomeId()).isEqualTo(outcome);
        assertThat(done.loss()).isEqualTo(2.0);
    }

    @Test
    void documentsThisVersionCannotReadAreLeftAloneAndTheBossStillStarts() {
        mongo().dropCollection(OrderStore.COLLECTION);
        mongo().dropCollection("outcomes");
        // Orders whose _id is a string (written by some other tool, two as 24 hex digits, which Spring's
        // query mapping would turn into ObjectIds), so that the unique index on rev could not be built if
        // they stayed without one; a done order with a numeric rev.
        var raw = mongo().getCollection(OrderStore.COLLECTION);
        raw.insertOne(new Document("_id", "5bcc1f2ea8bd4b2d8c2d5e1a").append("jobId", "string-id")
                .append("status", "unassigned"));
        raw.insertOne(new Document("_id", "5bcc1f2ea8bd4b2d8c2d5e1b").append("jobId", "string-id-3")
                .append("status", "unassigned"));
        raw.insertOne(new Document("_id", "by-hand").append("jobId", "string-id-2").append("status", "assigned"));
        ObjectId numericRev = new ObjectId();
        mongo().insert(new Document("_id", numericRev).append("jobId", "numeric-rev").append("status", "done")
                .append("rev", 5).append("outcomeId", new ObjectId()), OrderStore.COLLECTION);
        ObjectId good = new ObjectId();
        mongo().insert(new Document("_id", good).append("jobId", "good").append("status", "unassigned"),
                OrderStore.COLLECTION);
        // Two outcomes the migration cannot read: both must still get a unique (orderId, attempt).
        mongo().getCollection("outcomes").insertOne(new Document("_id", "string-outcome").append("status", 200)
                .append("jobId", "good"));
        mongo().getCollection("outcomes").insertOne(new Document("_id", "5bcc1f2ea8bd4b2d8c2d5e1c")
                .append("status", 200).append("jobId", "good"));

        startOnThisDatabase();

        List<Order> readable = new ArrayList<>();
        store.forEach(readable::add);
        assertThat(readable).extracting(Order::id).containsExactly(good);
        assertThat(store.findLiveRevisions()).containsOnlyKeys(good);
        List<ObjectId> stamped = new ArrayList<>();
        // Three ids that are no ObjectId, one revision that is no string; that order is still reported.
        assertThat(store.forEachStamp(stamp -> stamped.add(stamp.id()))).isEqualTo(4);
        assertThat(stamped).containsExactlyInAnyOrder(good, numericRev);
        assertThat(raw.countDocuments(new Document("rev", new Document("$exists", false)))).isZero();
        assertThat(mongo().getCollection("outcomes").countDocuments(new Document("orderId",
                new Document("$exists", false)))).isZero();
        assertThat(store.findById(good)).get().extracting(Order::status).isEqualTo(OrderStatus.UNASSIGNED);
    }

    @Test
    void aStoreFailureDuringAMigrationLeavesItToBeDoneAgainNotMarkedDone() {
        Order order = insert("flaky", NOW);
        store.apply(order.id(), OrderTransition.claim("n1", 0, NOW, LEASE, false));
        ObjectId outcome = new ObjectId();
        store.apply(order.id(), OrderTransition.complete("n1", 1, outcome, NOW, null));
        mongo().getCollection(OrderStore.COLLECTION).updateOne(new Document("_id", order.id()),
                new Document("$unset", new Document("loss", "")));
        mongo().insert(new Document("_id", outcome).append("status", 200).append("jobId", "flaky")
                .append("orderId", order.id()).append("attempt", 1).append("loss", 4.5), "outcomes");
        mongo().dropCollection("migrations");
        // The primary goes away for the write that copies the loss: that is no unreadable document.
        MongoTemplate flaky = new MongoTemplate(mongo().getMongoDatabaseFactory()) {
            @Override
            public com.mongodb.client.result.UpdateResult updateFirst(
                    org.springframework.data.mongodb.core.query.Query query,
                    org.springframework.data.mongodb.core.query.UpdateDefinition update, String collectionName) {
                throw new org.springframework.dao.DataAccessResourceFailureException("timed out (test)");
            }
        };
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> new StoreMigrations(flaky, durability(),
                Clock.fixed(NOW, ZoneOffset.UTC), TestProperties.defaults()))
                .isInstanceOf(org.springframework.dao.DataAccessResourceFailureException.class);
        assertThat(mongo().exists(org.springframework.data.mongodb.core.query.Query.query(
                org.springframework.data.mongodb.core.query.Criteria.where("_id").is("2026-12-loss-on-done-orders")),
                "migrations")).isFalse();
        migrate(); // the next start, the store back
        assertThat(store.findById(order.id()).orElseThrow().loss()).isEqualTo(4.5);
    }
}
