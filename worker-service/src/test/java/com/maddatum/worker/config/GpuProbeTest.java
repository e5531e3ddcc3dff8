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

    /** The query the Worker makes now has the uuid second; a line with garbage or [N/A] reads as before. */
    @Test
    void readsEachGpusUuidAndStillReadsLinesWithout() {
        GpuProbe.Listing listing = GpuProbe.parse(recording("a100x4-uuid.csv"));
        assertThat(listing.gpus()).containsExactly(new Gpu(0, "NVIDIA A100-SXM4-80GB", 81920L),
                new Gpu(1, "NVIDIA A100-SXM4-80GB", 81920L), new Gpu(2, "NVIDIA A100-SXM4-80GB", 81920L),
                new Gpu(3, "NVIDIA A100-SXM4-80GB", 81920L));
        assertThat(listing.uuids()).containsEntry(1, "GPU-5f3c1a2b-4d5e-6f70-8192-a3b4c5d6e7f1").hasSize(4);
        assertThat(listing.cudaName(2)).isEqualTo("GPU-0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f2");

        GpuProbe.Listing odd = GpuProbe.parse("WARNING: infoROM is corrupted at gpu 0000:41:00.0\n"
                + "0, GPU-aa11, NVIDIA H100, PCIe, [N/A]\nx, GPU-bb22, Other, 1\n1, NVIDIA L4, 23034\n");
        assertThat(odd.gpus()).containsExactly(new Gpu(0, "NVIDIA H100, PCIe", null), new Gpu(1, "NVIDIA L4", 23034L));
        assertThat(odd.uuids()).isEqualTo(java.util.Map.of(0, "GPU-aa11"));
        assertThat(odd.cudaName(1)).isEqualTo("1"); // no uuid: CUDA names it by index, in PCI bus order
    }

    /**
     * An operator pins a Worker to some GPUs of a shared machine with its CUDA_VISIBLE_DEVICES, by index or
     * by UUID (or a unique start of one, as CUDA takes it); set and empty means no GPU, which is no failure.
     */
    @Test
    void theWorkersCudaVisibleDevicesKeepsOnlyTheGpusItNames() {
        GpuProbe.Listing four = GpuProbe.parse(recording("a100x4-uuid.csv"));
        assertThat(GpuProbe.visible(four, null)).isEqualTo(four);
        assertThat(GpuProbe.visible(four, "2,3").gpus()).extracting(Gpu::index).containsExactly(2, 3);
        GpuProbe.Listing byUuid = GpuProbe.visible(four, "GPU-0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f3, GPU-5f3c1a2b-4d5e-6f70-8192-a3b4c5d6e7f0");
        assertThat(byUuid.gpus()).extracting(Gpu::index).containsExactly(0, 3);
        assertThat(byUuid.uuids()).containsOnlyKeys(0, 3);
        assertThat(byUuid.failure()).isNull();
        // A UUID start two GPUs share is no unique start: CUDA takes it as an invalid entry.
        assertThat(GpuProbe.visible(four, "GPU-0b1c2d3e").gpus()).isEmpty();
        assertThat(GpuProbe.visible(four, "GPU-0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f2").gpus()).extracting(Gpu::index)
                .containsExactly(2);

        GpuProbe.Listing none = GpuProbe.visible(four, "");
        assertThat(none.gpus()).isEmpty();
        assertThat(none.failure()).isNull();
        assertThat(none.noDevices()).isFalse();
        assertThat(none.installed()).isTrue();

        GpuProbe.Listing wrong = GpuProbe.visible(four, "7,GPU-ffff");
        assertThat(wrong.gpus()).isEmpty();
        assertThat(wrong.failure()).isEqualTo("CUDA_VISIBLE_DEVICES=7,GPU-ffff names none of the GPUs nvidia-smi lists");

        // A failing nvidia-smi keeps its own failure, filter or not.
        GpuProbe.Listing failing = new GpuProbe.Listing(true, "nvidia-smi exited with 18", false, List.of());
        assertThat(GpuProbe.visible(failing, "0").failure()).isEqualTo("nvidia-smi exited with 18");

        FakeCommand smi = new FakeCommand(root, "nvidia-smi").recorded("a100x4-uuid.csv", 0);
        assertThat(GpuProbe.list(runner, smi.command(), Duration.ofSeconds(10), "1").gpus()).extracting(Gpu::index)
                .containsExactly(1);
    }

    /**
     * CUDA reads CUDA_VISIBLE_DEVICES left to right and stops at the first invalid entry; -1 first hides every
     * GPU (a CPU-only Worker, no misconfiguration, so nothing to retry); an overlong number is an invalid
     * entry, not a crash at start-up; a MIG UUID cannot be matched and stops the reading too.
     */
    @Test
    void cudaVisibleDevicesIsReadAsCudaReadsIt() {
        GpuProbe.Listing four = GpuProbe.parse(recording("a100x4-uuid.csv"));
        assertThat(GpuProbe.visible(four, "0,-1,1").gpus()).extracting(Gpu::index).containsExactly(0);
        assertThat(GpuProbe.visible(four, " 3 , 1 ,7,2").gpus()).extracting(Gpu::index).containsExactly(1, 3);

        GpuProbe.Listing hidden = GpuProbe.visible(four, "-1,0");
        assertThat(hidden.gpus()).isEmpty();
        assertThat(hidden.failure()).isNull();
        assertThat(hidden.noDevices()).isFalse();

        GpuProbe.Listing overlong = GpuProbe.visible(four, "99999999999999999999");
        assertThat(overlong.gpus()).isEmpty();
        assertThat(overlong.failure()).contains("names none of the GPUs");
        assertThat(GpuProbe.visible(four, "1,99999999999999999999,2").gpus()).extracting(Gpu::index).containsExactly(1);
        assertThat(GpuProbe.visible(four, "01").gpus()).extracting(Gpu::index).containsExactly(1);

        assertThat(GpuProbe.visible(four, "2,MIG-4f2b8c1e-1a2b-5c3d-9e8f-0123456789ab,3").gpus()).extracting(Gpu::index)
                .containsExactly(2);
    }
}
