package com.maddatum.boss.artifact;

import java.util.Set;

/**
 * The jobs whose artifacts jobs still to run take as their model ({@code model: {jobId}}): retention never
 * prunes those. Answered by the package that knows jobs, so this one never reads them.
 */
public interface ModelUses {

    /** Ids of the jobs named as {@code model.jobId} by jobs whose order is unassigned, assigned or running. */
    Set<String> modelJobsInUse();
}
