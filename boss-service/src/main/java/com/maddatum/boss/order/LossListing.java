package com.maddatum.boss.order;

import com.maddatum.boss.order.OrderCatalog.Filter;
import com.maddatum.boss.order.OrderCatalog.Scope;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;
import java.util.stream.Stream;
import org.bson.types.ObjectId;

/**
 * A listing sorted by loss, pieced together from what memory already keeps sorted, so that no request
 * sorts anything: the scope's done orders ranked by loss ({@link ProjectBoards}), then those without a
 * loss, which are the done ones that reported none and then every order that is not done, each group
 * newest first ({@link OrderCatalog}). Only done orders carry a loss, so a listing of another status is
 * its newest-first listing. A page costs its offset within the group it starts in, plus its size.
 */
final class LossListing {

    /** The order of the groups without a loss: finished with no loss, then in progress, waiting, failed, cancelled. */
    private static final List<OrderStatus> NOT_DONE = List.of(OrderStatus.RUNNING, OrderStatus.ASSIGNED,
            OrderStatus.UNASSIGNED, OrderStatus.FAILED, OrderStatus.CANCELLED);

    private record Group(long size, Supplier<Stream<ObjectId>> ids) {}

    private LossListing() {}

    static List<ObjectId> page(OrderCatalog catalog, ProjectBoards boards, Filter filter, boolean highestFirst,
            int page, int size) {
        OrderStatus status = filter.status();
        if (status != null && status != OrderStatus.DONE) {
            return catalog.page(filter, page, size);
        }
        Scope scope = filter.scope();
        List<Group> groups = new ArrayList<>();
        groups.add(new Group(boards.rankedCount(scope), () -> boards.ranked(scope, highestFirst)));
        groups.add(new Group(boards.withoutLossCount(scope), () -> boards.withoutLoss(scope)));
        if (status == null) {
            for (OrderStatus other : NOT_DONE) {
                Filter listing = filter.withStatus(other);
                groups.add(new Group(catalog.count(listing), () -> catalog.newestFirst(listing)));
            }
        }
        return slice(groups, (long) page * size, size);
    }

    /**
     * The {@code size} ids from {@code offset} on, across the groups in turn. The sizes are counters kept
     * beside the groups; an order moving between groups during the walk can shift the page by one, as in
     * any listing read while it changes.
     */
    private static List<ObjectId> slice(List<Group> groups, long offset, int size) {
        List<ObjectId> ids = new ArrayList<>(size);
        long skip = offset;
        for (Group group : groups) {
            if (ids.size() == size) {
                break;
            }
            if (skip >= group.size()) {
                skip -= group.size();
                continue;
            }
            group.ids().get().skip(skip).limit(size - ids.size()).forEach(ids::add);
            skip = 0;
        }
        return ids;
    }
}
