package com.maddatum.boss.order;

import java.util.Map;
import java.util.Optional;

/**
 * The job of a claimed order, as {@code GET /retrieve/job/{id}} answers it, for the claim's answer to carry
 * (so a Worker needs no second round trip). The job package provides it; the order package must not know
 * that package.
 */
public interface JobLookup {

    /** The job as the seed's route shows it; empty when it cannot be found. */
    Optional<Map<String, Object>> wireJob(String jobId);
}
