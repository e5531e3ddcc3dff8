package com.maddatum.worker.poll;

import static org.assertj.core.api.Assertions.assertThat;

import com.maddatum.worker.outcome.OutcomeBuilder;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class MachineFaultTest {

    private static Map<String, Object> failed(int status, String type, String logTail) {
        Map<String, Object> outcome = new LinkedHashMap<>(OutcomeBuilder.refused("j", status, type, "it failed"));
        outcome.put("logTail", logTail);
        return outcome;
    }

    @Test
    void theWorkersOwnHandBacksForASickMachineCountOnAnySlot() {
        assertThat(MachineFault.of(OutcomeBuilder.handBack("j", "ScriptNotStarted", "no python"), false))
                .isEqualTo("hand-back ScriptNotStarted");
        assertThat(MachineFault.of(OutcomeBuilder.handBack("j", "WorkerFailure", "disk full"), true))
                .isEqualTo("hand-back WorkerFailure");
        assertThat(MachineFault.of(OutcomeBuilder.handBack("j", "WorkerShutdown", "SIGTERM"), true)).isNull();
        assertThat(MachineFault.of(OutcomeBuilder.notStarted("j", com.maddatum.worker.runner.StopReason.SHUTDOWN), true))
                .isNull();
    }

    @Test
    void aCudaErrorCountsOnlyOnAGpuSlotAndNotWhenItIsTheJobsSize() {
        String lost = "Traceback...\nRuntimeError: CUDA error: unspecified launch failure\n";
        assertThat(MachineFault.of(failed(500, "RuntimeError", lost), true))
                .isEqualTo("the script failed with a CUDA error (CUDA error)");
        assertThat(MachineFault.of(failed(500, "RuntimeError", lost), false)).isNull();
        assertThat(MachineFault.of(failed(500, "OutOfMemoryError",
                "torch.OutOfMemoryError: CUDA out of memory. Tried to allocate 20.00 GiB"), true)).isNull();
        assertThat(MachineFault.of(failed(500, "NoOutcome", "ValueError: bad learning rate"), true)).isNull();
        // A cancellation or a timeout says nothing about the GPU, whatever the logs hold.
        assertThat(MachineFault.of(failed(499, "Cancelled", lost), true)).isNull();
        assertThat(MachineFault.of(failed(504, "Timeout", lost), true)).isNull();
        assertThat(MachineFault.of(Map.of("status", 200, "logTail", lost), true)).isNull();
        assertThat(MachineFault.of(null, true)).isNull();
    }

    /** The job's own CUDA trouble: a re-check would not help, and on a busy GPU it could fail a healthy GPU. */
    @Test
    void outOfMemoryAllocFailedAndADeviceSideAssertAreTheJobsFaultNotTheMachines() {
        for (String jobs : List.of("RuntimeError: CUDA error: out of memory",
                "RuntimeError: CUDA error: CUBLAS_STATUS_ALLOC_FAILED when calling `cublasCreate(handle)`",
                "RuntimeError: CUDA error: device-side assert triggered\nCUDA kernel errors might be asynchronously"
                        + " reported at some other API call",
                "cudaErrorMemoryAllocation: out of memory")) {
            assertThat(MachineFault.of(failed(500, "RuntimeError", "Traceback...\n" + jobs + "\n"), true)).as(jobs).isNull();
        }
        // The machine's words still count, next to a job's own trouble too.
        for (String machine : List.of("RuntimeError: No CUDA GPUs are available", "CUDA error: uncorrectable ECC error encountered",
                "RuntimeError: CUDA driver error: initialization error", "RuntimeError: CUDA error: unknown error")) {
            assertThat(MachineFault.of(failed(500, "RuntimeError", "out of memory earlier\n" + machine), true)).as(machine)
                    .isNotNull();
        }
    }
}
