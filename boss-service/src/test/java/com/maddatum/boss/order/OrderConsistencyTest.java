package com.maddatum.boss.order;

import static org.assertj.core.api.Assertions.assertThat;

import com.maddatum.boss.BossApplication;
import com.maddatum.boss.config.BossProperties;
import com.maddatum.boss.store.EmbeddedMongo;
import com.maddatum.boss.store.StoreDurability;
import com.maddatum.testsupport.MutableClock;
import de.bwaldvogel.mongo.MongoServer;
import de.bwaldvogel.mongo.backend.h2.H2Backend;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.bson.types.ObjectId;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.context.annotation.Primary;

/**
 * A model-based check of the one path from the store to memory: random interleavings of create,
 * claim, heartbeat, callback, cancel, reap and resync across two Boss replicas on one store, with
 * commits that fail after the write landed. After every step each replica's memory must agree with
 * the store for the orders it knows (never ahead of it, the same state at the same revision, and
 * exactly right for the order the step touched); after a resync it must agree entirely, and every
 * unassigned order must be claimable from it.
 */
class OrderConsistencyTest {

    /**
     * A commit that fails after the write was applied, so the outcome of the write is unknown to its
     * caller: {@code failNext} = n makes the n-th commit from now fail (1: the next one), and only it.
     */
    static class FlakyDurability extends StoreDurability {
        final AtomicInteger failNext = new AtomicInteger();

        FlakyDurability(ObjectProvider<EmbeddedMongo> embedded, BossProperties properties) {
            super(embedded, properties);
        }

        @Override
        public void sync() {
            super.sync();
            if (failNext.getAndUpdate(n -> Math.max(0, n - 1)) == 1) {
                throw new IllegalStateException("commit failed (test)");
            }
        }
    }

    static final MutableClock CLOCK = MutableClock.stopped();

    @Configuration(proxyBeanMethods = false)
    static class TestBeans {
        @Bean
        @Primary
        FlakyDurability flakyDurability(ObjectProvider<EmbeddedMongo> embedded, BossProperties properties) {
            return new FlakyDurability(embedded, properties);
        }

        @Bean
        @Primary
        MutableClock sharedClock() {
            return CLOCK;
        }
    }

    /** One Boss replica's beans. */
    record Replica(String name, ConfigurableApplicationContext context) {
        OrderService orders() { return context.getBean(OrderService.class); }
        OrderMirror mirror() { return context.getBean(OrderMirror.class); }
        ReadyIndex ready() { return context.getBean(ReadyIndex.class); }
        LeaseTracker leases() { return context.getBean(LeaseTracker.class); }
        OrderCatalog catalog() { return context.getBean(OrderCatalog.class); }
        StoreSync sync() { return context.getBean(StoreSync.class); }
        FlakyDurability durability() { return context.getBean(FlakyDurability.class); }
    }

    private static MongoServer server;
    private static String uri;
    private static Replica a;
    private static Replica b;
    private static OrderStore store;

    @BeforeAll
    static void start() {
        server = new MongoServer(H2Backend.inMemory());
        uri = server.bindAndGetConnectionString() + "/boss";
        a = replica("a");
        b = replica("b");
        store = a.context().getBean(OrderStore.class);
    }

    private static Replica replica(String name) {
        return new Replica(name, new SpringApplicationBuilder(BossApplication.class, TestBeans.class).run(
                "--server.port=0", "--spring.mongodb.uri=" + uri, "--boss.store.resync-interval=1h",
                "--boss.lease.reap-interval=1h", "--logging.level.com.maddatum=OFF",
                "--spring.main.allow-bean-definition-overriding=true"));
    }

    @AfterAll
    static void stop() {
        a.context().close();
        b.context().close();
        server.shutdownNow();
    }

