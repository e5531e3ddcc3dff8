package com.maddatum.worker.manifest;

import static org.assertj.core.api.Assertions.assertThat;

import com.maddatum.worker.runner.ProcessRunner;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Which GPU a slot's index is, from nvidia-smi's answer. */
class GpuIdentitiesTest {

    /** Recorded from nvidia-smi --query-gpu=index,name,uuid,driver_version --format=csv,noheader on two GPUs. */
    static final String RECORDED = """
            0, NVIDIA H200, GPU-6f1a2b3c-0d4e-5f60-7182-93a4b5c6d7e8, 550.54.15
            1, NVIDIA H200, GPU-0a1b2c3d-4e5f-6071-8293-a4b5c6d7e8f9, 550.54.15
            """;

    @TempDir
    Path dir;

    @Test
    void parsesEachGpuByItsIndex() {
        var gpus = GpuIdentities.parse(RECORDED);
        assertThat(gpus).hasSize(2);
        assertThat(gpus.get(1)).isEqualTo(new GpuIdentities.Identity(1, "NVIDIA H200",
                "GPU-0a1b2c3d-4e5f-6071-8293-a4b5c6d7e8f9", "550.54.15"));
    }

    @Test
    void aNameWithACommaAndLinesItCannotReadAreHandled() {
        var gpus = GpuIdentities.parse("""
                0, Tesla V100-SXM2-16GB, rev. b, GPU-aa, 535.104.05
                not a gpu line
                x, NVIDIA A100, GPU-bb, 535.104.05

                """);
        assertThat(gpus).containsOnlyKeys(0);
        assertThat(gpus.get(0).model()).isEqualTo("Tesla V100-SXM2-16GB, rev. b");
        assertThat(gpus.get(0).uuid()).isEqualTo("GPU-aa");
        assertThat(gpus.get(0).driver()).isEqualTo("535.104.05");
    }

    @Test
    void asksNvidiaSmiOnceAndAnswersForTheSlotsIndex() throws Exception {
        Path recorded = Files.writeString(dir.resolve("recorded.csv"), RECORDED);
        Path calls = dir.resolve("calls");
        GpuIdentities identities = new GpuIdentities(new ProcessRunner(Clock.systemUTC()),
                List.of("sh", "-c", "echo call >> " + calls + "; cat " + recorded));
        assertThat(identities.of(1).orElseThrow().uuid()).isEqualTo("GPU-0a1b2c3d-4e5f-6071-8293-a4b5c6d7e8f9");
        assertThat(identities.of(0).orElseThrow().uuid()).startsWith("GPU-6f1a");
        assertThat(identities.of(7)).isEmpty();
        assertThat(Files.readAllLines(calls)).hasSize(1);
    }

    /** A failed nvidia-smi is not kept for the Worker's life: it is asked again after the back-off, an answer is kept. */
    @Test
    void aFailedNvidiaSmiIsAskedAgainAfterItsBackOffAndAnAnswerIsKept() throws Exception {
        Path recorded = Files.writeString(dir.resolve("recorded.csv"), RECORDED);
        Path calls = dir.resolve("calls");
        Path failedOnce = dir.resolve("failed-once");
        AtomicLong now = new AtomicLong();
        GpuIdentities identities = new GpuIdentities(new ProcessRunner(Clock.systemUTC()), List.of("sh", "-c",
                "echo call >> " + calls + "; if [ ! -e " + failedOnce + " ]; then touch " + failedOnce + "; exit 9; fi; cat "
                        + recorded), now::get);
        assertThat(identities.of(0)).isEmpty();
        now.addAndGet(InterpreterProbe.RETRY_AFTER.toNanos() - 1);
        assertThat(identities.of(0)).isEmpty();
        assertThat(Files.readAllLines(calls)).hasSize(1);

        now.addAndGet(1);
        assertThat(identities.of(0).orElseThrow().uuid()).startsWith("GPU-6f1a");
        now.addAndGet(InterpreterProbe.RETRY_AFTER.toNanos() * 10);
        assertThat(identities.of(1)).isPresent();
        assertThat(identities.known(1)).isPresent();
        assertThat(Files.readAllLines(calls)).hasSize(2);
    }

    @Test
    void noNvidiaSmiMeansNoIdentity() throws Exception {
        GpuIdentities identities = new GpuIdentities(new ProcessRunner(Clock.systemUTC()),
                List.of(dir.resolve("nvidia-smi-missing").toString()));
        assertThat(identities.of(0)).isEmpty();
    }
}
