package com.maddatum.boss.order;

import java.time.Instant;
import java.util.List;
import org.bson.types.ObjectId;

/** Builds orders for unit tests: an unassigned order at attempt 0, revision 0, unless told otherwise. */
final class OrderFixture {

    static final Instant T0 = Instant.parse("2026-01-01T00:00:00Z");

    private ObjectId id = new ObjectId();
    private Instant created = T0;
    private OrderStatus status = OrderStatus.UNASSIGNED;
    private int priority;
    private List<String> labels = List.of();
    private String project;
    private int attempt;
    private int maxAttempts = 3;
    private String node;
    private Instant lease;
    private long revision;
    private boolean seedClaim;
    private List<String> seedNodes = List.of();
    private Instant finished;
    private Double loss;
    private String script = "a.py";
    private Instant started;
    private List<Order.HistoryEntry> history = List.of();
    private String sweep;
    private Long gpuMemory;

    static OrderFixture order() {
        return new OrderFixture();
    }

    OrderFixture id(ObjectId value) { id = value; return this; }
    OrderFixture created(Instant value) { created = value; return this; }
    OrderFixture status(OrderStatus value) { status = value; return this; }
    OrderFixture priority(int value) { priority = value; return this; }
    OrderFixture labels(String... value) { labels = List.of(value); return this; }
    OrderFixture project(String value) { project = value; return this; }
    OrderFixture attempt(int value) { attempt = value; return this; }
    OrderFixture maxAttempts(int value) { maxAttempts = value; return this; }
    OrderFixture heldBy(String value, Instant leaseUntil) { node = value; lease = leaseUntil; return this; }
    OrderFixture revision(long value) { revision = value; return this; }
    OrderFixture seedClaim(String... nodes) { seedClaim = true; seedNodes = List.of(nodes); return this; }
    OrderFixture finished(Instant value) { finished = value; return this; }
    OrderFixture loss(Double value) { loss = value; return this; }
    OrderFixture script(String value) { script = value; return this; }
    OrderFixture started(Instant value) { started = value; return this; }
    OrderFixture history(Order.HistoryEntry... value) { history = List.of(value); return this; }
    OrderFixture sweep(String value) { sweep = value; return this; }
    OrderFixture minGpuMemoryMiB(long value) { gpuMemory = value; return this; }

    Order build() {
        return new Order(id, "job-" + id.toHexString(), created, status, priority, labels, project, script, attempt,
                maxAttempts, node, lease, started, finished, null, null, null, history, Order.revision(id, revision),
                seedClaim, seedNodes, null, loss, sweep, gpuMemory);
    }
}
