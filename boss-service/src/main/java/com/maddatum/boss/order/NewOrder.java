package com.maddatum.boss.order;

import java.util.List;

/**
 * What the job package tells the order package about a freshly stored job.
 *
 * @param timeoutSeconds the job's own time limit, or null; a seed claim's lease is sized from it
 */
public record NewOrder(String jobId, int priority, List<String> requiredLabels, String projectName,
        String scriptName, int maxAttempts, Double timeoutSeconds) {

    public NewOrder {
        requiredLabels = List.copyOf(requiredLabels);
    }

    public NewOrder forJob(String id) {
        return new NewOrder(id, priority, requiredLabels, projectName, scriptName, maxAttempts, timeoutSeconds);
    }
}
