package com.maddatum.boss.readmodel;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.maddatum.boss.order.LabelSetDemand;
import com.maddatum.boss.order.NewOrder;
import com.maddatum.boss.order.OrderQueries;
import com.maddatum.boss.web.ApiProblem;
import com.maddatum.boss.worker.WorkerRegistry;
import io.swagger.v3.oas.annotations.Operation;
import io.swagger.v3.oas.annotations.media.Content;
import io.swagger.v3.oas.annotations.media.ExampleObject;
import io.swagger.v3.oas.annotations.responses.ApiResponse;
import io.swagger.v3.oas.annotations.tags.Tag;
import java.util.Comparator;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Pattern;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.RestController;

/**
 * How much waiting work a kind of Worker could take: what an autoscaler (KEDA's {@code metrics-api}
 * trigger) polls to size a pool of Workers, with a scoped token instead of database credentials.
 * Here rather than in {@code order} because it is a read for pollers, like {@code /workers}; the counting
 * is the order package's ({@link OrderQueries#demand}), from memory: a few counts per distinct set of
 * required labels among the waiting orders, never a read of the store, so polling it costs nothing.
 */
@RestController
@Tag(name = "workers")
class DemandController {

    /** As many labels as a Worker may register. */
    static final int MAX_LABELS = 64;
    private static final Pattern LABEL = Pattern.compile(NewOrder.LABEL);
    private static final Comparator<LabelSetView> BY_LABELS = Comparator
            .comparingInt((LabelSetView v) -> v.requiredLabels().size())
            .thenComparing(v -> String.join(",", v.requiredLabels()));

    private final OrderQueries orders;
    private final WorkerRegistry workers;

    DemandController(OrderQueries orders, WorkerRegistry workers) {
        this.orders = orders;
        this.workers = workers;
    }

    /**
     * @param gpuMemoryMiB the GPU memory of each slot of the Worker, or null for a Worker with no GPU;
     *     shown even when null, so that the answer names the kind of Worker it counted for
     */
    record DemandView(List<String> labels, @JsonInclude(JsonInclude.Include.ALWAYS) Long gpuMemoryMiB,
            long claimable, long inFlight, long wanted, List<LabelSetView> byLabelSet) {}

    record LabelSetView(List<String> requiredLabels, long unassigned, long claimable) {

        static LabelSetView of(LabelSetDemand demand) {
            return new LabelSetView(List.copyOf(new TreeSet<>(demand.requiredLabels())), demand.unassigned(),
                    demand.claimable());
        }
    }

    @Operation(summary = "Unassigned orders a Worker with these labels (and GPU memory) could take",
            description = "labels: the Worker's labels, comma-separated (none: a Worker with no labels). "
                    + "gpuMemoryMiB: the memory of each slot's GPU; without it, orders with minGpuMemoryMiB are "
                    + "not counted, as such a Worker is never given them. claimable is the total waiting; "
                    + "inFlight those assigned or running now; wanted the sum, what KEDA's metrics-api trigger should "
                    + "scale on (valueLocation: wanted), so that busy Workers are not scaled away; byLabelSet splits it by the labels the "
                    + "orders require (unassigned: all of them; claimable: those this Worker could take).")
    @ApiResponse(responseCode = "200", content = @Content(examples = @ExampleObject(value = "{\"labels\":[\"cuda\","
            + "\"gpu\"],\"gpuMemoryMiB\":24576,\"claimable\":12,\"inFlight\":3,\"wanted\":15,\"byLabelSet\":[{\"requiredLabels\":[],"
            + "\"unassigned\":2,\"claimable\":2},{\"requiredLabels\":[\"gpu\"],\"unassigned\":13,\"claimable\":10}]}")))
    @GetMapping("/fleet/demand")
    DemandView demand(@RequestParam(required = false) String labels,
            @RequestParam(required = false) Long gpuMemoryMiB) {
        Set<String> workerLabels = labels(labels);
        if (gpuMemoryMiB != null && gpuMemoryMiB < 0) {
            throw ApiProblem.invalidField("gpuMemoryMiB", "gpuMemoryMiB must be an integer, 0 or more.");
        }
        List<LabelSetView> bySet = orders.demand(workerLabels, gpuMemoryMiB).stream()
                .map(LabelSetView::of).sorted(BY_LABELS).toList();
        long claimable = bySet.stream().mapToLong(LabelSetView::claimable).sum();
        long inFlight = inFlight(workerLabels, gpuMemoryMiB);
        return new DemandView(List.copyOf(workerLabels), gpuMemoryMiB, claimable, inFlight, claimable + inFlight, bySet);
    }

    /**
     * Orders assigned or running now on Workers of this kind (nodes that registered at least these labels)
     * that such a Worker could have taken. An autoscaler that sized the pool on waiting orders alone would
     * shrink it under Workers still busy with their jobs; on {@code wanted} (waiting plus running) it removes
     * a Worker only when there is one too many. Jobs running on other kinds of Workers (CPU boxes running
     * unlabelled jobs, say) are not this pool's. Walks the held orders, at most the fleet's slots.
     */
    private long inFlight(Set<String> workerLabels, Long gpuMemoryMiB) {
        return orders.heldByNode().entrySet().stream()
                .filter(held -> workers.labelsOf(held.getKey()).containsAll(workerLabels))
                .flatMap(held -> held.getValue().stream())
                .filter(o -> workerLabels.containsAll(o.requiredLabels()))
                .filter(o -> o.minGpuMemoryMiB() == null || (gpuMemoryMiB != null && gpuMemoryMiB >= o.minGpuMemoryMiB()))
                .count();
    }

    /** The Worker's labels, sorted: empty for none; each must be a label a Worker could register. */
    private static Set<String> labels(String param) {
        TreeSet<String> labels = new TreeSet<>();
        if (param == null || param.isEmpty()) {
            return labels;
        }
        String[] parts = param.split(",", -1);
        if (parts.length > MAX_LABELS) {
            throw ApiProblem.invalidField("labels", "labels takes at most " + MAX_LABELS + " labels.");
        }
        for (String part : parts) {
            String label = part.trim();
            if (!LABEL.matcher(label).matches()) {
                throw ApiProblem.invalidField("labels", "labels is a comma-separated list of labels; a label is "
                        + "1-64 letters, digits, '_', '.', ':' or '-'.");
            }
            labels.add(label);
        }
        return labels;
    }
}
