package com.maddatum.boss.order;

import static com.maddatum.boss.order.OrderFixture.T0;
import static com.maddatum.boss.order.OrderFixture.order;
import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import org.bson.types.ObjectId;
import org.junit.jupiter.api.Test;

/** Listings sorted by loss, pieced from memory's sorted views: every page size gives the same sequence. */
class LossListingTest {

    private final OrderCatalog catalog = new OrderCatalog();
    private final ProjectBoards boards = new ProjectBoards();
    private final OrderMirror mirror = new OrderMirror(new ReadyIndex(), new LeaseTracker(), catalog, boards,
            new ScriptDurations(com.maddatum.boss.support.TestProperties.defaults()), new OrderWatch(null));
    private int created;

    private ObjectId add(OrderStatus status, Double loss, String project, String sweep) {
        ObjectId id = new ObjectId();
        OrderFixture order = order().id(id).created(T0.plusSeconds(created++)).status(status).project(project)
                .sweep(sweep).loss(loss).revision(1);
        if (status.isTerminal()) {
            order.finished(T0.plusSeconds(100 + created));
        }
        mirror.apply(order.build());
        return id;
    }

    private List<ObjectId> walk(OrderCatalog.Filter filter, boolean highestFirst, int size) {
        List<ObjectId> all = new ArrayList<>();
        for (int page = 0; ; page++) {
            List<ObjectId> one = LossListing.page(catalog, boards, filter, highestFirst, page, size);
            all.addAll(one);
            if (one.size() < size) {
                return all;
            }
        }
    }

    @Test
    void rankedFirstThenDoneWithoutLossThenLiveFailedAndCancelledWhateverThePageSize() {
        ObjectId cancelled = add(OrderStatus.CANCELLED, null, "p", null);
        ObjectId mid = add(OrderStatus.DONE, 2.0, "p", null);
        ObjectId failed = add(OrderStatus.FAILED, null, "p", null);
        ObjectId low = add(OrderStatus.DONE, 1.0, "p", null);
        ObjectId unranked = add(OrderStatus.DONE, null, "p", null);
        ObjectId queued = add(OrderStatus.UNASSIGNED, null, "p", null);
        ObjectId high = add(OrderStatus.DONE, 3.0, "p", null);
        ObjectId running = add(OrderStatus.RUNNING, null, "p", null);
        ObjectId elsewhere = add(OrderStatus.DONE, 0.5, "q", null);

        OrderCatalog.Filter project = new OrderCatalog.Filter("p", null, null);
        for (int size = 1; size <= 9; size++) {
            assertThat(walk(project, false, size)).as("page size %d", size)
                    .containsExactly(low, mid, high, unranked, running, queued, failed, cancelled);
            assertThat(walk(project, true, size)).as("page size %d", size)
                    .containsExactly(high, mid, low, unranked, running, queued, failed, cancelled);
        }
        assertThat(walk(new OrderCatalog.Filter(null, null, null), false, 4)).startsWith(elsewhere, low, mid, high);
        assertThat(walk(project.withStatus(OrderStatus.FAILED), false, 2)).containsExactly(failed);
        assertThat(walk(project.withStatus(OrderStatus.DONE), true, 2)).containsExactly(high, mid, low, unranked);
    }

    @Test
    void anOrderLeavesTheRankingWhenItIsForgottenAndEntersItWhenItFinishes() {
        ObjectId kept = add(OrderStatus.DONE, 1.0, "p", "s");
        ObjectId gone = add(OrderStatus.DONE, 2.0, "p", "s");
        ObjectId late = add(OrderStatus.RUNNING, null, "p", "s");
        OrderCatalog.Filter sweep = new OrderCatalog.Filter(null, "s", null);
        assertThat(walk(sweep, false, 10)).containsExactly(kept, gone, late);

        mirror.forget(gone);
        mirror.apply(order().id(late).created(T0.plusSeconds(2)).status(OrderStatus.DONE).project("p").sweep("s")
                .loss(0.5).finished(T0.plusSeconds(300)).revision(2).build());
        assertThat(walk(sweep, false, 1)).containsExactly(late, kept);
        assertThat(boards.rankedCount(new OrderCatalog.Scope(null, "s"))).isEqualTo(2);
        assertThat(boards.rankedCount(new OrderCatalog.Scope("p", "s"))).isEqualTo(2);
        assertThat(catalog.count(new OrderCatalog.Filter("p", "s", OrderStatus.RUNNING))).isZero();
        assertThat(boards.best("p", 10)).containsExactly(late, kept);
    }
}
