package com.maddatum.worker.config;

/** One GPU as {@code nvidia-smi} reports it. */
public record Gpu(int index, String model, long memoryMb) {}
