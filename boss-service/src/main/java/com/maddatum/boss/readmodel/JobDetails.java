package com.maddatum.boss.readmodel;

import com.maddatum.boss.job.JobStore;
import com.maddatum.boss.order.Order;
import com.maddatum.boss.order.OrderQueries;
import com.maddatum.boss.order.OrderView;
import com.maddatum.boss.outcome.OutcomeStore;
import com.maddatum.boss.readmodel.JobReadController.JobDetail;
import com.maddatum.boss.web.ApiProblem;
import com.maddatum.boss.web.BsonView;
import com.maddatum.boss.web.Ids;
import java.util.Optional;
import org.bson.Document;
import org.springframework.stereotype.Component;

/**
 * A job as {@code GET /jobs/{id}} shows it: the job, its order (with its history), its outcome, and,
 * while it waits, its place in the queue. Three reads by id; the queue place comes from memory.
 */
@Component
class JobDetails {

    private final JobStore jobs;
    private final OrderQueries orders;
    private final OutcomeStore outcomes;
    private final QueuePlace queue;

    JobDetails(JobStore jobs, OrderQueries orders, OutcomeStore outcomes, QueuePlace queue) {
        this.jobs = jobs;
        this.orders = orders;
        this.outcomes = outcomes;
        this.queue = queue;
    }

    JobDetail of(String id) {
        Document job = jobs.findById(Ids.parse(id, "job")).orElseThrow(() -> ApiProblem.notFound("job", id));
        Optional<Order> order = orders.findByJobId(id);
        return new JobDetail(BsonView.plain(job), order.map(OrderView::of).orElse(null),
                order.flatMap(this::outcomeOf).map(BsonView::plain).orElse(null),
                order.map(queue::of).orElse(null));
    }

    Optional<Document> outcomeOf(Order order) {
        return order.outcomeId() == null ? Optional.empty() : outcomes.findById(order.outcomeId());
    }
}
