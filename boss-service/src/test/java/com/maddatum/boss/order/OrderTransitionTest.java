package com.maddatum.boss.order;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.bson.Document;
import org.bson.types.ObjectId;
import org.junit.jupiter.api.Test;

class OrderTransitionTest {

    private static final Instant NOW = Instant.parse("2026-01-01T00:00:00Z");
    private final ObjectId id = new ObjectId();

    @Test
    void claimExpectsUnassignedAtTheSeenAttemptAndBumpsIt() {
        OrderTransition claim = OrderTransition.claim("n1", 2, NOW, Duration.ofMinutes(5));
        Document filter = claim.filter(id);
        assertThat(filter).containsEntry("_id", id).containsEntry("status", "unassigned").containsEntry("attempt", 2);
        Document set = claim.update().getUpdateObject().get("$set", Document.class);
        assertThat(set).containsEntry("attempt", 3).containsEntry("assignedTo", "n1").containsEntry("status", "assigned");
    }

    @Test
    void filtersAreFlatAndLedByIdSoTheEmbeddedStoreUsesItsIdLookup() {
        Document filter = OrderTransition.complete("n1", 1, new ObjectId(), NOW).filter(id);
        assertThat(filter.keySet().iterator().next()).isEqualTo("_id");
        assertThat(filter).doesNotContainKey("$and");
    }

    @Test
    void heartbeatAndCallbackAreFencedByAttemptAndNode() {
        Document filter = OrderTransition.heartbeat("n2", 4, NOW, Duration.ofMinutes(1), null).filter(id);
        assertThat(filter).containsEntry("attempt", 4).containsEntry("assignedTo", "n2").containsEntry("status", "running");
    }

    @Test
    void expiryRequeuesWhileAttemptsRemainAndFailsAfter() {
        Order held = order(1, 3);
        assertThat(OrderTransition.expire(held, NOW).to()).isEqualTo(OrderStatus.UNASSIGNED);
        Order last = order(3, 3);
        assertThat(OrderTransition.expire(last, NOW).to()).isEqualTo(OrderStatus.FAILED);
        assertThat(OrderTransition.expire(last, NOW).filter(id).get("leaseExpiresAt", Document.class))
                .containsKey("$lt");
    }

    @Test
    void cancelIsAllowedFromEveryLiveStateOnly() {
        assertThat(OrderTransition.cancel(NOW, "x").from())
                .containsExactlyInAnyOrder(OrderStatus.UNASSIGNED, OrderStatus.ASSIGNED, OrderStatus.RUNNING);
    }

    private Order order(int attempt, int maxAttempts) {
        return new Order(id, "job", NOW, OrderStatus.RUNNING, 0, List.of(), null, "a.py", attempt, maxAttempts, "n1",
                NOW, NOW, null, null, null, null, List.of());
    }
}
