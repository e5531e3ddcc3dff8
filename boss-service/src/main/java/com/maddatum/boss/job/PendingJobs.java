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
import java.util.function.BiPredicate;
import org.bson.Document;
import org.bson.types.ObjectId;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.stereotype.Component;

/**
 * What jobs still to run (their order unassigned, assigned or running, and those a {@link JobTemplates}
 * promises, a running sweep's trials) need kept: the blobs they name as
 * {@code dataSha256} and {@code inputs}, which a Worker has yet to fetch (so neither the blob collector nor
 * a dataset's delete takes them), and the jobs they take their model from, whose artifacts retention must
 * not prune. It takes the live orders' ids from memory and reads only those fields of their jobs, by id,
 * in batches: the cost is the queue's length, never the history's.
 *
 * <p>Not a snapshot. The statuses' ids are taken one after the other, in the order an order moves through
 * them, so one that moves on meanwhile is met again in a later status; one re-queued between two of those
 * readings, or created after its status was read, may be missed for a round. The blob collector's grace
 * covers blobs uploaded just before; an older blob a new job names may go in that round, and the job then
 * fails on its Worker, saying which.
 */
@Component
class PendingJobs implements BlobReferences, ModelUses, DataInUse {

    static final int BATCH = 500;
    private static final List<OrderStatus> LIVE = List.of(OrderStatus.UNASSIGNED, OrderStatus.ASSIGNED,
            OrderStatus.RUNNING);
    static final List<String> FIELDS = List.of(DataResolution.DATA_SHA256, DataResolution.DATA_FILE_NAME, "inputs",
            "model");

    private final OrderQueries orders;
    private final JobStore jobs;
    private final List<JobTemplates> templates;

    private final int batch;

    @Autowired
    PendingJobs(OrderQueries orders, JobStore jobs, List<JobTemplates> templates) {
        this(orders, jobs, templates, BATCH);
    }

    /** {@code batch}: the jobs read at once (tests make it small, to walk several batches cheaply). */
    PendingJobs(OrderQueries orders, JobStore jobs, List<JobTemplates> templates, int batch) {
        this.orders = orders;
        this.jobs = jobs;
        this.templates = templates;
        this.batch = batch;
    }

    @Override
    public Set<String> referenced() {
        Set<String> hashes = new HashSet<>();
        walk((owner, job) -> {
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
        walk((owner, job) -> {
            if (job.get("model") instanceof Map<?, ?> model && model.get("jobId") instanceof String jobId) {
                models.add(jobId);
            }
            return true;
        });
        return models;
    }

    @Override
    public Optional<LiveUse> liveJobUsing(String name, String sha256) {
        LiveUse[] found = new LiveUse[1];
        walk((owner, job) -> {
            if (sha256.equals(job.get(DataResolution.DATA_SHA256))) {
                Object named = job.get(DataResolution.DATA_FILE_NAME);
                if (named == null || name.equals(named)) {
                    found[0] = new LiveUse(owner, named != null);
                }
            }
            return found[0] == null;
        });
        return Optional.ofNullable(found[0]);
    }

    /**
     * Hands each pending job (only {@link #FIELDS}) and who it is ({@code "job <id>"}) to {@code visit} while it
     * answers true, then each template. Each status's ids are taken from memory up front, then read in
     * batches: paging a live listing by offset would skip an order whenever one on an earlier page left the
     * status meanwhile.
     */
    private void walk(BiPredicate<String, Document> visit) {
        List<List<ObjectId>> live = LIVE.stream().map(orders::ids).toList();
        for (List<ObjectId> ids : live) {
            for (int from = 0; from < ids.size(); from += batch) {
                List<String> jobIds = orders.findAll(ids.subList(from, Math.min(ids.size(), from + batch))).stream()
                        .map(Order::jobId).toList();
                for (Document job : jobs.fieldsOf(jobIds, FIELDS).values()) {
                    if (!visit.test("job " + job.getObjectId("_id").toHexString(), job)) {
                        return;
                    }
                }
            }
        }
        for (JobTemplates source : templates) {
            for (JobTemplates.Template template : source.templates()) {
                if (!visit.test(template.owner(), template.job())) {
                    return;
                }
            }
        }
    }
}
