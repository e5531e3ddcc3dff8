package com.maddatum.boss.order;

import static org.assertj.core.api.Assertions.assertThat;

import com.maddatum.boss.store.EmbeddedMongo;
import com.maddatum.boss.store.StoreDurability;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.bson.types.ObjectId;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.support.StaticListableBeanFactory;
import org.springframework.data.mongodb.core.MongoTemplate;

/**
 * What every store backend must do for orders: conditional writes that miss instead of clobbering.
 * Runs against the embedded server here and against a real MongoDB wherever Docker is available.
 */
abstract class OrderStoreContract {

    private static final Instant NOW = Instant.parse("2026-01-01T00:00:00Z");
    private static final Duration LEASE = Duration.ofMinutes(5);

    protected abstract MongoTemplate mongo();

    private OrderStore store;

    @BeforeEach
    void freshCollection() {
        mongo().dropCollection(OrderStore.COLLECTION);
        store = new OrderStore(mongo(), new StoreDurability(
                new StaticListableBeanFactory().getBeanProvider(EmbeddedMongo.class)));
    }

    @Test
    void claimSucceedsOnceAndRecordsHistory() {
        Order order = store.insert(spec("j1"), NOW);
        Optional<Order> first = store.apply(order.id(), OrderTransition.claim("n1", 0, NOW, LEASE));
        Optional<Order> second = store.apply(order.id(), OrderTransition.claim("n2", 0, NOW, LEASE));
        assertThat(first).get().satisfies(o -> {
            assertThat(o.status()).isEqualTo(OrderStatus.ASSIGNED);
            assertThat(o.attempt()).isEqualTo(1);
            assertThat(o.assignedTo()).isEqualTo("n1");
            assertThat(o.leaseExpiresAt()).isEqualTo(NOW.plus(LEASE));
            assertThat(o.history()).extracting(Order.HistoryEntry::status)
                    .containsExactly(OrderStatus.UNASSIGNED, OrderStatus.ASSIGNED);
        });
        assertThat(second).isEmpty();
    }

    @Test
    void concurrentClaimsOfOneOrderHaveExactlyOneWinner() throws Exception {
        Order order = store.insert(spec("j2"), NOW);
        ExecutorService pool = Executors.newFixedThreadPool(8);
        try {
            List<Callable<Optional<Order>>> claims = new java.util.ArrayList<>();
            for (int i = 0; i < 8; i++) {
                String node = "n" + i;
                claims.add(() -> store.apply(order.id(), OrderTransition.claim(node, 0, NOW, LEASE)));
            }
            long winners = 0;
            for (Future<Optional<Order>> result : pool.invokeAll(claims)) {
                winners += result.get().isPresent() ? 1 : 0;
            }
            assertThat(winners).isEqualTo(1);
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void staleAttemptOrWrongNodeMissesAndChangesNothing() {
        Order order = store.insert(spec("j3"), NOW);
        store.apply(order.id(), OrderTransition.claim("n1", 0, NOW, LEASE)).orElseThrow();
        assertThat(store.apply(order.id(), OrderTransition.complete("n1", 2, new ObjectId(), NOW))).isEmpty();
        assertThat(store.apply(order.id(), OrderTransition.heartbeat("n2", 1, NOW, LEASE, null))).isEmpty();
        assertThat(store.apply(order.id(), OrderTransition.start("n2", 1, NOW, LEASE, null))).isEmpty();
        assertThat(store.findById(order.id())).get().extracting(Order::status).isEqualTo(OrderStatus.ASSIGNED);
    }

    @Test
    void expiryOnlyFiresOnceTheStoredLeaseHasPassed() {
        Order order = store.insert(spec("j4"), NOW);
        Order held = store.apply(order.id(), OrderTransition.claim("n1", 0, NOW, LEASE)).orElseThrow();
        assertThat(store.apply(order.id(), OrderTransition.expire(held, NOW.plusSeconds(10)))).isEmpty();
        Optional<Order> expired = store.apply(order.id(), OrderTransition.expire(held, NOW.plus(LEASE).plusSeconds(1)));
        assertThat(expired).get().satisfies(o -> {
            assertThat(o.status()).isEqualTo(OrderStatus.UNASSIGNED);
            assertThat(o.assignedTo()).isNull();
            assertThat(o.attempt()).isEqualTo(1);
        });
    }

    @Test
    void terminalOrdersCannotBeCancelledOrReclaimed() {
        Order order = store.insert(spec("j5"), NOW);
        store.apply(order.id(), OrderTransition.claim("n1", 0, NOW, LEASE)).orElseThrow();
        store.apply(order.id(), OrderTransition.complete("n1", 1, new ObjectId(), NOW)).orElseThrow();
        assertThat(store.apply(order.id(), OrderTransition.cancel(NOW, "late"))).isEmpty();
        assertThat(store.apply(order.id(), OrderTransition.claim("n1", 1, NOW, LEASE))).isEmpty();
        assertThat(store.apply(order.id(), OrderTransition.requeue("n1", 1, NOW, "late"))).isEmpty();
    }

    @Test
    void findsByJobIdAndListsNewestFirst() {
        Order a = store.insert(spec("ja"), NOW);
        Order b = store.insert(spec("jb"), NOW.plusSeconds(1));
        assertThat(store.findByJobId("jb")).get().extracting(Order::id).isEqualTo(b.id());
        assertThat(store.page("p", null, 0, 10)).extracting(Order::id).containsExactly(b.id(), a.id());
        assertThat(store.count("p", OrderStatus.UNASSIGNED)).isEqualTo(2);
        assertThat(store.findByStatus(List.of(OrderStatus.UNASSIGNED))).hasSize(2);
    }

    private static NewOrder spec(String jobId) {
        return new NewOrder(jobId, 0, List.of(), "p", "a.py", 3);
    }
}
