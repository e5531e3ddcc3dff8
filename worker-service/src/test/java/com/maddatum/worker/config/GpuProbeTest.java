package com.maddatum.worker.config;

import static com.maddatum.worker.support.FakeCommand.recording;
import static org.assertj.core.api.Assertions.assertThat;

import com.maddatum.worker.runner.ProcessRunner;
import com.maddatum.worker.support.FakeCommand;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Reading nvidia-smi's GPU list, from recorded answers (src/test/resources/nvidia-smi) and from a stand-in. */
class GpuProbeTest {

    @TempDir
    Path root;

    private final ProcessRunner runner = new ProcessRunner(Clock.systemUTC());

    private GpuProbe.Listing run(List<String> command, Duration timeout) {
        return GpuProbe.list(runner, command, timeout);
    }

    @Test
    void readsEveryGpuOfAMultiGpuMachine() {
        GpuProbe.Listing listing = GpuProbe.parse(recording("h100x4.csv"));
        assertThat(listing.failure()).isNull();
        assertThat(listing.gpus()).hasSize(4).allMatch(g -> g.model().equals("NVIDIA H100 80GB HBM3")
                && g.memoryMb() == 81559L);
        assertThat(listing.gpus()).extracting(Gpu::index).containsExactly(0, 1, 2, 3);
        assertThat(GpuProbe.parse(recording("mixed.csv")).gpus()).containsExactly(
                new Gpu(0, "NVIDIA GeForce RTX 4090", 24564L), new Gpu(1, "NVIDIA RTX A6000", 49140L));
    }

    @Test
    void aGpuWhoseMemoryIsNotANumberIsKeptWithoutMemorySoItCanFailByName() {
        GpuProbe.Listing listing = GpuProbe.parse(recording("a100x2-one-na.csv"));
        assertThat(listing.gpus()).containsExactly(new Gpu(0, "NVIDIA A100-SXM4-40GB", 40960L),
                new Gpu(1, "NVIDIA A100-SXM4-40GB", null));
        assertThat(GpuProbe.parse("0, Some GPU, [Unknown Error]\n1, Other, 0\n").gpus())
                .extracting(Gpu::memoryMb).containsExactly(null, null);
    }

    @Test
    void skipsLinesThatAreNotGpusAndRepeatedOrNegativeIndexes() {
        GpuProbe.Listing listing = GpuProbe.parse(recording("garbage.txt"));
        assertThat(listing.gpus()).containsExactly(new Gpu(0, "Tesla V100-SXM2-16GB", 16160L),
                new Gpu(2, "Tesla V100-SXM2-16GB", 16160L));
        // The index comes first and the memory last: a comma in the name stays in the name.
        assertThat(GpuProbe.parse("0, NVIDIA H100, PCIe, 81559").gpus()).containsExactly(new Gpu(0, "NVIDIA H100, PCIe", 81559L));
        assertThat(GpuProbe.parse("\u0000\u00ff, ,\n,,,,\n").failure()).startsWith("nvidia-smi listed no GPU");
    }

    @Test
    void noDevicesIsAPlainAnswerNotAGpuFailure() {
        GpuProbe.Listing listing = run(new FakeCommand(root, "smi").recorded("no-devices.txt", 6).command(),
                Duration.ofSeconds(10));
        assertThat(listing.installed()).isTrue();
        assertThat(listing.noDevices()).isTrue();
        assertThat(listing.gpus()).isEmpty();
        assertThat(listing.failure()).isEqualTo("nvidia-smi exited with 6: No devices were found");
    }

    @Test
    void aCrashOrALostGpuIsAFailureThatKeepsTheLinesItDidPrint() {
        GpuProbe.Listing lost = run(new FakeCommand(root, "smi").recorded("lost-gpu.txt", 15).command(),
                Duration.ofSeconds(10));
        assertThat(lost.failure()).isEqualTo("nvidia-smi exited with 15: Unable to determine the device handle for "
                + "GPU0000:3B:00.0: Unknown Error");
        assertThat(lost.noDevices()).isFalse();
        assertThat(lost.gpus()).containsExactly(new Gpu(0, "Tesla V100-SXM2-16GB", 16160L));

        GpuProbe.Listing crashed = run(List.of("sh", "-c", "echo 'Segmentation fault' >&2; exit 139"), Duration.ofSeconds(10));
        assertThat(crashed.failure()).isEqualTo("nvidia-smi exited with 139: Segmentation fault");
        assertThat(crashed.gpus()).isEmpty();
    }

    @Test
    void aMissingNvidiaSmiMeansACpuMachine() {
        GpuProbe.Listing listing = run(List.of(root.resolve("no-nvidia-smi").toString()), Duration.ofSeconds(10));
        assertThat(listing.installed()).isFalse();
        assertThat(listing.gpus()).isEmpty();
    }

    @Test
    void aHangingNvidiaSmiIsCutOffAtTheTimeout() {
        long start = System.nanoTime();
        GpuProbe.Listing listing = run(FakeCommand.hanging(), Duration.ofSeconds(1));
        Duration took = Duration.ofNanos(System.nanoTime() - start);
        assertThat(listing.failure()).isEqualTo("nvidia-smi did not answer within 1s");
        assertThat(listing.installed()).isTrue();
        // 1 s, then SIGTERM (ignored), 1 s of kill grace, SIGKILL: far below the 60 s it would hang.
        assertThat(took).isLessThan(Duration.ofSeconds(10));
    }
}
