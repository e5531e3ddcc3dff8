package com.maddatum.boss.job;

import com.maddatum.boss.artifact.ModelUses;
import com.maddatum.boss.blob.BlobReferences;
import com.maddatum.boss.dataset.DataInUse;
import com.maddatum.boss.order.Order;
import com.maddatum.boss.order.OrderQueries;
import com.maddatum.boss.order.OrderStatus;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Predicate;
import org.bson.Document;
import org.springframework.stereotype.Component;

/**
 * What jobs still to run (their order unassigned, assigned or running) need kept: the blobs they name as
 * {@code dataSha256} and {@code inputs}, which a Worker has yet to fetch (so neither the blob collector nor
 * a dataset's delete takes them), and the jobs they take their model from, whose artifacts retention must
 * not prune. It pages through the live orders from memory and reads only those fields of their jobs, by
 * id: the cost is the queue's length, never the history's.
 *
 * <p>Not a snapshot. Statuses are read in the order an order moves through them, so one that moves on
 * while this reads is met again in a later status; one re-queued meanwhile, or created after its status
 * was read, may be missed for a round. The blob collector's grace covers blobs uploaded just before; an
 * older blob a new job names may go in that round, and the job then fails on its Worker, saying which.
 */
@Component
class PendingJobs implements BlobReferences, ModelUses, DataInUse {

    static final int PAGE = 500;
    private static final List<OrderStatus> LIVE = List.of(OrderStatus.UNASSIGNED, OrderStatus.ASSIGNED,
            OrderStatus.RUNNING);
    static final List<String> FIELDS = List.of(DataResolution.DATA_SHA256, "inputs", "model");

    private final OrderQueries orders;
    private final JobStore jobs;

    PendingJobs(OrderQueries orders, JobStore jobs) {
        this.orders = orders;
        this.jobs = jobs;
    }

    @Override
    public Set<String> referenced() {
        Set<String> hashes = new HashSet<>();
        walk(job -> {
            if (job.get(DataResolution.DATA_SHA256) instanceof String sha) {
                hashes.add(sha);
            }
            if (job.get("inputs") instanceof List<?> inputs) {
                for (Object input : inputs) {
                    if (input instanceof Map<?, ?> entry && entry.get("sha256") instanceof String sha) {
                        hashes.add(sha);
                    }
                }
            }
            return true;
        });
        return hashes;
    }

    @Override
    public Set<String> modelJobsInUse() {
        Set<String> models = new HashSet<>();
        walk(job -> {
            if (job.get("model") instanceof Map<?, ?> model && model.get("jobId") instanceof String jobId) {
                models.add(jobId);
            }
            return true;
        });
        return models;
    }

    @Override
    public Optional<String> liveJobUsing(String sha256) {
        String[] found = new String[1];
        walk(job -> {
            if (sha256.equals(job.get(DataResolution.DATA_SHA256))) {
                found[0] = job.getObjectId("_id").toHexString();
            }
            return found[0] == null;
        });
        return Optional.ofNullable(found[0]);
    }

    /** Hands each pending job (only {@link #FIELDS}) to {@code visit} while it answers true. */
    private void walk(Predicate<Document> visit) {
        for (OrderStatus status : LIVE) {
            for (int page = 0; ; page++) {
                List<Order> live = orders.page(null, status, page, PAGE);
                for (Document job : jobs.fieldsOf(live.stream().map(Order::jobId).toList(), FIELDS).values()) {
                    if (!visit.test(job)) {
                        return;
                    }
                }
                if (live.size() < PAGE) {
                    break;
                }
            }
        }
    }
}
