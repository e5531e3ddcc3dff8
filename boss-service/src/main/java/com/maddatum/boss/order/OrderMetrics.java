package com.maddatum.boss.order;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.stereotype.Component;

/**
 * The order metrics ({@code /actuator/prometheus}): orders by status and claimable orders by required
 * label, claims and their latency, dispatch latency (created to started), job duration, lease expiries
 * and re-queues. Every gauge reads memory ({@link OrderCatalog}, {@link ReadyIndex}), so a scrape costs
 * the same however many orders the store holds. A label has a gauge only while some waiting order
 * needs it, and at most {@link #MAX_LABEL_GAUGES} labels have one at a time: labels come from
 * submitted jobs, and each would otherwise be a time series forever.
 */
@Component
class OrderMetrics {

    private static final Logger log = LoggerFactory.getLogger(OrderMetrics.class);
    static final int MAX_LABEL_GAUGES = 100;

    private final MeterRegistry registry;
    private final ReadyIndex ready;
    private final Timer claimLatency;
    private final Counter claimsFound;
    private final Counter claimsEmpty;
    private final Counter claimsSkipped;
    private final Timer dispatchLatency;
    private final Timer jobDuration;
    private final Counter leaseExpiries;
    private final Map<String, Counter> requeues = new ConcurrentHashMap<>();
    private final Map<String, Gauge> labelGauges = new ConcurrentHashMap<>();
    /** Labels waiting orders need that found no room for a gauge; they get one when a gauge goes. */
    private final Set<String> withoutGauge = ConcurrentHashMap.newKeySet();

    OrderMetrics(MeterRegistry registry, OrderCatalog catalog, ReadyIndex ready) {
        this.registry = registry;
        this.ready = ready;
        for (OrderStatus status : OrderStatus.values()) {
            Gauge.builder("boss.queue.depth", catalog, c -> c.count(new OrderCatalog.Filter(null, status)))
                    .tag("status", status.wire()).description("orders by status").register(registry);
        }
        ready.onLabel(new ReadyIndex.LabelListener() {
            @Override
            public void needed(String label) {
                labelNeeded(label);
            }

            @Override
            public void notNeeded(String label) {
                labelNotNeeded(label);
            }
        });
        this.claimLatency = Timer.builder("boss.claim.latency").description("time to answer a claim that found work")
                .publishPercentiles(0.5, 0.95, 0.99).register(registry);
        this.claimsFound = Counter.builder("boss.claims").tag("result", "claimed").register(registry);
        this.claimsEmpty = Counter.builder("boss.claims").tag("result", "empty").register(registry);
        this.claimsSkipped = Counter.builder("boss.claims.skipped")
                .description("orders taken out of the queue because claiming them failed in a way that repeats")
                .register(registry);
        this.dispatchLatency = Timer.builder("boss.dispatch.latency").description("order created to script started")
                .publishPercentiles(0.5, 0.95, 0.99).register(registry);
        this.jobDuration = Timer.builder("boss.job.duration").description("script started to outcome")
                .publishPercentiles(0.5, 0.95).register(registry);
        this.leaseExpiries = Counter.builder("boss.lease.expiries").register(registry);
    }

    /** Registers boss.queue.ready{label=...} (claimable orders needing a label) while there is room. */
    private synchronized void labelNeeded(String label) {
        if (labelGauges.containsKey(label)) {
            return;
        }
        if (labelGauges.size() >= MAX_LABEL_GAUGES) {
            if (withoutGauge.add(label)) {
                log.warn("label gauge not registered: too many labels waiting max={} label={}", MAX_LABEL_GAUGES, label);
            }
            return;
        }
        withoutGauge.remove(label);
        labelGauges.put(label, Gauge.builder("boss.queue.ready", ready, r -> r.labelCount(label))
                .tag("label", label).description("claimable orders needing a label").register(registry));
    }

    private synchronized void labelNotNeeded(String label) {
        withoutGauge.remove(label);
        Gauge gauge = labelGauges.remove(label);
        if (gauge == null) {
            return;
        }
        registry.remove(gauge);
        // Room for one more: give it to a label still waiting without one.
        withoutGauge.stream().filter(waiting -> ready.labelCount(waiting) > 0).findFirst().ifPresent(this::labelNeeded);
    }

    void claim(Duration took, boolean found) {
        if (found) {
            claimsFound.increment();
            claimLatency.record(took);
        } else {
            claimsEmpty.increment();
        }
    }

    void claimSkipped() {
        claimsSkipped.increment();
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
