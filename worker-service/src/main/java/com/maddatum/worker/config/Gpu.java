package com.maddatum.worker.config;

/**
 * One GPU as {@code nvidia-smi} lists it; {@code memoryMb} is its {@code memory.total} in MiB, null when
 * nvidia-smi could not say ({@code [N/A]}: a GPU in that state fails its health check).
 */
public record Gpu(int index, String model, Long memoryMb) {}
