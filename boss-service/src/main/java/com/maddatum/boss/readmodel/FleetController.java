package com.maddatum.boss.readmodel;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.maddatum.boss.config.BossProperties;
import com.maddatum.boss.order.Order;
import com.maddatum.boss.order.OrderQueries;
import com.maddatum.boss.order.OrderStatus;
import com.maddatum.boss.web.BsonView;
import com.maddatum.boss.worker.WorkerRegistry;
import io.swagger.v3.oas.annotations.Operation;
import io.swagger.v3.oas.annotations.tags.Tag;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.RestController;

/** The fleet as people see it: every known node, idle, busy or offline, with its jobs and its counts. */
@RestController
@Tag(name = "workers")
class FleetController {

    private final WorkerRegistry registry;
    private final OrderQueries orders;
    private final Clock clock;
    private final Duration offlineAfter;

    FleetController(WorkerRegistry registry, OrderQueries orders, Clock clock, BossProperties properties) {
        this.registry = registry;
        this.orders = orders;
        this.clock = clock;
        this.offlineAfter = properties.workers().offlineAfter();
    }

    @JsonInclude(JsonInclude.Include.NON_NULL)
    record WorkerView(String name, String state, Instant lastSeenAt, List<String> labels, Object slots,
            String host, Object gpus, Object scripts, List<String> currentOrders, List<String> currentJobs,
            long jobsDone, long jobsFailed) {}

    /** Every known node: offline when not heard from for {@code boss.workers.offline-after}, else busy or idle. */
    @Operation(summary = "Every node: idle, busy or offline, with its current jobs and counts")
    @GetMapping("/workers")
    List<WorkerView> list() {
        Instant now = clock.instant();
        Map<String, List<Order>> held = orders.heldByNode();
        Map<String, Map<OrderStatus, Long>> finished = orders.finishedByNode();
        return registry.all().stream().map(worker -> {
            String name = String.valueOf(worker.get("_id"));
            Instant seen = registry.lastSeen(worker);
            List<Order> current = held.getOrDefault(name, List.of());
            String state = seen == null || Duration.between(seen, now).compareTo(offlineAfter) > 0
                    ? "offline" : current.isEmpty() ? "idle" : "busy";
            Map<String, Object> plain = BsonView.plain(worker);
            Map<OrderStatus, Long> counts = finished.getOrDefault(name, Map.of());
            return new WorkerView(name, state, seen, worker.getList("labels", String.class, List.of()),
                    plain.get("slots"), worker.getString("host"), plain.get("gpus"), plain.get("scripts"),
                    current.stream().map(o -> o.id().toHexString()).toList(),
                    current.stream().map(Order::jobId).toList(),
                    counts.getOrDefault(OrderStatus.DONE, 0L), counts.getOrDefault(OrderStatus.FAILED, 0L));
        }).sorted(Comparator.comparing(WorkerView::name)).toList();
    }
}
