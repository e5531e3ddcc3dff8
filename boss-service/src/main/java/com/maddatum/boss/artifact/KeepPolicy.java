package com.maddatum.boss.artifact;

import java.time.Instant;
import java.util.Collection;
import java.util.Comparator;
import java.util.HashSet;
import java.util.Set;

/**
 * Which jobs of one project keep their artifacts: the {@code best} by loss (lowest first, then the earlier,
 * as the leaderboard breaks ties) among those that finished successfully with a loss, and the
 * {@code latest} to deliver artifacts. Only jobs that still have artifacts compete, so the best models kept
 * are the best models there are, even when better jobs (cross-validation only) left none.
 */
record KeepPolicy(int best, int latest) {

    /** One job's unpruned artifacts: its loss (null: not ranked) and when they were recorded. */
    record Candidate(String jobId, Double loss, Instant recordedAt) {}

    private static final Comparator<Candidate> LOWEST_LOSS_FIRST = Comparator.comparingDouble(Candidate::loss)
            .thenComparing(Candidate::recordedAt).thenComparing(Candidate::jobId);
    private static final Comparator<Candidate> NEWEST_FIRST = Comparator.comparing(Candidate::recordedAt)
            .thenComparing(Candidate::jobId).reversed();

    Set<String> kept(Collection<Candidate> candidates) {
        Set<String> kept = new HashSet<>();
        candidates.stream().filter(c -> c.loss() != null).sorted(LOWEST_LOSS_FIRST).limit(best)
                .forEach(c -> kept.add(c.jobId()));
        candidates.stream().sorted(NEWEST_FIRST).limit(latest).forEach(c -> kept.add(c.jobId()));
        return kept;
    }

    String reason(String project) {
        return "not among the best " + best + " by loss nor the latest " + latest + " jobs with artifacts of "
                + (project == null ? "the jobs without a project" : "project " + project);
    }
}
