package com.maddatum.boss.sweep;

import java.util.Map;
import org.bson.Document;

/**
 * A trial's job: the sweep's base with the trial's parameters put at their paths, in the sweep's project,
 * marked with {@code sweepId}, {@code trial} and {@code sweepParams} (the varied parameters only, dotted
 * path to value), so that it is an ordinary job everywhere jobs are listed.
 */
final class TrialJobs {

    static final String SWEEP_ID = "sweepId";
    static final String TRIAL = "trial";
    static final String SWEEP_PARAMS = "sweepParams";

    /** Fields a parameter may not vary: the Boss sets them for every trial. */
    static final java.util.Set<String> RESERVED = java.util.Set.of("_id", SWEEP_ID, TRIAL, SWEEP_PARAMS,
            "projectName", "seedSource", "rerunOf", "reruns");

    private TrialJobs() {}

    static Document build(Sweep sweep, int trial, Map<String, Object> params) {
        Document job = ParamPaths.copy(sweep.base());
        params.forEach((path, value) -> ParamPaths.set(job, path, value));
        if (sweep.projectName() != null) {
            job.put("projectName", sweep.projectName());
        }
        job.put(SWEEP_ID, sweep.id().toHexString());
        job.put(TRIAL, trial);
        job.put(SWEEP_PARAMS, ParamPaths.copy(new Document(params)));
        return job;
    }
}
