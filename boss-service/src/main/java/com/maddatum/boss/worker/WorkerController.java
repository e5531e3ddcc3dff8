package com.maddatum.boss.worker;

import io.swagger.v3.oas.annotations.Operation;
import io.swagger.v3.oas.annotations.media.Content;
import io.swagger.v3.oas.annotations.media.ExampleObject;
import io.swagger.v3.oas.annotations.tags.Tag;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.maddatum.boss.config.BossProperties;
import com.maddatum.boss.order.Order;
import com.maddatum.boss.order.OrderService;
import com.maddatum.boss.outcome.OutcomeService;
import com.maddatum.boss.web.ApiProblem;
import com.maddatum.boss.web.BsonView;
import jakarta.validation.Valid;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RestController;

/** The seed's {@code /worker-node/create}, and the fleet view for people. */
@RestController
@Tag(name = "workers")
class WorkerController {

    private final WorkerRegistry registry;
    private final OrderService orders;
    private final OutcomeService outcomes;
    private final Clock clock;
    private final Duration offlineAfter;

    WorkerController(WorkerRegistry registry, OrderService orders, OutcomeService outcomes, Clock clock,
            BossProperties properties) {
        this.registry = registry;
        this.orders = orders;
        this.outcomes = outcomes;
        this.clock = clock;
        this.offlineAfter = properties.workers().offlineAfter();
    }

    @Operation(summary = "Register or update a worker node (the seed's route)")
    @io.swagger.v3.oas.annotations.parameters.RequestBody(content = @Content(examples = @ExampleObject(value =
            "{\"name\":\"gpu-1\",\"labels\":[\"gpu\",\"cuda\"],\"slots\":2,\"host\":\"gpu-1.lab\",\"gpus\":"
            + "[{\"index\":0,\"model\":\"NVIDIA H100\",\"memoryMb\":81559}],\"scripts\":[\"nn.py\",\"sk.py\"]}")))
    @PostMapping("/worker-node/create")
    Map<String, Object> create(@Valid @RequestBody WorkerRegistration registration) {
        if (registration.effectiveName() == null) {
            throw ApiProblem.invalidField("name", "name (or the seed's nodeName) is required.");
        }
        return BsonView.plain(registry.register(registration));
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
        Map<String, long[]> finished = outcomes.jobsByNode();
        return registry.all().stream().map(worker -> {
            String name = worker.getString("_id");
            Instant seen = registry.lastSeen(worker);
            List<Order> current = held.getOrDefault(name, List.of());
            String state = seen == null || Duration.between(seen, now).compareTo(offlineAfter) > 0
                    ? "offline" : current.isEmpty() ? "idle" : "busy";
            Map<String, Object> plain = BsonView.plain(worker);
            return new WorkerView(name, state, seen, worker.getList("labels", String.class, List.of()),
                    plain.get("slots"), worker.getString("host"), plain.get("gpus"), plain.get("scripts"),
                    current.stream().map(o -> o.id().toHexString()).toList(),
                    current.stream().map(Order::jobId).toList(),
                    finished.getOrDefault(name, new long[2])[0], finished.getOrDefault(name, new long[2])[1]);
        }).sorted(Comparator.comparing(WorkerView::name)).toList();
    }
}
