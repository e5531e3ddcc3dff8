package com.maddatum.boss.order;

import java.util.List;

/**
 * What the job package tells the order package about a freshly stored job.
 *
 * @param timeoutSeconds the job's own time limit, or null; a seed claim's lease is sized from it
 * @param sweepId the sweep the job belongs to, or null; carried like the project so that listings filter on it
 * @param minGpuMemoryMiB the GPU memory a slot must have to be given the job, or null: any slot, GPU or not
 */
public record NewOrder(String jobId, int priority, List<String> requiredLabels, String projectName,
        String scriptName, int maxAttempts, Double timeoutSeconds, String sweepId, Long minGpuMemoryMiB) {

    /**
     * What a label looks like, in a job's {@code requiredLabels} and wherever a Worker's labels are asked
     * about: the ready index counts orders under these, so its own marker for "no label" must not be one.
     */
    public static final String LABEL = "[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}";

    public NewOrder {
        requiredLabels = List.copyOf(requiredLabels);
    }

    /** A job in no sweep that needs no GPU memory. */
    public NewOrder(String jobId, int priority, List<String> requiredLabels, String projectName, String scriptName,
            int maxAttempts, Double timeoutSeconds) {
        this(jobId, priority, requiredLabels, projectName, scriptName, maxAttempts, timeoutSeconds, null, null);
    }

    public NewOrder forJob(String id) {
        return new NewOrder(id, priority, requiredLabels, projectName, scriptName, maxAttempts, timeoutSeconds,
                sweepId, minGpuMemoryMiB);
    }
}
