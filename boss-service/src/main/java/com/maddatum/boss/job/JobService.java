package com.maddatum.boss.job;

import com.maddatum.boss.order.NewOrder;
import com.maddatum.boss.order.Order;
import com.maddatum.boss.order.OrderQueries;
import com.maddatum.boss.order.OrderService;
import org.bson.Document;
import org.bson.types.ObjectId;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.dao.DuplicateKeyException;
import org.springframework.stereotype.Service;

/** Stores a job and queues its order. */
@Service
class JobService {

    private static final Logger log = LoggerFactory.getLogger(JobService.class);

    private final JobStore jobs;
    private final JobRules rules;
    private final OrderService orders;
    private final OrderQueries orderQueries;

    JobService(JobStore jobs, JobRules rules, OrderService orders, OrderQueries orderQueries) {
        this.jobs = jobs;
        this.rules = rules;
        this.orders = orders;
        this.orderQueries = orderQueries;
    }

    /**
     * Creates the job under {@code jobId}, or finishes creating it: run again with the same id (a
     * retry after a failure, a retry of an idempotent request whose first try was cut short, even
     * concurrently), it creates nothing twice, since the job's {@code _id} and the order's {@code jobId}
     * are both unique, and it answers with the one job and its order.
     *
     * <p>The job is written before its order: a crash between the two leaves a job with no order, which
     * never runs and which the client, not having had its 201, submits again (with the same id when it
     * sent an {@code Idempotency-Key}, which then gets its order). The reverse order would leave an order
     * that points at nothing.
     */
    Created create(ObjectId jobId, Document job) {
        NewOrder spec = rules.check(job);
        String id = jobId.toHexString();
        Order order = jobs.insert(jobId, job) ? null : orderQueries.findByJobId(id).orElse(null);
        if (order == null) {
            order = createOrder(spec.forJob(id));
            log.info("job created job={} order={} script={} project={} priority={}", id, order.id(),
                    spec.scriptName(), spec.projectName(), spec.priority());
        }
        return new Created(id, order);
    }

    Created create(Document job) {
        return create(new ObjectId(), job);
    }

    private Order createOrder(NewOrder spec) {
        try {
            return orders.create(spec);
        } catch (DuplicateKeyException createdMeanwhile) {
            // Another try of this creation wrote the order first: that one is the job's.
            return orderQueries.findByJobId(spec.jobId()).orElseThrow(() -> createdMeanwhile);
        }
    }

    record Created(String jobId, Order order) {}
}