    @BeforeEach
    void cancelEverythingLive() {
        for (Replica r : List.of(a, b)) {
            r.sync().sync();
        }
        for (ObjectId id : store.findLiveRevisions().keySet()) {
            a.orders().cancel(store.findById(id).orElseThrow().jobId(), "test reset");
        }
        for (Replica r : List.of(a, b)) {
            r.sync().sync();
        }
    }

    @ParameterizedTest(name = "seed {0}")
    @ValueSource(longs = {1, 2, 3, 4})
    void randomInterleavingsKeepEveryReplicasMemoryInStepWithTheStore(long seed) {
        Random random = new Random(seed);
        List<String> trace = new ArrayList<>();
        List<Order> snapshots = new ArrayList<>();
        for (int step = 0; step < 250; step++) {
            Replica r = random.nextBoolean() ? a : b;
            boolean failCommit = random.nextInt(12) == 0;
            if (failCommit) {
                r.durability().failNext.set(1);
            }
            ObjectId touched = null;
            String op;
            try {
                switch (random.nextInt(10)) {
                    case 0, 1 -> {
                        op = "create";
                        touched = new ObjectId();
                        // create() picks its own id; find it again from the job id it was given.
                        String jobId = "job-" + touched.toHexString();
                        try {
                            r.orders().create(new NewOrder(jobId, random.nextInt(3),
                                    random.nextInt(4) == 0 ? List.of("gpu") : List.of(), "p" + random.nextInt(3),
                                    "a.py", 1 + random.nextInt(3), null));
                        } finally {
                            touched = store.findByJobId(jobId).map(Order::id).orElse(null);
                        }
                    }
                    case 2, 3 -> {
                        op = "claim";
                        touched = r.orders().claim("node-" + random.nextInt(3),
                                random.nextBoolean() ? Set.of("gpu") : Set.of(), random.nextBoolean())
                                .map(Order::id).orElse(null);
                    }
                    case 4 -> {
                        op = "heartbeat";
                        Order held = randomOrder(random, true);
                        if (held != null) {
                            touched = held.id();
                            int attempt = random.nextInt(5) == 0 ? held.attempt() - 1 : held.attempt();
                            try {
                                r.orders().heartbeat(held.id(), held.assignedTo(), Math.max(1, attempt), null);
                            } catch (com.maddatum.boss.web.ApiProblem stale) {
                                // a stale attempt is answered 409: part of the model
                            }
                        }
                    }
                    case 5 -> {
                        op = "callback";
                        Order held = randomOrder(random, true);
                        if (held != null) {
                            touched = held.id();
                            OrderService.Verdict verdict = OrderService.Verdict.values()[random.nextInt(3)];
                            r.orders().finish(held.id(), held.assignedTo(), held.attempt(),
                                    new OrderService.Ending(verdict, verdict == OrderService.Verdict.RETRY ? null
                                            : new ObjectId(), "test", random.nextDouble()), false);
                        }
                    }
                    case 6 -> {
                        op = "cancel";
                        Order any = randomOrder(random, false);
                        if (any != null) {
                            touched = any.id();
                            try {
                                r.orders().cancel(any.jobId(), "test");
                            } catch (com.maddatum.boss.web.ApiProblem alreadyFinished) {
                                // 409: part of the model
                            }
                        }
                    }
                    case 7 -> {
                        op = "reap";
                        CLOCK.advance(Duration.ofMinutes(random.nextInt(8)));
                        r.orders().reapExpired();
                    }
                    case 8 -> {
                        // An answer that arrives late: the state some verb saw earlier is mirrored only now
                        // (a heartbeat's result after the callback that followed it, a slow resync read).
                        op = "late-mirror";
                        if (!snapshots.isEmpty()) {
                            Order old = snapshots.get(random.nextInt(snapshots.size()));
                            long before = r.mirror().revisionOf(old.id());
                            r.mirror().apply(old);
                            assertThat(r.mirror().revisionOf(old.id())).as("%s went back in time on %s", r.name(),
                                    old.id()).isGreaterThanOrEqualTo(before);
                        }
                    }
                    default -> {
                        op = "resync";
                        r.sync().sync();
                        assertFullyInStep(r, trace);
                    }
                }
            } catch (IllegalStateException commitFailed) {
                assertThat(commitFailed).hasMessageContaining("commit failed");
                op = "failed-commit";
            } finally {
                r.durability().failNext.set(0);
            }
            trace.add(step + ":" + r.name() + ":" + op + (failCommit ? "(commit fails)" : "") + ":" + touched);
            if (touched != null) {
                store.findById(touched).ifPresent(snapshots::add);
            }
            assertNeverAheadOfTheStore(a, trace);
            assertNeverAheadOfTheStore(b, trace);
            if (touched != null && !op.equals("resync")) {
                assertKnowsExactly(r, touched, trace);
            }
        }
        a.sync().sync();
        b.sync().sync();
        assertFullyInStep(a, trace);
        assertFullyInStep(b, trace);
        assertEveryUnassignedOrderIsClaimableFrom(random.nextBoolean() ? a : b);
    }

