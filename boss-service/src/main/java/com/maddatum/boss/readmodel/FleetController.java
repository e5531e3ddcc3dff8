package com.maddatum.boss.readmodel;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.maddatum.boss.config.BossProperties;
import com.maddatum.boss.fleet.Standings;
import com.maddatum.boss.order.Order;
import com.maddatum.boss.order.OrderQueries;
import com.maddatum.boss.order.OrderStatus;
import com.maddatum.boss.security.Caller;
import com.maddatum.boss.security.NodeAccess;
import com.maddatum.boss.security.Role;
import com.maddatum.boss.web.ApiProblem;
import com.maddatum.boss.web.BsonView;
import com.maddatum.boss.worker.WorkerRegistry;
import io.swagger.v3.oas.annotations.Operation;
import io.swagger.v3.oas.annotations.media.Content;
import io.swagger.v3.oas.annotations.media.ExampleObject;
import io.swagger.v3.oas.annotations.tags.Tag;
import jakarta.validation.Valid;
import jakarta.validation.constraints.Size;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import org.bson.Document;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RestController;

/**
 * The fleet as people see it: every known node, idle, busy, offline, draining, drained or quarantined,
 * with its jobs, its counts and, for a quarantined one, the evidence. Operators drain and undrain here.
 */
@RestController
@Tag(name = "workers")
class FleetController {

    private final WorkerRegistry registry;
    private final Standings standings;
    private final OrderQueries orders;
    private final NodeAccess nodes;
    private final Clock clock;
    private final Duration offlineAfter;

    FleetController(WorkerRegistry registry, Standings standings, OrderQueries orders, NodeAccess nodes, Clock clock,
            BossProperties properties) {
        this.registry = registry;
        this.standings = standings;
        this.orders = orders;
        this.nodes = nodes;
        this.clock = clock;
        this.offlineAfter = properties.workers().offlineAfter();
    }

    /**
     * One node. {@code state}: quarantined, draining (drained, still finishing orders), drained, offline,
     * busy or idle, in that order of precedence. {@code recentEndings}: how its last attempts ended, oldest
     * first, as the quarantine counts them.
     */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    record WorkerView(String name, String state, Instant lastSeenAt, List<String> labels, Object slots,
            String host, Object gpus, Object failedGpus, String cpuOnlyBecause, Object scripts,
            List<String> currentOrders, List<String> currentJobs, long jobsDone, long jobsFailed, Object drain,
            Object quarantine, Object recentEndings) {}

    /** {@code POST /workers/{name}/drain}'s optional body. */
    record DrainRequest(@Size(max = 500) String reason) {}

    /** Every known node: offline when not heard from for {@code boss.workers.offline-after}, else busy or idle. */
    @Operation(summary = "Every node: idle, busy, offline, draining, drained or quarantined, with its jobs and counts")
    @GetMapping("/workers")
    List<WorkerView> list() {
        Map<String, List<Order>> held = orders.heldByNode();
        Map<String, Map<OrderStatus, Long>> finished = orders.finishedByNode();
        return registry.all().stream().map(worker -> view(worker, held, finished))
                .sorted(Comparator.comparing(WorkerView::name)).toList();
    }

    @Operation(summary = "One node, as in GET /workers", description = "A Worker may read its own node: a "
            + "Kubernetes preStop polls it until the state is drained.")
    @GetMapping("/workers/{name}")
    WorkerView one(@PathVariable String name) {
        WorkerRegistry.checkNodeName(name, "name");
        nodes.require(name);
        return viewOf(name);
    }

    @Operation(summary = "Drain a node: it gets no new orders; the ones it runs finish", description = "An "
            + "operator's drain stays until an operator undrains; a Worker may drain its own node (a preStop), "
            + "and that drain is lifted when the node registers again. A node not known yet may be drained.")
    @io.swagger.v3.oas.annotations.parameters.RequestBody(required = false, content = @Content(examples =
            @ExampleObject(value = "{\"reason\":\"replacing the PSU\"}")))
    @PostMapping("/workers/{name}/drain")
    WorkerView drain(@PathVariable String name, @Valid @RequestBody(required = false) DrainRequest request) {
        WorkerRegistry.checkNodeName(name, "name");
        nodes.require(name);
        boolean byNode = Caller.current().map(c -> c.role() == Role.WORKER).orElse(false);
        standings.drain(name, byNode ? Standings.DrainedBy.NODE : Standings.DrainedBy.OPERATOR,
                request == null ? null : request.reason());
        return viewOf(name);
    }

    @Operation(summary = "Undrain a node: lifts drain and quarantine and forgets its failure streak")
    @PostMapping("/workers/{name}/undrain")
    WorkerView undrain(@PathVariable String name) {
        WorkerRegistry.checkNodeName(name, "name");
        standings.undrain(name);
        return viewOf(name);
    }

    private WorkerView viewOf(String name) {
        Document worker = registry.one(name).orElseThrow(() -> ApiProblem.notFound("worker", name));
        return view(worker, orders.heldByNode(), orders.finishedByNode());
    }

    private WorkerView view(Document worker, Map<String, List<Order>> held,
            Map<String, Map<OrderStatus, Long>> finished) {
        String name = String.valueOf(worker.get("_id"));
        Instant seen = registry.lastSeen(worker);
        List<Order> current = held.getOrDefault(name, List.of());
        Map<String, Object> plain = BsonView.plain(worker);
        Map<OrderStatus, Long> counts = finished.getOrDefault(name, Map.of());
        return new WorkerView(name, state(worker, seen, current), seen, worker.getList("labels", String.class, List.of()),
                plain.get("slots"), worker.getString("host"), plain.get("gpus"), plain.get("failedGpus"),
                worker.getString("cpuOnlyBecause"), plain.get("scripts"),
                current.stream().map(o -> o.id().toHexString()).toList(), current.stream().map(Order::jobId).toList(),
                counts.getOrDefault(OrderStatus.DONE, 0L), counts.getOrDefault(OrderStatus.FAILED, 0L),
                plain.get("drain"), plain.get("quarantine"), plain.get("endings"));
    }

    private String state(Document worker, Instant seen, List<Order> current) {
        if (worker.get("quarantine") != null) {
            return "quarantined";
        }
        if (worker.get("drain") != null) {
            return current.isEmpty() ? "drained" : "draining";
        }
        boolean offline = seen == null || Duration.between(seen, clock.instant()).compareTo(offlineAfter) > 0;
        return offline ? "offline" : current.isEmpty() ? "idle" : "busy";
    }
}
