package com.maddatum.boss.sweep;

import java.time.Instant;
import java.util.Date;
import java.util.List;
import org.bson.Document;
import org.bson.types.ObjectId;

/**
 * One configuration of a sweep, as stored in {@code trials}: its number, its varied parameters and their
 * hash (unique within the sweep: no configuration runs twice), and its job ({@code jobId}, the current one;
 * {@code jobs}, every one, first run first). {@code live} while that job may still run (its order is queued
 * or running, or it is being created): the sweep's parallelism counts these. Once it ended, {@code status}
 * (done, failed, cancelled) and, from its outcome, {@code value} and {@code pruned}.
 *
 * @param retryable a failed trial whose failure a re-run may change (anything but the script's own 4xx)
 * @param error why the Boss could not create its job (a 4xx from the job rules): no job runs it
 * @param rerunRequested {@code rerun-failed} asked for a new job, which the driver starts when a slot is free
 * @param stop the early-stop decision for job {@code stop.jobId}: the heartbeat answers it again
 * @param jobless its job was never created (refused by the job rules, or the sweep cancelled first): there is
 *     nothing to re-run
 */
record Trial(ObjectId id, String sweepId, int trial, String paramsHash, Document params, String jobId,
        List<String> jobs, boolean live, String status, Double value, boolean pruned, Document prunedAt,
        String outcomeId, boolean retryable, String error, boolean rerunRequested, Document stop, Instant createdAt,
        Instant endedAt, boolean jobless) {

    static final String ID = "_id";
    static final String SWEEP_ID = "sweepId";
    static final String TRIAL = "trial";
    static final String PARAMS_HASH = "paramsHash";
    static final String PARAMS = "params";
    static final String JOB_ID = "jobId";
    static final String JOBS = "jobs";
    static final String LIVE = "live";
    static final String STATUS = "status";
    static final String VALUE = "value";
    static final String PRUNED = "pruned";
    static final String PRUNED_AT = "prunedAt";
    static final String OUTCOME_ID = "outcomeId";
    static final String RETRYABLE = "retryable";
    static final String ERROR = "error";
    static final String RERUN_REQUESTED = "rerunRequested";
    static final String STOP = "stop";
    static final String CREATED_AT = "createdAt";
    static final String ENDED_AT = "endedAt";
    static final String JOBLESS = "jobless";

    static Document newDocument(String sweepId, Sweep.Pending pending, Instant now) {
        return new Document(ID, new ObjectId())
                .append(SWEEP_ID, sweepId)
                .append(TRIAL, pending.trial())
                .append(PARAMS_HASH, pending.hash())
                .append(PARAMS, pending.params())
                .append(JOB_ID, pending.jobId())
                .append(JOBS, List.of(pending.jobId()))
                .append(LIVE, true)
                .append(CREATED_AT, Date.from(now));
    }

    static Trial fromDocument(Document d) {
        Date ended = d.getDate(ENDED_AT);
        return new Trial(d.getObjectId(ID), d.getString(SWEEP_ID), d.getInteger(TRIAL), d.getString(PARAMS_HASH),
                d.get(PARAMS, Document.class), d.getString(JOB_ID), d.getList(JOBS, String.class, List.of()),
                d.getBoolean(LIVE, false), d.getString(STATUS), d.get(VALUE) instanceof Number n ? n.doubleValue() : null,
                d.getBoolean(PRUNED, false), d.get(PRUNED_AT, Document.class), d.getString(OUTCOME_ID),
                d.getBoolean(RETRYABLE, false), d.getString(ERROR), d.getBoolean(RERUN_REQUESTED, false),
                d.get(STOP, Document.class), d.getDate(CREATED_AT).toInstant(), ended == null ? null : ended.toInstant(),
                d.getBoolean(JOBLESS, false));
    }
}
