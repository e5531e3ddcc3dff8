package com.maddatum.worker.poll;

import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Whether a run's Outcome says the machine failed, not the job: then the GPUs are checked again. Two
 * kinds: the Worker's own hand-backs that a sick machine causes ({@code ScriptNotStarted}, and
 * {@code WorkerFailure} from the run), and a script on a GPU that failed with a CUDA error in its logs
 * (a lost GPU shows up first as {@code CUDA error: unspecified launch failure} or its kin). A CUDA
 * out-of-memory is the job's size, not the machine's health, and does not count; nor does a shutdown,
 * a cancellation or a timeout.
 */
final class MachineFault {

    private static final Set<String> HAND_BACKS = Set.of("ScriptNotStarted", "WorkerFailure");
    /** What CUDA, torch and the driver write when the device itself fails. Matched case-sensitively. */
    static final List<String> CUDA_ERRORS = List.of("CUDA error", "CUDA driver error", "cudaError",
            "CUBLAS_STATUS_", "CUDNN_STATUS_", "no CUDA-capable device", "No CUDA GPUs are available",
            "NVML_ERROR", "uncorrectable ECC");

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
        for (String marker : CUDA_ERRORS) {
            if (text.contains(marker)) {
                return "the script failed with a CUDA error (" + marker + ")";
            }
        }
        return null;
    }
}
