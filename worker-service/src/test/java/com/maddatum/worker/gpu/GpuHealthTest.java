package com.maddatum.worker.gpu;

import static org.assertj.core.api.Assertions.assertThat;

import com.maddatum.worker.config.FailedGpu;
import com.maddatum.worker.config.Gpu;
import com.maddatum.worker.config.GpuProbe;
import com.maddatum.worker.runner.ProcessRunner;
import com.maddatum.worker.support.FakeCommand;
import com.maddatum.worker.support.TestSettings;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The per-GPU verdict, with nvidia-smi and the CUDA check's Python stood in by commands a test scripts. */
class GpuHealthTest {

    private static final String OK_0_AND_1 = """
            {"torch": "2.4.0", "cuda": "12.4", "available": true, "devices": 2}
            {"index": 0, "ok": true, "error": null}
            {"index": 1, "ok": true, "error": null}
            """;

    @TempDir
    Path root;

    private final ProcessRunner runner = new ProcessRunner(Clock.systemUTC());
    private FakeCommand smi;
    private FakeCommand python;

    @BeforeEach
    void machine() {
        smi = new FakeCommand(root, "nvidia-smi").recorded("a100x2-one-na.csv", 0);
        python = new FakeCommand(root, "python").answer(OK_0_AND_1, 0);
    }

    private GpuHealth health(Duration timeout) {
        return new GpuHealth(runner, smi.command(), python.command(), Map.of("PATH", System.getenv("PATH")), timeout,
                TestSettings.JSON);
    }

    private GpuReport check(List<Gpu> known) {
        return health(Duration.ofSeconds(10)).check(known);
    }

    private static List<Gpu> a100s() {
        return List.of(new Gpu(0, "NVIDIA A100-SXM4-40GB", 40960L), new Gpu(1, "NVIDIA A100-SXM4-40GB", 40960L));
    }

    @Test
    void everyGpuListedWithMemoryAndAllocatedOnPasses() {
        smi.recorded("mixed.csv", 0);
        List<Gpu> known = GpuProbe.parse(FakeCommand.recording("mixed.csv")).gpus();
        GpuReport report = check(known);
        assertThat(report.healthy()).isEqualTo(known);
        assertThat(report.failed()).isEmpty();
        assertThat(report.cpuOnlyBecause()).isNull();
        assertThat(report.gpus()).allMatch(s -> s.note() == null);
    }

    @Test
    void aGpuWithoutMemoryFailsByNameAndTheOtherPasses() {
        GpuReport report = check(a100s());
        assertThat(report.healthy()).containsExactly(new Gpu(0, "NVIDIA A100-SXM4-40GB", 40960L));
        assertThat(report.failed()).containsExactly(new FailedGpu(1, "NVIDIA A100-SXM4-40GB", null,
                "nvidia-smi gives no memory.total for it (such as [N/A])"));
        assertThat(report.cpuOnlyBecause()).isNull();
    }

    @Test
    void aFailedAllocationFailsThatGpuWithTorchsWords() {
        smi.recorded("mixed.csv", 0);
        python.answer("""
                {"torch": "2.4.0", "cuda": "12.4", "available": true, "devices": 2}
                {"index": 0, "ok": true, "error": null}
                {"index": 1, "ok": false, "error": "RuntimeError: CUDA error: unspecified launch failure"}
                """, 0);
        GpuReport report = check(GpuProbe.parse(FakeCommand.recording("mixed.csv")).gpus());
        assertThat(report.healthyIndexes()).containsExactly(0);
        assertThat(report.failed()).extracting(FailedGpu::reason)
                .containsExactly("RuntimeError: CUDA error: unspecified launch failure");
    }

    @Test
    void aTorchWithoutCudaOrNoTorchSkipsTheAllocationAndSaysSo() {
        smi.recorded("mixed.csv", 0);
        List<Gpu> known = GpuProbe.parse(FakeCommand.recording("mixed.csv")).gpus();
        python.answer("{\"torch\": \"2.4.0+cpu\", \"cuda\": null}\n", 0);
        GpuReport cpuTorch = check(known);
        assertThat(cpuTorch.healthyIndexes()).containsExactlyInAnyOrder(0, 1);
        assertThat(cpuTorch.gpus()).allMatch(s -> s.note().equals("torch has no CUDA: torch 2.4.0+cpu is a CPU build"));

        python.answer("{\"torch\": null, \"error\": \"ModuleNotFoundError: No module named 'torch'\"}\n", 0);
        assertThat(check(known).gpus()).allMatch(s -> s.passed() && s.note().startsWith("torch has no CUDA: torch is not installed"));
    }

