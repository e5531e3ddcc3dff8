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
        OrderTransition claim = OrderTransition.claim("n1", 2, NOW, Duration.ofMinutes(5), false);
        assertThat(claim.allows(order(OrderStatus.UNASSIGNED, 2, 3, null, null))).isTrue();
        assertThat(claim.allows(order(OrderStatus.UNASSIGNED, 1, 3, null, null))).isFalse();
        assertThat(claim.allows(order(OrderStatus.ASSIGNED, 2, 3, "n2", NOW))).isFalse();
        Document set = claim.update().getUpdateObject().get("$set", Document.class);
        assertThat(set).containsEntry("attempt", 3).containsEntry("assignedTo", "n1").containsEntry("status", "assigned")
                .containsEntry("seedClaim", false).containsKey("modifiedAt");
    }

    @Test
    void aSeedClaimRemembersItsNodeAndOnlyItCanBeEndedByABareCallback() {
        OrderTransition claim = OrderTransition.claim("seed-1", 0, NOW, Duration.ofHours(6), true);
        assertThat(claim.update().getUpdateObject().get("$addToSet", Document.class)).containsEntry("seedNodes", "seed-1");
        OrderTransition bare = OrderTransition.complete("seed-1", 1, new ObjectId(), NOW, null).onlyForBareCallback(false);
        Order seedClaimed = OrderFixture.order().id(id).status(OrderStatus.ASSIGNED).attempt(1)
                .heldBy("seed-1", NOW).seedClaim("seed-1").build();
        assertThat(bare.allows(seedClaimed)).isTrue();
        // A heartbeating worker's claim, or a seed claim that has started, is not the bare callback's to end.
        assertThat(bare.allows(OrderFixture.order().id(id).status(OrderStatus.ASSIGNED).attempt(1)
                .heldBy("seed-1", NOW).build())).isFalse();
        assertThat(bare.allows(OrderFixture.order().id(id).status(OrderStatus.RUNNING).attempt(1)
                .heldBy("seed-1", NOW).seedClaim("seed-1").build())).isFalse();
    }

    @Test
    void completionCopiesTheLossOntoTheOrder() {
        Document set = OrderTransition.complete("n", 1, new ObjectId(), NOW, 2.5).update().getUpdateObject()
                .get("$set", Document.class);
        assertThat(set).containsEntry("loss", 2.5).containsEntry("status", "done");
    }

    @Test
    void heartbeatAndCallbackAreFencedByAttemptAndNode() {
        OrderTransition beat = OrderTransition.heartbeat("n2", 4, NOW, Duration.ofMinutes(1), null);
        assertThat(beat.allows(order(OrderStatus.RUNNING, 4, 5, "n2", NOW))).isTrue();
        assertThat(beat.allows(order(OrderStatus.RUNNING, 3, 5, "n2", NOW))).isFalse();
        assertThat(beat.allows(order(OrderStatus.RUNNING, 4, 5, "n1", NOW))).isFalse();
        assertThat(beat.allows(order(OrderStatus.ASSIGNED, 4, 5, "n2", NOW))).isFalse();
        OrderTransition done = OrderTransition.complete(null, 4, new ObjectId(), NOW, 1.5);
        assertThat(done.allows(order(OrderStatus.ASSIGNED, 4, 5, "anyone", NOW))).isTrue();
        assertThat(done.allows(order(OrderStatus.CANCELLED, 4, 5, "anyone", NOW))).isFalse();
    }

    @Test
    void expiryRequeuesWhileAttemptsRemainAndFailsAfter() {
        Order held = order(OrderStatus.RUNNING, 1, 3, "n1", NOW);
        assertThat(OrderTransition.expire(held, NOW.plusSeconds(1)).to()).isEqualTo(OrderStatus.UNASSIGNED);
        Order last = order(OrderStatus.RUNNING, 3, 3, "n1", NOW);
        assertThat(OrderTransition.expire(last, NOW.plusSeconds(1)).to()).isEqualTo(OrderStatus.FAILED);
    }

    @Test
    void expiryOnlyAppliesWhileTheStoredLeaseHasPassed() {
        Order held = order(OrderStatus.RUNNING, 1, 3, "n1", NOW);
        OrderTransition expire = OrderTransition.expire(held, NOW.plusSeconds(1));
        assertThat(expire.allows(held)).isTrue();
        // A heartbeat (here or on another Boss) extended the lease after the reaper looked.
        assertThat(expire.allows(order(OrderStatus.RUNNING, 1, 3, "n1", NOW.plusSeconds(60)))).isFalse();
    }

    @Test
    void cancelIsAllowedFromEveryLiveStateOnly() {
        assertThat(OrderTransition.cancel(NOW, "x").from())
                .containsExactlyInAnyOrder(OrderStatus.UNASSIGNED, OrderStatus.ASSIGNED, OrderStatus.RUNNING);
    }

    private Order order(OrderStatus status, int attempt, int maxAttempts, String node, Instant lease) {
        return OrderFixture.order().id(id).status(status).attempt(attempt).maxAttempts(maxAttempts)
                .heldBy(node, lease).build();
    }
}
