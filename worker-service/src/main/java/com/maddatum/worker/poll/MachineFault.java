package com.maddatum.worker.poll;

import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Whether a run's Outcome says the machine failed, not the job: then the GPUs are checked again. Two
 * kinds: the Worker's own hand-backs that a sick machine causes ({@code ScriptNotStarted}, and
 * {@code WorkerFailure} from the run), and a script on a GPU that failed with a CUDA error in its logs
 * (a lost GPU shows up first as {@code CUDA error: unspecified launch failure} or its kin). A line that
 * says the job's own trouble ({@link #JOB_ERRORS}: out of memory, a device-side assert) does not count,
 * even though it says {@code CUDA error} too: a re-check would find the GPU fine, or worse, fail a GPU a
 * big neighbour has filled. Nor does a shutdown, a cancellation or a timeout.
 */
final class MachineFault {

    private static final Set<String> HAND_BACKS = Set.of("ScriptNotStarted", "WorkerFailure");
    /** What CUDA, torch and the driver write when the device itself fails. Matched case-sensitively. */
    static final List<String> CUDA_ERRORS = List.of("CUDA error", "CUDA driver error", "cudaError",
            "CUBLAS_STATUS_", "CUDNN_STATUS_", "no CUDA-capable device", "No CUDA GPUs are available",
            "NVML_ERROR", "uncorrectable ECC");
    /**
     * What a job brings on itself on a healthy GPU: too big for the memory left (CUDA's, cuBLAS's or
     * cudaMalloc's words for it), or an index out of range in a kernel. A line with one of these is skipped.
     */
    static final List<String> JOB_ERRORS = List.of("out of memory", "CUBLAS_STATUS_ALLOC_FAILED",
            "cudaErrorMemoryAllocation", "device-side assert triggered", "cudaErrorAssert");

    private MachineFault() {}

    /** Why this Outcome blames the machine, or null when it does not. */
    static String of(Map<String, Object> outcome, boolean onGpu) {
        if (outcome == null) {
            return null;
        }
        Object type = outcome.get("error") instanceof Map<?, ?> error ? error.get("type") : null;
        if (Boolean.TRUE.equals(outcome.get("retryable")) && HAND_BACKS.contains(type)) {
            return "hand-back " + type;
        }
        if (!onGpu || !(outcome.get("status") instanceof Integer status) || status < 500 || status == 503
                || status == 504) {
            return null;
        }
        String text = String.valueOf(outcome.get("logTail")) + " " + (outcome.get("error") instanceof Map<?, ?> error
                ? error.get("message") : "");
        for (String line : text.split("\r?\n")) {
            if (JOB_ERRORS.stream().anyMatch(line::contains)) {
                continue;
            }
            for (String marker : CUDA_ERRORS) {
                if (line.contains(marker)) {
                    return "the script failed with a CUDA error (" + marker + ")";
                }
            }
        }
        return null;
    }
}