    @Test
    void concurrentVerbsOnBothReplicasNeverClaimAnAttemptTwiceAndEndInStep() throws Exception {
        Map<String, String> claimedBy = new ConcurrentHashMap<>();
        List<String> doubles = java.util.Collections.synchronizedList(new ArrayList<>());
        ExecutorService pool = Executors.newFixedThreadPool(6);
        List<Future<?>> work = new ArrayList<>();
        for (int t = 0; t < 6; t++) {
            Replica r = t % 2 == 0 ? a : b;
            Random random = new Random(100 + t);
            String node = "worker-" + t;
            work.add(pool.submit(() -> {
                for (int i = 0; i < 120; i++) {
                    switch (random.nextInt(5)) {
                        case 0, 1 -> r.orders().create(new NewOrder("c-" + new ObjectId(), 0, List.of(), "conc", "a.py",
                                2, null));
                        case 2, 3 -> r.orders().claim(node, Set.of(), true).ifPresent(o -> {
                            if (claimedBy.putIfAbsent(o.id() + "#" + o.attempt(), node) != null) {
                                doubles.add(o.id() + "#" + o.attempt());
                            }
                            r.orders().finish(o.id(), node, o.attempt(), new OrderService.Ending(
                                    random.nextBoolean() ? OrderService.Verdict.DONE : OrderService.Verdict.RETRY,
                                    null, "test", null), false);
                        });
                        default -> r.sync().sync();
                    }
                }
                return null;
            }));
        }
        for (Future<?> f : work) {
            f.get(3, TimeUnit.MINUTES);
        }
        pool.shutdownNow();
        assertThat(doubles).isEmpty();
        a.sync().sync();
        b.sync().sync();
        assertFullyInStep(a, List.of("concurrent"));
        assertFullyInStep(b, List.of("concurrent"));
    }

