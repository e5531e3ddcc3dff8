package com.maddatum.boss.order;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import java.time.Instant;
import java.util.List;
import java.util.Map;

/**
 * An order on the wire. The seed's worker reads {@code _id} and {@code jobId} from the
 * {@code /bored} answer; the other fields are this project's additions. {@code job} is only in a claim's
 * answer: the job as {@code GET /retrieve/job/{id}} returns it (the seed's worker ignores it and fetches).
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record OrderView(
        @JsonProperty("_id") String id,
        String jobId,
        Instant createdDate,
        String status,
        int attempt,
        int maxAttempts,
        String assignedTo,
        Instant leaseExpiresAt,
        int priority,
        List<String> requiredLabels,
        Long minGpuMemoryMiB,
        String projectName,
        String sweepId,
        String scriptName,
        Instant startedAt,
        Instant finishedAt,
        String reason,
        String outcomeId,
        Map<String, Object> progress,
        List<HistoryView> history,
        Map<String, Object> job) {

    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record HistoryView(String status, Instant at, String node, int attempt, String reason) {}

    public static OrderView of(Order o) {
        return new OrderView(o.id().toHexString(), o.jobId(), o.createdDate(), o.status().wire(), o.attempt(),
                o.maxAttempts(), o.assignedTo(), o.leaseExpiresAt(), o.priority(), o.requiredLabels(),
                o.minGpuMemoryMiB(),
                o.projectName(), o.sweepId(), o.scriptName(), o.startedAt(), o.finishedAt(), o.reason(),
                o.outcomeId() == null ? null : o.outcomeId().toHexString(), o.progress(),
                o.history().stream()
                        .map(h -> new HistoryView(h.status().wire(), h.at(), h.node(), h.attempt(), h.reason()))
                        .toList(), null);
    }

    /** The same order carrying its job, as a claim answers it. */
    public OrderView withJob(Map<String, Object> job) {
        return new OrderView(id, jobId, createdDate, status, attempt, maxAttempts, assignedTo, leaseExpiresAt, priority,
                requiredLabels, minGpuMemoryMiB, projectName, sweepId, scriptName, startedAt, finishedAt, reason,
                outcomeId, progress, history, job);
    }
}
