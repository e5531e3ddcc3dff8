package com.maddatum.boss.order;

import java.util.List;

/**
 * What the job package tells the order package about a freshly stored job.
 *
 * @param timeoutSeconds the job's own time limit, or null; a seed claim's lease is sized from it
 * @param sweepId the sweep the job belongs to, or null; carried like the project so that listings filter on it
 */
public record NewOrder(String jobId, int priority, List<String> requiredLabels, String projectName,
        String scriptName, int maxAttempts, Double timeoutSeconds, String sweepId) {

    public NewOrder {
        requiredLabels = List.copyOf(requiredLabels);
    }

    /** A job in no sweep. */
    public NewOrder(String jobId, int priority, List<String> requiredLabels, String projectName, String scriptName,
            int maxAttempts, Double timeoutSeconds) {
        this(jobId, priority, requiredLabels, projectName, scriptName, maxAttempts, timeoutSeconds, null);
    }

    public NewOrder forJob(String id) {
        return new NewOrder(id, priority, requiredLabels, projectName, scriptName, maxAttempts, timeoutSeconds,
                sweepId);
    }
}
