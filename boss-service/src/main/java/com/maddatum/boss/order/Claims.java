package com.maddatum.boss.order;

import com.maddatum.boss.worker.WorkerRegistry;
import java.util.Map;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.stereotype.Component;

/**
 * A claim as a Worker asks for it, by {@code /bored} or by a callback that also claims the next order
 * ({@code POST /callback?next=true}): the same rules, the same single conditional write, and the same
 * answer, the order with its job inside ({@code job}) so that the Worker need not fetch it.
 */
@Component
public class Claims {

    private static final Logger log = LoggerFactory.getLogger(Claims.class);

    private final OrderService orders;
    private final WorkerRegistry workers;
    private final ObjectProvider<JobLookup> jobs;

    Claims(OrderService orders, WorkerRegistry workers, ObjectProvider<JobLookup> jobs) {
        this.orders = orders;
        this.workers = workers;
        this.jobs = jobs;
    }

    /** Who is asking: labels as the node registered them; per call, since each slot has its own GPU. */
    public Claimer claimer(String node, boolean heartbeats, Long gpuMemoryMiB) {
        workers.seen(node);
        return new Claimer(node, workers.labelsOf(node), heartbeats, gpuMemoryMiB);
    }

    public Optional<Order> claim(Claimer claimer) {
        return orders.claim(claimer);
    }

    /**
     * The claimed order as the Worker gets it. A job that cannot be read now (gone, or the store failing)
     * leaves {@code job} out rather than failing the answer: the order is claimed already, and a Worker
     * then fetches the job itself and hands the order back if that fails too, instead of the order waiting
     * out its lease.
     */
    public OrderView answer(Order order) {
        OrderView view = OrderView.of(order);
        JobLookup lookup = jobs.getIfAvailable();
        if (lookup == null) {
            return view;
        }
        try {
            Optional<Map<String, Object>> job = lookup.wireJob(order.jobId());
            return job.map(view::withJob).orElse(view);
        } catch (RuntimeException e) {
            log.warn("claim answered without its job order={} job={} error={}", order.id(), order.jobId(),
                    e.toString());
            return view;
        }
    }
}