    @Test
    void aCudaBuildThatFindsNoUsableGpuFailsThemAll() {
        smi.recorded("mixed.csv", 0);
        python.answer("{\"torch\": \"2.4.0\", \"cuda\": \"12.4\", \"available\": false}\n", 0);
        GpuReport report = check(GpuProbe.parse(FakeCommand.recording("mixed.csv")).gpus());
        assertThat(report.healthy()).isEmpty();
        assertThat(report.cpuOnlyBecause()).isEqualTo("no GPU passed its check: "
                + "GPU 0: torch 2.4.0 (CUDA 12.4) finds no usable GPU: torch.cuda.is_available() is false; "
                + "GPU 1: torch 2.4.0 (CUDA 12.4) finds no usable GPU: torch.cuda.is_available() is false");
    }

    @Test
    void aPythonThatCrashesMidwayKeepsTheVerdictsItPrintedAndFailsTheRest() {
        smi.recorded("h100x4.csv", 0);
        python.answer("""
                {"torch": "2.4.0", "cuda": "12.4", "available": true, "devices": 4}
                {"index": 0, "ok": true, "error": null}
                {"index": 1, "ok": true, "er
                """, 139);
        GpuReport report = check(GpuProbe.parse(FakeCommand.recording("h100x4.csv")).gpus());
        assertThat(report.healthyIndexes()).containsExactly(0);
        assertThat(report.failed()).extracting(FailedGpu::reason).containsOnly("the CUDA check crashed (exit 139)");
    }

    @Test
    void garbageFromPythonIsNoAnswerAndAGpuCudaDoesNotSeeFails() {
        smi.recorded("mixed.csv", 0);
        List<Gpu> known = GpuProbe.parse(FakeCommand.recording("mixed.csv")).gpus();
        python.answer("Fatal Python error: init_import_site\nnull\n[1, 2]\n{\"index\": \"zero\"}\n", 0);
        assertThat(check(known).failed()).extracting(FailedGpu::reason)
                .containsOnly("the CUDA check gave no answer: {\"index\": \"zero\"}");

        python.answer("{\"torch\": \"2.4.0\", \"cuda\": \"12.4\", \"available\": true, \"devices\": 1}\n"
                + "{\"index\": 0, \"ok\": true, \"error\": null}\n", 0);
        assertThat(check(known).failed()).extracting(FailedGpu::index, FailedGpu::reason)
                .containsExactly(org.assertj.core.groups.Tuple.tuple(1,
                        "CUDA does not see this GPU (torch.cuda.device_count() is 1)"));
    }

    @Test
    void nvidiaSmiFailingOrNoLongerListingAGpuFailsTheGpusItKnew() {
        smi.recorded("no-devices.txt", 6);
        GpuReport gone = check(a100s());
        assertThat(gone.failed()).extracting(FailedGpu::reason)
                .containsOnly("nvidia-smi exited with 6: No devices were found");
        assertThat(gone.cpuOnlyBecause()).startsWith("no GPU passed its check: GPU 0: nvidia-smi exited with 6");

        smi.answer("1, NVIDIA A100-SXM4-40GB, 40960\n", 0);
        assertThat(check(a100s()).failed()).extracting(FailedGpu::index, FailedGpu::reason)
                .containsExactly(org.assertj.core.groups.Tuple.tuple(0, "nvidia-smi no longer lists it"));
    }

    @Test
    void aCpuMachineIsNotCpuOnlyForAReasonButAFailingNvidiaSmiIs() {
        GpuHealth absent = new GpuHealth(runner, List.of(root.resolve("none").toString()), python.command(), Map.of(),
                Duration.ofSeconds(10), TestSettings.JSON);
        assertThat(absent.check(List.of())).isEqualTo(new GpuReport(List.of(), null));
        smi.recorded("no-devices.txt", 6);
        assertThat(check(List.of()).cpuOnlyBecause()).isNull();
        smi.answer("", 9);
        assertThat(check(List.of()).cpuOnlyBecause()).isEqualTo("nvidia-smi exited with 9");
    }