    @Test
    void concurrentVerbsOnOneBossKeepItsMemoryExactWithoutAnyResync() throws Exception {
        // A Boss on the embedded store never resyncs: whatever claimers and the mirror do at the same
        // moment, every unassigned order must stay in its queue, every count right.
        ExecutorService pool = Executors.newFixedThreadPool(6);
        List<Future<?>> work = new ArrayList<>();
        for (int t = 0; t < 6; t++) {
            Random random = new Random(200 + t);
            String node = "solo-" + t;
            work.add(pool.submit(() -> {
                for (int i = 0; i < 150; i++) {
                    switch (random.nextInt(6)) {
                        case 0, 1 -> a.orders().create(new NewOrder("solo-" + new ObjectId(), random.nextInt(3),
                                List.of(), "solo", "a.py", 2, null));
                        case 2, 3 -> a.orders().claim(node, Set.of(), random.nextBoolean()).ifPresent(o -> {
                            if (random.nextBoolean()) {
                                a.orders().heartbeat(o.id(), node, o.attempt(), null);
                            }
                            a.orders().finish(o.id(), node, o.attempt(), new OrderService.Ending(
                                    OrderService.Verdict.values()[random.nextInt(3)], new ObjectId(), "test", 1.0),
                                    false);
                        });
                        case 4 -> {
                            Order any = randomOrder(random, false);
                            if (any != null) {
                                try {
                                    a.orders().cancel(any.jobId(), "test");
                                } catch (com.maddatum.boss.web.ApiProblem finished) {
                                    // already finished: part of the model
                                }
                            }
                        }
                        default -> a.orders().claim(node + "-idle", Set.of("gpu"), true);
                    }
                }
                return null;
            }));
        }
        for (Future<?> f : work) {
            f.get(3, TimeUnit.MINUTES);
        }
        pool.shutdownNow();
        assertFullyInStep(a, List.of("concurrent, no resync"));
        assertEveryUnassignedOrderIsClaimableFrom(a);
    }

    @Test
    void aReplicaStartedLaterRebuildsTheSameMemoryFromTheStore() {
        Random random = new Random(7);
        for (int i = 0; i < 40; i++) {
            Order order = a.orders().create(new NewOrder("late-" + new ObjectId(), 0, List.of(), "late" + (i % 2),
                    "a.py", 2, null));
            if (random.nextBoolean()) {
                Order claimed = a.orders().claim("n", Set.of(), true).orElseThrow();
                a.orders().finish(claimed.id(), "n", claimed.attempt(), new OrderService.Ending(
                        OrderService.Verdict.DONE, new ObjectId(), "ok", random.nextDouble()), false);
            }
            assertThat(order).isNotNull();
        }
        Replica fresh = replica("fresh");
        try {
            assertFullyInStep(fresh, List.of("fresh start"));
            a.sync().sync();
            assertThat(fresh.catalog().countByStatus()).isEqualTo(a.catalog().countByStatus());
            assertThat(fresh.catalog().projects()).isEqualTo(a.catalog().projects());
            assertThat(fresh.context().getBean(ProjectBoards.class).best("late0", 100))
                    .isEqualTo(a.context().getBean(ProjectBoards.class).best("late0", 100));
        } finally {
            fresh.context().close();
        }
    }

    @Test
    void theAuditFindsWhatTheFeedMissedAndWhatWasDeletedByHand() {
        a.sync().sync();
        b.sync().sync();
        // A replica whose clock is an hour slow creates and finishes an order between two of b's resyncs:
        // its writes carry an old modifiedAt, so b's feed never sees them.
        Order order = a.orders().create(new NewOrder("skewed-" + new ObjectId(), 0, List.of(), "skew", "a.py", 2,
                null));
        Order claimed = a.orders().claim("n", Set.of(), true).filter(o -> o.id().equals(order.id())).orElseThrow();
        a.orders().finish(claimed.id(), "n", 1, new OrderService.Ending(OrderService.Verdict.DONE, new ObjectId(),
                "ok", 1.0), false);
        org.springframework.data.mongodb.core.MongoTemplate mongo = a.context()
                .getBean(org.springframework.data.mongodb.core.MongoTemplate.class);
        mongo.getCollection(OrderStore.COLLECTION).updateOne(new org.bson.Document("_id", order.id()),
                new org.bson.Document("$set", new org.bson.Document("modifiedAt", java.util.Date.from(
                        CLOCK.instant().minus(Duration.ofHours(1))))));
        // And an old finished order is deleted by hand.
        Order doomed = a.orders().create(new NewOrder("doomed-" + new ObjectId(), 0, List.of(), "skew", "a.py", 1, null));
        a.orders().cancel(doomed.jobId(), "test");
        b.sync().sync();
        mongo.getCollection(OrderStore.COLLECTION).deleteOne(new org.bson.Document("_id", doomed.id()));
        b.sync().sync();
        assertThat(b.mirror().facts(order.id())).isNull();
        assertThat(b.mirror().facts(doomed.id())).isNotNull();

        assertThat(b.sync().auditNow()).isTrue();
        assertFullyInStep(b, List.of("audit"));
        assertThat(b.sync().auditNow()).isFalse();
        assertThat(a.sync().auditNow()).isTrue(); // a still knew the deleted one: the other tests share a and b
    }

