package com.maddatum.boss.order;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.EnumMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicReference;
import org.springframework.stereotype.Component;

/**
 * The order metrics ({@code /actuator/prometheus}): queue depth by status and by required label,
 * claims and their latency, dispatch latency (created to started), job duration, lease expiries and
 * re-queues. Live states are counted from the in-memory indexes; finished ones from the store,
 * at most every {@link #TERMINAL_COUNT_EVERY}, so a scrape never scans the collection each time.
 */
@Component
class OrderMetrics {

    static final Duration TERMINAL_COUNT_EVERY = Duration.ofSeconds(10);

    private final MeterRegistry registry;
    private final OrderStore store;
    private final ReadyIndex ready;
    private final LeaseTracker leases;
    private final Clock clock;
    private final Timer claimLatency;
    private final Counter claimsFound;
    private final Counter claimsEmpty;
    private final Timer dispatchLatency;
    private final Timer jobDuration;
    private final Counter leaseExpiries;
    private final Map<String, Counter> requeues = new ConcurrentHashMap<>();
    private final java.util.Set<String> labelGauges = ConcurrentHashMap.newKeySet();
    private final AtomicReference<Cached> terminal = new AtomicReference<>();

    private record Cached(Instant at, Map<OrderStatus, Long> counts) {}

    OrderMetrics(MeterRegistry registry, OrderStore store, ReadyIndex ready, LeaseTracker leases, Clock clock) {
        this.registry = registry;
        this.store = store;
        this.ready = ready;
        this.leases = leases;
        this.clock = clock;
        for (OrderStatus status : OrderStatus.values()) {
            Gauge.builder("boss.queue.depth", () -> counts().get(status)).tag("status", status.wire())
                    .description("orders by status").register(registry);
        }
        this.claimLatency = Timer.builder("boss.claim.latency").description("time to answer a claim that found work")
                .publishPercentiles(0.5, 0.95, 0.99).register(registry);
        this.claimsFound = Counter.builder("boss.claims").tag("result", "claimed").register(registry);
        this.claimsEmpty = Counter.builder("boss.claims").tag("result", "empty").register(registry);
        this.dispatchLatency = Timer.builder("boss.dispatch.latency").description("order created to script started")
                .publishPercentiles(0.5, 0.95, 0.99).register(registry);
        this.jobDuration = Timer.builder("boss.job.duration").description("script started to outcome")
                .publishPercentiles(0.5, 0.95).register(registry);
        this.leaseExpiries = Counter.builder("boss.lease.expiries").register(registry);
    }

    /** Orders by status: live ones exact from memory, finished ones from the store (cached). */
    Map<OrderStatus, Long> counts() {
        Map<OrderStatus, Long> counts = new EnumMap<>(OrderStatus.class);
        counts.put(OrderStatus.UNASSIGNED, (long) ready.size());
        Map<OrderStatus, Long> held = leases.countByStatus();
        counts.put(OrderStatus.ASSIGNED, held.getOrDefault(OrderStatus.ASSIGNED, 0L));
        counts.put(OrderStatus.RUNNING, held.getOrDefault(OrderStatus.RUNNING, 0L));
        counts.putAll(terminalCounts());
        return counts;
    }

    private Map<OrderStatus, Long> terminalCounts() {
        Cached cached = terminal.get();
        Instant now = clock.instant();
        if (cached == null || Duration.between(cached.at(), now).compareTo(TERMINAL_COUNT_EVERY) > 0) {
            Map<OrderStatus, Long> counts = new EnumMap<>(OrderStatus.class);
            for (OrderStatus status : new OrderStatus[] {OrderStatus.DONE, OrderStatus.FAILED, OrderStatus.CANCELLED}) {
                counts.put(status, store.count(null, status));
            }
            cached = new Cached(now, counts);
            terminal.set(cached);
        }
        return cached.counts();
    }

    /** Registers boss.queue.ready{label=...} (claimable orders needing a label) for labels not seen before. */
    void seenLabels(java.util.Collection<String> labels) {
        for (String label : labels.isEmpty() ? java.util.List.of("none") : labels) {
            if (labelGauges.add(label)) {
                Gauge.builder("boss.queue.ready", ready, r -> r.labelCounts().getOrDefault(label, 0L))
                        .tag("label", label).description("claimable orders needing a label").register(registry);
            }
        }
    }

    void claim(Duration took, boolean found) {
        if (found) {
            claimsFound.increment();
            claimLatency.record(took);
        } else {
            claimsEmpty.increment();
        }
    }

    void started(Order order) {
        if (order.createdDate() != null && order.startedAt() != null) {
            dispatchLatency.record(Duration.between(order.createdDate(), order.startedAt()));
        }
    }

    void finished(Order order) {
        Instant from = order.startedAt();
        if (from != null && order.finishedAt() != null) {
            jobDuration.record(Duration.between(from, order.finishedAt()));
        }
    }

    void leaseExpired() {
        leaseExpiries.increment();
    }

    void requeued(String reason) {
        String kind = reason == null ? "other" : reason.startsWith("lease expired") ? "lease-expired"
                : reason.contains("WorkerShutdown") ? "worker-shutdown" : "worker-reported";
        requeues.computeIfAbsent(kind, k -> Counter.builder("boss.requeues").tag("reason", k).register(registry))
                .increment();
    }
}
