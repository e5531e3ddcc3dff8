package com.maddatum.worker.client;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonProperty;
import java.time.Instant;
import java.util.LinkedHashMap;

/**
 * The part of the Boss's {@code /bored} answer (or of a callback's {@code next}) a worker needs.
 * {@code job}: the job itself, which a Boss that speaks this protocol sends inside the order (null from an
 * older Boss: the Worker then fetches it). {@code leaseExpiresAt}: when the claim's lease ends unless a
 * heartbeat extends it (null when the Boss did not say).
 */
@JsonIgnoreProperties(ignoreUnknown = true)
public record Order(@JsonProperty("_id") String id, String jobId, int attempt, String status, Instant leaseExpiresAt,
        LinkedHashMap<String, Object> job) {

    public Order(String id, String jobId, int attempt, String status) {
        this(id, jobId, attempt, status, null, null);
    }
}