    @Test
    void anOrderNoVersionCanReadCostsTheAuditOneReadNotAReload() {
        a.sync().auditNow(); // whatever the other tests left behind
        org.springframework.data.mongodb.core.MongoTemplate mongo = a.context()
                .getBean(org.springframework.data.mongodb.core.MongoTemplate.class);
        // Written by hand long ago: a whole-number attempt stored as a double, which Order cannot read.
        ObjectId odd = new ObjectId();
        mongo.insert(new org.bson.Document("_id", odd).append("jobId", "odd-" + odd).append("status", "done")
                .append("attempt", 1.0).append("rev", odd.toHexString() + ":3")
                .append("modifiedAt", java.util.Date.from(CLOCK.instant().minus(Duration.ofDays(1)))),
                OrderStore.COLLECTION);
        // And an order someone fixed by hand, writing modifiedAt as a string: still an order memory holds.
        Order handFixed = a.orders().create(new NewOrder("hand-" + new ObjectId(), 0, List.of(), "hand", "a.py", 1,
                null));
        a.orders().cancel(handFixed.jobId(), "test");
        mongo.getCollection(OrderStore.COLLECTION).updateOne(new org.bson.Document("_id", handFixed.id()),
                new org.bson.Document("$set", new org.bson.Document("modifiedAt", "2026-01-01T00:00:00Z")));
        try {
            int before = a.mirror().size();
            // The counts differ for good (the store has one order more than memory can hold), yet nothing
            // is missing that could be read: no reload, and memory keeps what it had.
            assertThat(a.sync().auditNow()).isFalse();
            assertThat(a.sync().auditNow()).isFalse();
            assertThat(a.mirror().size()).isEqualTo(before);
            assertThat(a.mirror().facts(odd)).isNull();
            assertThat(a.mirror().facts(handFixed.id())).isNotNull();
            assertFullyInStep(a, List.of("audit with an unreadable order"));
        } finally {
            mongo.getCollection(OrderStore.COLLECTION).deleteOne(new org.bson.Document("_id", odd));
            mongo.getCollection(OrderStore.COLLECTION).deleteOne(new org.bson.Document("_id", handFixed.id()));
            a.sync().auditNow();
        }
    }

    // ---- the model's checks ---------------------------------------------------------------------

    private static Order randomOrder(Random random, boolean inFlight) {
        List<Order> all = new ArrayList<>();
        store.forEach(o -> {
            if (!inFlight || o.isInFlight()) {
                all.add(o);
            }
        });
        return all.isEmpty() ? null : all.get(random.nextInt(all.size()));
    }

    private static Map<ObjectId, Order> storeOrders() {
        Map<ObjectId, Order> all = new HashMap<>();
        store.forEach(o -> all.put(o.id(), o));
        return all;
    }

    /** Memory may lag behind the store (another replica wrote), but never lead it or disagree at one revision. */
    private static void assertNeverAheadOfTheStore(Replica r, List<String> trace) {
        for (Order stored : storeOrders().values()) {
            OrderFacts facts = r.mirror().facts(stored.id());
            if (facts == null) {
                continue;
            }
            assertThat(facts.revision()).as("%s ahead of the store for %s after %s", r.name(), stored.id(), last(trace))
                    .isLessThanOrEqualTo(stored.revision());
            if (facts.revision() == stored.revision()) {
                assertThat(facts.status()).as("%s at revision %d after %s", r.name(), facts.revision(), last(trace))
                        .isEqualTo(stored.status());
            }
            ReadyIndex.Candidate candidate = r.ready().candidate(stored.id());
            if (candidate != null && candidate.revision() == stored.revision()) {
                assertThat(stored.status()).as("%s offers %s after %s", r.name(), stored.id(), last(trace))
                        .isEqualTo(OrderStatus.UNASSIGNED);
            }
        }
    }

