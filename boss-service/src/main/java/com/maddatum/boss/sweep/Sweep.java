package com.maddatum.boss.sweep;

import com.maddatum.boss.sweep.sample.Grid;
import com.maddatum.boss.sweep.sample.SearchSpace;
import java.time.Instant;
import java.util.Date;
import java.util.List;
import org.bson.Document;
import org.bson.types.ObjectId;

/**
 * A sweep as stored in {@code sweeps}: what was asked ({@code name} to {@code truncate}, never changed but
 * for {@code maxJobs}) and where it stands. {@code created} trials exist (numbered 1 to created); every job
 * started for it, first runs and re-runs alike, counts in {@code launches}; {@code cursor} is the next grid
 * cell to try. Each of those changes in one conditional write on the document as it was read (its status,
 * {@code created}, {@code launches} and no {@code pending}), so that two Boss replicas driving the same sweep
 * never start more than it allows. {@code pending} is the start that write decided on and that is not
 * finished yet (the trial's record, its job): whoever reads it next finishes it, with the same job id.
 *
 * @param spaceSize how many distinct configurations the space has; null when a range is continuous
 * @param exhausted the sampler found no configuration not tried yet
 * @param settled a cancelled sweep whose queued and running trials have all been cancelled
 * @param reruns how many times rerun-failed asked for re-runs: part of the state every conditional write
 *     checks, so the driver's finish, decided before a request, cannot win over it
 * @param stopReason why the Boss cancelled the sweep itself (its trials' jobs refused, one after another);
 *     null when a person cancelled it, or it runs
 */
record Sweep(ObjectId id, String name, String projectName, String method, Document base,
        List<ParameterSpec> parameters, int maxJobs, int parallelism, long seed, Metric metric, EarlyStop earlyStop,
        boolean truncate, Long spaceSize, SweepStatus status, Instant createdAt, int created, long launches,
        long cursor, boolean exhausted, Pending pending, boolean settled, long reruns, String stopReason) {

    static final String ID = "_id";
    static final String NAME = "name";
    static final String PROJECT_NAME = "projectName";
    static final String METHOD = "method";
    static final String BASE = "base";
    static final String PARAMETERS = "parameters";
    static final String MAX_JOBS = "maxJobs";
    static final String PARALLELISM = "parallelism";
    static final String SEED = "seed";
    static final String METRIC = "metric";
    static final String EARLY_STOP = "earlyStop";
    static final String TRUNCATE = "truncate";
    static final String SPACE_SIZE = "spaceSize";
    static final String STATUS = "status";
    static final String CREATED_AT = "createdAt";
    static final String CREATED = "created";
    static final String LAUNCHES = "launches";
    static final String CURSOR = "cursor";
    static final String EXHAUSTED = "exhausted";
    static final String PENDING = "pending";
    static final String SETTLED = "settled";
    static final String RERUNS = "reruns";
    static final String UPDATED_AT = "updatedAt";
    static final String STOP_REASON = "stopReason";
    /** Trials' jobs refused at creation since the last one created: never read into the record. */
    static final String REFUSED_IN_A_ROW = "refusedInARow";

    /** {@code name}: loss, metric, metrics.X or a script's own numeric field; {@code goal}: minimize or maximize. */
    record Metric(String name, String goal) {
        boolean maximize() {
            return "maximize".equals(goal);
        }

        Document toDocument() {
            return new Document("name", name).append("goal", goal);
        }
    }

    /** The median stopping rule: from step {@code minSteps}, once {@code minTrials} other trials reported it. */
    record EarlyStop(String type, int minSteps, int minTrials) {
        Document toDocument() {
            return new Document("type", type).append("minSteps", minSteps).append("minTrials", minTrials);
        }
    }

    /**
     * A start decided and not finished: {@code trial} (a new trial, {@code params} and {@code hash} its
     * configuration) or {@code rerun} (a new job for trial {@code trial}, re-running job {@code previous}).
     */
    record Pending(String kind, int trial, String jobId, Document params, String hash, String previous) {
        static final String TRIAL = "trial";
        static final String RERUN = "rerun";

        Document toDocument() {
            Document d = new Document("kind", kind).append("trial", trial).append("jobId", jobId);
            if (params != null) {
                d.append("params", params).append("hash", hash);
            }
            if (previous != null) {
                d.append("previous", previous);
            }
            return d;
        }

        static Pending fromDocument(Document d) {
            return d == null ? null : new Pending(d.getString("kind"), d.getInteger("trial"), d.getString("jobId"),
                    d.get("params", Document.class), d.getString("hash"), d.getString("previous"));
        }
    }

    SearchSpace space() {
        return new SearchSpace(parameters.stream().map(ParameterSpec::dimension).toList());
    }

    /** How many trials it will run at most: maxJobs, or fewer when the space has fewer configurations. */
    long planned() {
        long space = spaceSize == null ? Grid.UNBOUNDED : spaceSize;
        return exhausted ? created : Math.min(maxJobs, space);
    }

    /** The stored form of a new sweep: running, nothing created yet. */
    Document toNewDocument() {
        Document d = new Document(ID, id)
                .append(NAME, name)
                .append(PROJECT_NAME, projectName)
                .append(METHOD, method)
                .append(BASE, base)
                .append(PARAMETERS, parameters.stream().map(ParameterSpec::toDocument).toList())
                .append(MAX_JOBS, maxJobs)
                .append(PARALLELISM, parallelism)
                .append(SEED, seed)
                .append(METRIC, metric.toDocument())
                .append(EARLY_STOP, earlyStop == null ? null : earlyStop.toDocument())
                .append(TRUNCATE, truncate)
                .append(SPACE_SIZE, spaceSize)
                .append(STATUS, status.wire())
                .append(CREATED_AT, Date.from(createdAt))
                .append(CREATED, created)
                .append(LAUNCHES, launches)
                .append(CURSOR, cursor)
                .append(EXHAUSTED, exhausted)
                .append(SETTLED, settled)
                .append(RERUNS, reruns);
        d.values().removeIf(java.util.Objects::isNull);
        return d;
    }

    static Sweep fromDocument(Document d) {
        Document metric = d.get(METRIC, Document.class);
        Document stop = d.get(EARLY_STOP, Document.class);
        return new Sweep(d.getObjectId(ID), d.getString(NAME), d.getString(PROJECT_NAME), d.getString(METHOD),
                d.get(BASE, Document.class),
                d.getList(PARAMETERS, Document.class, List.of()).stream().map(ParameterSpec::fromDocument).toList(),
                d.getInteger(MAX_JOBS), d.getInteger(PARALLELISM), ((Number) d.get(SEED)).longValue(),
                new Metric(metric.getString("name"), metric.getString("goal")),
                stop == null ? null : new EarlyStop(stop.getString("type"), stop.getInteger("minSteps"),
                        stop.getInteger("minTrials")),
                d.getBoolean(TRUNCATE, false),
                d.get(SPACE_SIZE) instanceof Number n ? n.longValue() : null,
                SweepStatus.fromWire(d.getString(STATUS)),
                d.getDate(CREATED_AT).toInstant(),
                d.getInteger(CREATED, 0),
                ((Number) d.get(LAUNCHES)).longValue(),
                ((Number) d.get(CURSOR)).longValue(),
                d.getBoolean(EXHAUSTED, false),
                Pending.fromDocument(d.get(PENDING, Document.class)),
                d.getBoolean(SETTLED, false),
                d.get(RERUNS) instanceof Number r ? r.longValue() : 0,
                d.getString(STOP_REASON));
    }
}
