package com.maddatum.boss.artifact;

import java.time.Instant;
import java.util.Date;
import org.bson.Document;

/**
 * One name in a job's artifacts, as stored in {@code artifacts}: either a file whose bytes are the blob
 * {@code sha256}, or one that did not come back ({@code skipped} says why: the Worker's cap, a failed
 * upload, a name or hash the Boss refused, a blob that was never uploaded). A pruned artifact keeps its
 * record, with when and why, so a person sees what happened to it.
 *
 * @param size null for a skipped file whose size was not said
 * @param loss the job's loss when it finished successfully, which retention ranks by; null otherwise
 */
record ArtifactRecord(
        String jobId,
        String name,
        String sha256,
        Long size,
        String contentType,
        Instant createdAt,
        String projectName,
        Double loss,
        String skipped,
        boolean pruned,
        Instant prunedAt,
        String prunedReason) {

    static final String ID = "_id";
    static final String JOB_ID = "jobId";
    static final String NAME = "name";
    static final String SHA256 = "sha256";
    static final String SIZE = "size";
    static final String CONTENT_TYPE = "contentType";
    static final String CREATED_AT = "createdAt";
    static final String PROJECT_NAME = "projectName";
    static final String LOSS = "loss";
    static final String OUTCOME_ID = "outcomeId";
    static final String SKIPPED = "skipped";
    /** Only on stored artifacts: a skipped one has no bytes to prune, and so never matches {@code pruned: false}. */
    static final String PRUNED = "pruned";
    static final String PRUNED_AT = "prunedAt";
    static final String PRUNED_REASON = "prunedReason";

    /** The {@code _id}: one record per name per job, so a re-delivered outcome records nothing twice. */
    static String id(String jobId, String name) {
        return jobId + "/" + name;
    }

    boolean stored() {
        return skipped == null;
    }

    static ArtifactRecord of(Document d) {
        return new ArtifactRecord(d.getString(JOB_ID), d.getString(NAME), d.getString(SHA256),
                d.get(SIZE) instanceof Number n ? n.longValue() : null, d.getString(CONTENT_TYPE), instant(d, CREATED_AT),
                d.getString(PROJECT_NAME), d.get(LOSS) instanceof Number n ? n.doubleValue() : null,
                d.getString(SKIPPED), Boolean.TRUE.equals(d.getBoolean(PRUNED)), instant(d, PRUNED_AT),
                d.getString(PRUNED_REASON));
    }

    private static Instant instant(Document d, String field) {
        return d.get(field) instanceof Date date ? date.toInstant() : null;
    }
}