    /** The replica that touched an order knows it exactly as stored, even when the write's commit failed. */
    private static void assertKnowsExactly(Replica r, ObjectId id, List<String> trace) {
        Order stored = store.findById(id).orElseThrow();
        OrderFacts facts = r.mirror().facts(id);
        assertThat(facts).as("%s does not know %s after %s", r.name(), id, last(trace)).isNotNull();
        assertThat(facts.revision()).as("%s's revision of %s after %s", r.name(), id, last(trace))
                .isEqualTo(stored.revision());
        assertThat(r.ready().contains(id)).as("%s's queue holds %s after %s", r.name(), id, last(trace))
                .isEqualTo(stored.status() == OrderStatus.UNASSIGNED);
        assertThat(r.leases().expiredBy(java.time.Instant.MAX).stream().anyMatch(o -> o.id().equals(id)))
                .as("%s tracks the lease of %s after %s", r.name(), id, last(trace)).isEqualTo(stored.isInFlight());
    }

    private static void assertFullyInStep(Replica r, List<String> trace) {
        Map<ObjectId, Order> stored = storeOrders();
        Map<OrderStatus, Long> counts = new EnumMap<>(OrderStatus.class);
        for (OrderStatus status : OrderStatus.values()) {
            counts.put(status, 0L);
        }
        for (Order order : stored.values()) {
            counts.merge(order.status(), 1L, Long::sum);
            OrderFacts facts = r.mirror().facts(order.id());
            assertThat(facts).as("%s misses %s after %s", r.name(), order.id(), last(trace)).isNotNull();
            assertThat(facts.revision()).as("%s's revision of %s after %s", r.name(), order.id(), last(trace))
                    .isEqualTo(order.revision());
            assertThat(facts.status()).isEqualTo(order.status());
            assertThat(r.ready().contains(order.id())).as("%s's queue holds %s (%s) after %s", r.name(), order.id(),
                    order.status(), last(trace)).isEqualTo(order.status() == OrderStatus.UNASSIGNED);
        }
        assertThat(r.mirror().size()).isEqualTo(stored.size());
        assertThat(r.catalog().countByStatus()).as("%s's counters after %s", r.name(), last(trace)).isEqualTo(counts);
        Set<ObjectId> inFlight = new HashSet<>();
        stored.values().stream().filter(Order::isInFlight).forEach(o -> inFlight.add(o.id()));
        Set<ObjectId> tracked = new HashSet<>();
        r.leases().expiredBy(java.time.Instant.MAX).forEach(o -> tracked.add(o.id()));
        assertThat(tracked).as("%s's leases after %s", r.name(), last(trace)).isEqualTo(inFlight);
    }

    private static void assertEveryUnassignedOrderIsClaimableFrom(Replica r) {
        Set<ObjectId> unassigned = new HashSet<>();
        storeOrders().values().stream().filter(o -> o.status() == OrderStatus.UNASSIGNED)
                .forEach(o -> unassigned.add(o.id()));
        Set<ObjectId> claimed = new HashSet<>();
        java.util.Optional<Order> next;
        while ((next = r.orders().claim("sweeper", Set.of("gpu"), true)).isPresent()) {
            assertThat(claimed.add(next.get().id())).isTrue();
        }
        assertThat(claimed).isEqualTo(unassigned);
    }

    private static String last(List<String> trace) {
        return trace.isEmpty() ? "start" : trace.get(trace.size() - 1) + " (steps: " + trace.size() + ")";
    }
}
