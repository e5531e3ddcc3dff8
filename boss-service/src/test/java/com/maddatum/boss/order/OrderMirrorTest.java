package com.maddatum.boss.order;

import static com.maddatum.boss.order.OrderFixture.T0;
import static com.maddatum.boss.order.OrderFixture.order;
import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;
import java.util.Set;
import org.bson.types.ObjectId;
import org.junit.jupiter.api.Test;

/** The one writer of memory, with real views: states apply in revision order, whatever order they arrive in. */
class OrderMirrorTest {

    private final ReadyIndex ready = new ReadyIndex();
    private final LeaseTracker leases = new LeaseTracker();
    private final OrderCatalog catalog = new OrderCatalog();
    private final ProjectBoards boards = new ProjectBoards();
    private final ScriptDurations durations = new ScriptDurations(com.maddatum.boss.support.TestProperties.defaults());
    private final OrderMirror mirror = new OrderMirror(ready, leases, catalog, boards, durations, new OrderWatch(null));
    private final ObjectId id = new ObjectId();

    @Test
    void aLateHeartbeatsAnswerCannotUndoTheRequeueThatFollowedIt() {
        Order running = order().id(id).status(OrderStatus.RUNNING).attempt(1).heldBy("n1", T0).revision(2).build();
        Order requeued = order().id(id).status(OrderStatus.UNASSIGNED).attempt(1).revision(3).build();
        mirror.apply(requeued);
        assertThat(mirror.apply(running)).isFalse();
        assertThat(ready.contains(id)).isTrue();
        assertThat(leases.byNode()).isEmpty();
        assertThat(catalog.count(new OrderCatalog.Filter(null, OrderStatus.UNASSIGNED))).isEqualTo(1);
        assertThat(catalog.count(new OrderCatalog.Filter(null, OrderStatus.RUNNING))).isZero();
    }

    @Test
    void theSameRevisionAgainPutsBackACandidateAClaimerTookButCouldNotClaim() {
        Order waiting = order().id(id).revision(4).build();
        mirror.apply(waiting);
        assertThat(ready.take(Set.of()).id()).isEqualTo(id);
        assertThat(ready.contains(id)).isFalse();
        assertThat(mirror.apply(waiting)).isTrue();
        assertThat(ready.contains(id)).isTrue();
        assertThat(catalog.count(new OrderCatalog.Filter(null, null))).isEqualTo(1);
    }

    @Test
    void countersFollowAnOrderThroughItsLifeAndAcrossProjectsAndNodes() {
        mirror.apply(order().id(id).project("p").revision(0).build());
        mirror.apply(order().id(id).project("p").status(OrderStatus.ASSIGNED).attempt(1).heldBy("n1", T0)
                .revision(1).build());
        mirror.apply(order().id(id).project("p").status(OrderStatus.DONE).attempt(1).heldBy("n1", null)
                .finished(T0).loss(0.5).revision(2).build());
        assertThat(catalog.countByStatus()).containsEntry(OrderStatus.DONE, 1L).containsEntry(OrderStatus.UNASSIGNED, 0L)
                .containsEntry(OrderStatus.ASSIGNED, 0L);
        assertThat(catalog.count(new OrderCatalog.Filter("p", OrderStatus.DONE))).isEqualTo(1);
        assertThat(catalog.projects()).containsExactly("p");
        assertThat(catalog.finishedByNode()).isEqualTo(Map.of("n1", Map.of(OrderStatus.DONE, 1L)));
        assertThat(boards.best("p", 10)).containsExactly(id);
        assertThat(ready.size()).isZero();
        assertThat(leases.byNode()).isEmpty();
    }

    @Test
    void anOrderTheStoreNoLongerHasIsForgottenEverywhere() {
        mirror.apply(order().id(id).project("gone").revision(0).build());
        mirror.forget(id);
        assertThat(ready.contains(id)).isFalse();
        assertThat(catalog.projects()).isEmpty();
        assertThat(catalog.countByStatus().values()).allMatch(n -> n == 0);
        assertThat(mirror.revisionOf(id)).isEqualTo(-1);
    }

    @Test
    void listingsAreNewestFirstAndPaged() {
        ObjectId[] ids = new ObjectId[5];
        for (int i = 0; i < 5; i++) {
            ids[i] = new ObjectId();
            mirror.apply(order().id(ids[i]).created(T0.plusSeconds(i)).project("pages").build());
        }
        OrderCatalog.Filter all = new OrderCatalog.Filter("pages", null);
        assertThat(catalog.page(all, 0, 2)).containsExactly(ids[4], ids[3]);
        assertThat(catalog.page(all, 2, 2)).containsExactly(ids[0]);
        assertThat(catalog.count(all)).isEqualTo(5);
    }

    @Test
    void theLeaderboardRanksByLossAndTheHistoryKeepsTheLatestInOrder() {
        ObjectId[] ids = new ObjectId[4];
        double[] losses = {3.0, 1.0, 2.0, 0.5};
        for (int i = 0; i < 4; i++) {
            ids[i] = new ObjectId();
            mirror.apply(order().id(ids[i]).project("board").status(OrderStatus.DONE).finished(T0.plusSeconds(i))
                    .loss(losses[i]).revision(3).build());
        }
        assertThat(boards.best("board", 3)).containsExactly(ids[3], ids[1], ids[2]);
        assertThat(boards.latest("board", 2)).containsExactly(ids[2], ids[3]);
    }
}
