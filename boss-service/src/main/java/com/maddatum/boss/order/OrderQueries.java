package com.maddatum.boss.order;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;
import org.bson.types.ObjectId;
import org.springframework.stereotype.Service;

/**
 * The order reads other packages use. Listings, counts and rankings come from memory
 * ({@link OrderCatalog}, {@link ProjectBoards}, {@link LeaseTracker}); the orders themselves are then
 * fetched by {@code _id}, so no read here sorts, counts or scans the store.
 */
@Service
public class OrderQueries {

    private final OrderStore store;
    private final OrderCatalog catalog;
    private final ProjectBoards boards;
    private final LeaseTracker leases;
    private final ReadyIndex ready;
    private final ScriptDurations durations;

    OrderQueries(OrderStore store, OrderCatalog catalog, ProjectBoards boards, LeaseTracker leases, ReadyIndex ready,
            ScriptDurations durations) {
        this.store = store;
        this.catalog = catalog;
        this.boards = boards;
        this.leases = leases;
        this.ready = ready;
        this.durations = durations;
    }

    public Optional<Order> findById(ObjectId id) {
        return store.findById(id);
    }

    public Optional<Order> findByJobId(String jobId) {
        return store.findByJobId(jobId);
    }

    /** Newest first; {@code project} and {@code status} filter when not null. */
    public List<Order> page(String project, OrderStatus status, int page, int size) {
        return page(project, null, status, OrderSort.NEWEST, page, size);
    }

    /** {@code project}, {@code sweep} and {@code status} filter when not null; see {@link OrderSort}. */
    public List<Order> page(String project, String sweep, OrderStatus status, OrderSort sort, int page, int size) {
        OrderCatalog.Filter filter = new OrderCatalog.Filter(project, sweep, status);
        List<ObjectId> ids = switch (sort) {
            case NEWEST -> catalog.page(filter, page, size);
            case LOWEST_LOSS -> LossListing.page(catalog, boards, filter, false, page, size);
            case HIGHEST_LOSS -> LossListing.page(catalog, boards, filter, true, page, size);
        };
        return store.findAll(ids);
    }

    /**
     * The ids of every order in {@code status}, newest first, read from memory at once: a caller that walks
     * them in batches meets each order that stays in the status, whatever moves meanwhile. Meant for the
     * live statuses, which hold the queue, not the history.
     */
    public List<ObjectId> ids(OrderStatus status) {
        return catalog.all(new OrderCatalog.Filter(null, status));
    }

    public long count(String project, OrderStatus status) {
        return count(project, null, status);
    }

    public long count(String project, String sweep, OrderStatus status) {
        return catalog.count(new OrderCatalog.Filter(project, sweep, status));
    }

    public Map<OrderStatus, Long> countByStatus() {
        return catalog.countByStatus();
    }

    /** Project names that have orders, sorted. */
    public List<String> projects() {
        return catalog.projects();
    }

    /** node -> how many orders it finished, by terminal status (done, failed, cancelled). */
    public Map<String, Map<OrderStatus, Long>> finishedByNode() {
        return catalog.finishedByNode();
    }

    /** node name -> the orders it holds right now. */
    public Map<String, List<Order>> heldByNode() {
        return leases.byNode();
    }

    /** How many orders the node holds right now (assigned or running). */
    public long heldBy(String node) {
        return catalog.heldBy(node);
    }

    /**
     * How many waiting orders a node with these labels would claim before this one, or empty when the
     * order is not waiting in this Boss's queue. Counted in memory, never by walking the queue.
     */
    public OptionalLong ahead(ObjectId orderId, Set<String> nodeLabels) {
        long ahead = ready.ahead(orderId, nodeLabels);
        return ahead < 0 ? OptionalLong.empty() : OptionalLong.of(ahead);
    }

    /**
     * The claimable orders a Worker with these labels and, per slot, this much GPU memory (null: none)
     * could take, one entry per set of required labels it has. Counted in memory from this Boss's ready
     * index, never from the store.
     */
    public List<LabelSetDemand> demand(Set<String> nodeLabels, Long gpuMemoryMiB) {
        return ready.demand(nodeLabels, gpuMemoryMiB);
    }

    /** How long the latest done runs of the script in the project took, oldest first (at most the kept number). */
    public List<Duration> recentDurations(String project, String script) {
        return durations.recent(project, script);
    }

    /** The ids of the project's done orders with the lowest loss, best first. */
    public List<ObjectId> best(String project, int limit) {
        return boards.best(project, limit);
    }

    /** The ids of the project's {@code limit} latest done orders, in the order they finished. */
    public List<ObjectId> latest(String project, int limit) {
        return boards.latest(project, limit);
    }

    /** The orders with these ids, in the order given. */
    public List<Order> findAll(List<ObjectId> ids) {
        return store.findAll(ids);
    }
}
