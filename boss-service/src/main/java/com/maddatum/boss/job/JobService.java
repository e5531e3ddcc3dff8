package com.maddatum.boss.job;

import com.maddatum.boss.artifact.ModelInputs;
import com.maddatum.boss.order.NewOrder;
import com.maddatum.boss.order.Order;
import com.maddatum.boss.order.OrderQueries;
import com.maddatum.boss.order.OrderService;
import com.maddatum.boss.web.ApiProblem;
import com.maddatum.boss.web.Ids;
import java.util.List;
import org.bson.Document;
import org.bson.types.ObjectId;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.dao.DuplicateKeyException;
import org.springframework.stereotype.Service;

/**
 * Stores a job (a new one, or a rerun of an earlier one) and queues its order. Public for the sweeps, whose
 * trials are ordinary jobs created here.
 */
@Service
public class JobService {

    private static final Logger log = LoggerFactory.getLogger(JobService.class);

    /** Links between jobs that only the Boss writes: never taken from a body, never copied to a rerun. */
    static final List<String> LINKS = List.of("rerunOf", "reruns");

    private final JobStore jobs;
    private final JobRules rules;
    private final OrderService orders;
    private final OrderQueries orderQueries;
    private final ModelInputs inputs;
    private final DataResolution data;
    private final Seeds seeds = new Seeds();

    JobService(JobStore jobs, JobRules rules, OrderService orders, OrderQueries orderQueries, ModelInputs inputs,
            DataResolution data) {
        this.jobs = jobs;
        this.rules = rules;
        this.orders = orders;
        this.orderQueries = orderQueries;
        this.inputs = inputs;
        this.data = data;
    }

    /**
     * Creates the job under {@code jobId}, or finishes creating it: run again with the same id (a
     * retry after a failure, a retry of an idempotent request whose first try was cut short, even
     * concurrently), it creates nothing twice, since the job's {@code _id} and the order's {@code jobId}
     * are both unique, and it answers with the one job and its order.
     *
     * <p>Links and {@code seedSource} in the body are the Boss's to write: they are dropped or replaced
     * rather than refused, so that a job fetched with {@code GET /retrieve/job} can be sent back as it is but
     * for its {@code _id}, which the job rules refuse (the seed it carries then counts as the job's own).
     *
     * <p>The job is written before its order: a crash between the two leaves a job with no order, which
     * never runs and which the client, not having had its 201, submits again (with the same id when it
     * sent an {@code Idempotency-Key}, which then gets its order). The reverse order would leave an order
     * that points at nothing.
     */
    public Created create(ObjectId jobId, Document job) {
        NewOrder spec = settle(job);
        seeds.assign(job, null);
        String id = jobId.toHexString();
        Order order = jobs.insert(jobId, job) ? null : orderQueries.findByJobId(id).orElse(null);
        return order != null ? new Created(id, order) : queue(jobId, spec, job);
    }

    Created create(Document job) {
        return create(new ObjectId(), job);
    }

    /**
     * Checks {@code job} as {@link #create} would and settles its data and model inputs, storing nothing: a
     * sweep's base, checked before any trial exists, whose {@code dataSha256} is then pinned so that every
     * trial trains on the same bytes even when the dataset gets a new version meanwhile.
     */
    public void prepare(Document job) {
        settle(job);
    }

    /** The Boss's own fields dropped, the rules checked, the data and model inputs settled. */
    private NewOrder settle(Document job) {
        LINKS.forEach(job::remove);
        job.remove(Seeds.SOURCE);
        NewOrder spec = rules.check(job);
        data.resolve(job);
        inputs.fill(job);
        return spec;
    }

    /**
     * A new job with the fields of {@code originalId}, the fields of {@code overrides} put over them (a
     * null removes the field), linked both ways: {@code rerunOf} in the new job, its id pushed onto the
     * original's {@code reruns}. The seed, and where it came from, are the original's unless
     * {@code overrides} names {@code seed} ({@code "seed": null} asks the Boss for a new one).
     *
     * <p>The new job is written first, then the link in the original, then the order: a crash in
     * between leaves a job that never runs (no order), as {@link #create} does, and the client, not
     * having had its 201, asks again (with an {@code Idempotency-Key}, under the same id, which finishes
     * that job rather than making another).
     */
    public Rerun rerun(String originalId, Document overrides, ObjectId jobId) {
        ObjectId original = Ids.parse(originalId, "job");
        Document source = jobs.findById(original).orElseThrow(() -> ApiProblem.notFound("job", originalId));
        for (String link : LINKS) {
            if (overrides.containsKey(link)) {
                throw ApiProblem.invalidField(link, "The Boss sets " + link + "; leave it out.");
            }
        }
        if (overrides.containsKey("_id")) {
            throw ApiProblem.invalidField("_id", "The Boss assigns _id; leave it out.");
        }
        Document job = new Document(source);
        job.remove("_id");
        LINKS.forEach(job::remove);
        overrides.remove(Seeds.SOURCE);
        String inherited = overrides.containsKey(Seeds.FIELD) ? null : source.getString(Seeds.SOURCE);
        if (overrides.containsKey(Seeds.FIELD)) {
            job.remove(Seeds.SOURCE);
        }
        if (overrides.containsKey(DataResolution.DATA_FILE_NAME) && !overrides.containsKey(DataResolution.DATA_SHA256)) {
            // Other data named: it is resolved afresh, not pinned to the original's bytes.
            job.remove(DataResolution.DATA_SHA256);
        }
        overrides.forEach((key, value) -> {
            if (value == null) {
                job.remove(key);
            } else {
                job.put(key, value);
            }
        });
        job.put("rerunOf", originalId);
        NewOrder spec = rules.check(job);
        // The original's dataSha256 comes with it: the re-run trains on the same bytes, even when the dataset
        // has a newer version now. Its model's inputs too, unless the overrides name another model.
        data.resolve(job);
        inputs.fillRerun(job, source.get("inputs"), overrides.containsKey("model"));
        seeds.assign(job, inherited);
        // Safe to run again under the same id (an idempotent retry): the job, the link and the order are
        // each written once.
        String id = jobId.toHexString();
        boolean fresh = jobs.insert(jobId, job);
        jobs.addRerun(original, id);
        Order order = fresh ? null : orderQueries.findByJobId(id).orElse(null);
        return new Rerun(order != null ? new Created(id, order) : queue(jobId, spec, job), originalId);
    }

    private Created queue(ObjectId jobId, NewOrder spec, Document job) {
        Order order = createOrder(spec.forJob(jobId.toHexString()));
        log.info("job created job={} order={} script={} project={} priority={} seed={} rerunOf={}", jobId, order.id(),
                spec.scriptName(), spec.projectName(), spec.priority(), job.get(Seeds.FIELD), job.get("rerunOf"));
        return new Created(jobId.toHexString(), order);
    }

    private Order createOrder(NewOrder spec) {
        try {
            return orders.create(spec);
        } catch (DuplicateKeyException createdMeanwhile) {
            // Another try of this creation wrote the order first: that one is the job's.
            return orderQueries.findByJobId(spec.jobId()).orElseThrow(() -> createdMeanwhile);
        }
    }

    public record Created(String jobId, Order order) {}

    public record Rerun(Created created, String rerunOf) {}
}