    @Test
    void aHangingCudaCheckIsBoundedAndFailsTheGpusItDidNotReach() {
        smi.recorded("mixed.csv", 0);
        GpuHealth health = new GpuHealth(runner, smi.command(), FakeCommand.hanging(), Map.of("PATH", System.getenv("PATH")),
                Duration.ofSeconds(1), TestSettings.JSON);
        long start = System.nanoTime();
        GpuReport report = health.check(GpuProbe.parse(FakeCommand.recording("mixed.csv")).gpus());
        assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(10));
        assertThat(report.failed()).extracting(FailedGpu::reason).containsOnly("the CUDA check did not finish within 1s");
    }

    @Test
    void theCudaCheckSeesNeitherTheWorkersCudaVisibleDevicesNorCudasOwnDeviceOrder() {
        smi.recorded("mixed.csv", 0);
        Path seen = root.resolve("env");
        GpuHealth health = new GpuHealth(runner, smi.command(), List.of("sh", "-c", "env > \"$0\"", seen.toString()),
                Map.of("PATH", System.getenv("PATH"), "CUDA_VISIBLE_DEVICES", "3", "PYTHONPATH", "/opt/lib"),
                Duration.ofSeconds(10), TestSettings.JSON);
        health.check(GpuProbe.parse(FakeCommand.recording("mixed.csv")).gpus());
        assertThat(seen).content().contains("CUDA_DEVICE_ORDER=PCI_BUS_ID", "PYTHONPATH=/opt/lib")
                .doesNotContain("CUDA_VISIBLE_DEVICES");
    }

    /** The real script on the build machine's Python, whose Debian torch is a CPU build. */
    @Test
    void theRealScriptOnACpuTorchSaysTorchHasNoCuda() {
        smi.recorded("mixed.csv", 0);
        GpuHealth health = new GpuHealth(runner, smi.command(), GpuHealth.pythonCommand(TestSettings.python()),
                Map.of("PATH", System.getenv("PATH")), Duration.ofSeconds(60), TestSettings.JSON);
        GpuReport report = health.check(GpuProbe.parse(FakeCommand.recording("mixed.csv")).gpus());
        assertThat(report.gpus()).allMatch(s -> s.passed() && s.note().startsWith("torch has no CUDA"));
    }

    /**
     * A re-check while jobs run: the GPU in use (nearly full, or in exclusive-process mode) would fail a
     * CUDA allocation for no fault of its own, so only the idle GPUs get one; the busy GPU is listed by
     * nvidia-smi and keeps its verdict, unless nvidia-smi drops it.
     */
    @Test
    void aRecheckAllocatesOnlyOnGpusNoJobUsesAndABusyGpuKeepsItsVerdict() {
        smi.recorded("mixed.csv", 0);
        List<Gpu> known = GpuProbe.parse(FakeCommand.recording("mixed.csv")).gpus();
        Path asked = root.resolve("asked");
        // Allocates on the GPUs it is given; GPU 0 is full with another slot's job: out of memory there.
        String script = "echo \"$*\" > \"$0\"; echo '{\"torch\": \"2.4.0\", \"cuda\": \"12.4\", \"available\": true, \"devices\": 2}';"
                + " for i in \"$@\"; do if [ \"$i\" = 0 ]; then echo '{\"index\": 0, \"ok\": false, \"error\": \"RuntimeError: CUDA error: out of memory\"}';"
                + " else echo \"{\\\"index\\\": $i, \\\"ok\\\": true, \\\"error\\\": null}\"; fi; done";
        GpuHealth health = new GpuHealth(runner, smi.command(), List.of("sh", "-c", script, asked.toString()),
                Map.of("PATH", System.getenv("PATH")), Duration.ofSeconds(10), TestSettings.JSON);
        GpuReport before = health.check(known);
        assertThat(asked).content().isEqualTo("0 1\n");
        assertThat(before.healthyIndexes()).containsExactly(1); // idle and full: a real verdict

        GpuReport allPassed = new GpuReport(known.stream().map(g -> new GpuReport.Status(g, null, null)).toList(), null);
        GpuReport busy = health.check(known, java.util.Set.of(0), allPassed);
        assertThat(asked).content().isEqualTo("1\n");
        assertThat(busy.healthyIndexes()).containsExactlyInAnyOrder(0, 1);
        assertThat(busy.gpus().get(0).note()).contains("in use by a job");

        // A busy GPU that had failed stays failed; one nvidia-smi no longer lists fails whatever it did before.
        assertThat(health.check(known, java.util.Set.of(0), before).healthyIndexes()).containsExactly(1);
        smi.answer("1, NVIDIA RTX A6000, 49140\n", 0);
        assertThat(health.check(known, java.util.Set.of(0), allPassed).failed()).extracting(FailedGpu::index,
                FailedGpu::reason).containsExactly(org.assertj.core.groups.Tuple.tuple(0, "nvidia-smi no longer lists it"));

        // Every GPU busy: no Python at all.
        smi.recorded("mixed.csv", 0);
        assertThat(health.check(known, java.util.Set.of(0, 1), allPassed).healthyIndexes()).containsExactlyInAnyOrder(0, 1);
        assertThat(asked).content().isEqualTo("1\n");
    }
}
