package com.maddatum.worker.client;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonProperty;

/** The part of the Boss's {@code /bored} answer a worker needs. */
@JsonIgnoreProperties(ignoreUnknown = true)
public record Order(@JsonProperty("_id") String id, String jobId, int attempt, String status) {}
