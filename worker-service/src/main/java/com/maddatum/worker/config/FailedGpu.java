package com.maddatum.worker.config;

/** A GPU that failed its health check, as registered ({@code failedGpus}): what it is and why it failed. */
public record FailedGpu(int index, String model, Long memoryMb, String reason) {}
