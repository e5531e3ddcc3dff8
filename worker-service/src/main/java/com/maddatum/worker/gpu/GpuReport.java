package com.maddatum.worker.gpu;

import com.maddatum.worker.config.FailedGpu;
import com.maddatum.worker.config.Gpu;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * One health check's verdict: each GPU passed or failed with a reason, and why the machine is CPU-only
 * when GPUs were found (or {@code nvidia-smi} failed) but none passed.
 */
public record GpuReport(List<Status> gpus, String cpuOnlyBecause) {

    /**
     * One GPU: {@code failure} null when it passed. {@code note} says what was not checked and why (torch
     * without CUDA), on a GPU that passed all the same.
     */
    public record Status(Gpu gpu, String failure, String note) {
        public boolean passed() {
            return failure == null;
        }
    }

    public GpuReport {
        gpus = List.copyOf(gpus);
    }

    public List<Gpu> healthy() {
        return gpus.stream().filter(Status::passed).map(Status::gpu).toList();
    }

    public List<FailedGpu> failed() {
        return gpus.stream().filter(s -> !s.passed())
                .map(s -> new FailedGpu(s.gpu().index(), s.gpu().model(), s.gpu().memoryMb(), s.failure())).toList();
    }

    /** What a change of triggers a new registration: the indexes of the GPUs that passed. */
    public Set<Integer> healthyIndexes() {
        return gpus.stream().filter(Status::passed).map(s -> s.gpu().index()).collect(Collectors.toUnmodifiableSet());
    }

    public Optional<Gpu> healthy(int index) {
        return gpus.stream().filter(s -> s.passed() && s.gpu().index() == index).map(Status::gpu).findFirst();
    }
}
