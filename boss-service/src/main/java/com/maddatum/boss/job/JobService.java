package com.maddatum.boss.job;

import com.maddatum.boss.order.NewOrder;
import com.maddatum.boss.order.Order;
import com.maddatum.boss.order.OrderService;
import org.bson.Document;
import org.bson.types.ObjectId;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.stereotype.Service;

/** Stores a job and queues its order. */
@Service
class JobService {

    private static final Logger log = LoggerFactory.getLogger(JobService.class);

    private final JobStore jobs;
    private final JobRules rules;
    private final OrderService orders;

    JobService(JobStore jobs, JobRules rules, OrderService orders) {
        this.jobs = jobs;
        this.rules = rules;
        this.orders = orders;
    }

    /**
     * The job is written before its order: a crash between the two leaves a job with no order,
     * which never runs and which the client, not having had its 201, submits again. The reverse
     * order would leave an order that points at nothing.
     */
    Created create(Document job) {
        NewOrder spec = rules.check(job);
        ObjectId jobId = jobs.insert(job);
        Order order = orders.create(spec.forJob(jobId.toHexString()));
        log.info("job created job={} order={} script={} project={} priority={}", jobId, order.id(),
                spec.scriptName(), spec.projectName(), spec.priority());
        return new Created(jobId.toHexString(), order);
    }

    record Created(String jobId, Order order) {}
}
