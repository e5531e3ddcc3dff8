package com.maddatum.boss.job;

import java.security.SecureRandom;
import org.bson.Document;

/**
 * The random seed every job runs with, so that a run can be repeated: the job's own {@code seed}, or one
 * the Boss chooses, stored in the job (the script receives it with the job), with {@code seedSource}
 * saying which ({@code "job"} or {@code "boss"}) for the run manifest.
 */
final class Seeds {

    /** NumPy's limit; torch and Python's random take more, scikit-learn's random_state no more. */
    static final long MAX = (1L << 32) - 1;
    static final String FIELD = "seed";
    static final String SOURCE = "seedSource";

    // SecureRandom: seeds chosen by several Boss replicas at the same instant must not coincide.
    private final SecureRandom random = new SecureRandom();

    /**
     * Gives {@code job} its seed. {@code inherited} is the source to keep when the seed was copied from
     * another job (a rerun), null for a fresh submission, where a seed in the body is the job's own.
     */
    void assign(Document job, String inherited) {
        if (job.get(FIELD) == null) {
            // Below 2^31: an int in every store and language the job passes through.
            job.put(FIELD, random.nextInt(Integer.MAX_VALUE));
            job.put(SOURCE, "boss");
        } else {
            job.put(SOURCE, inherited != null ? inherited : "job");
        }
    }
}
