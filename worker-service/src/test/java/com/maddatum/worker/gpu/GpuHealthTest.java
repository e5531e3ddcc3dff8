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

    private static final String HEADER = "{\"torch\": \"2.4.0\", \"cuda\": \"12.4\", \"available\": true, \"devices\": 1}";

    /**
     * A stand-in Python that answers by the one GPU its {@code CUDA_VISIBLE_DEVICES} names: {@code arms} are
     * the arms of a shell {@code case} on it.
     */
    private static List<String> perGpu(String arms) {
        return List.of("sh", "-c", "case \"$CUDA_VISIBLE_DEVICES\" in " + arms + " esac");
    }

    /** What the real script prints for a GPU that passed, CUDA giving it {@code bytes} of memory. */
    private static String passed(long bytes) {
        return "echo '" + HEADER + "'; echo '{\"index\": 0, \"ok\": true, \"error\": null, \"memory\": " + bytes + "}'";
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
        GpuHealth health = new GpuHealth(runner, smi.command(), perGpu("1) echo '" + HEADER + "'; echo '{\"index\": 0, "
                + "\"ok\": false, \"error\": \"RuntimeError: CUDA error: unspecified launch failure\"}';; *) "
                + passed(1L << 34) + ";;"), Map.of("PATH", System.getenv("PATH")), Duration.ofSeconds(10), TestSettings.JSON);
        GpuReport report = health.check(GpuProbe.parse(FakeCommand.recording("mixed.csv")).gpus());
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
                + "GPU 0: torch 2.4.0 (CUDA 12.4) finds no usable GPU with CUDA_VISIBLE_DEVICES=0: "
                + "torch.cuda.is_available() is false; "
                + "GPU 1: torch 2.4.0 (CUDA 12.4) finds no usable GPU with CUDA_VISIBLE_DEVICES=1: "
                + "torch.cuda.is_available() is false");
    }

    @Test
    void aPythonThatCrashesOnOneGpuFailsThatGpuAlone() {
        smi.recorded("h100x4.csv", 0);
        GpuHealth health = new GpuHealth(runner, smi.command(), perGpu("2) echo '" + HEADER + "'; echo '{\"index\": 0, "
                + "\"ok\": true, \"er'; exit 139;; *) " + passed(1L << 36) + ";;"), Map.of("PATH", System.getenv("PATH")),
                Duration.ofSeconds(10), TestSettings.JSON);
        GpuReport report = health.check(GpuProbe.parse(FakeCommand.recording("h100x4.csv")).gpus());
        assertThat(report.healthyIndexes()).containsExactlyInAnyOrder(0, 1, 3);
        assertThat(report.failed()).extracting(FailedGpu::index, FailedGpu::reason).containsExactly(
                org.assertj.core.groups.Tuple.tuple(2, "the CUDA check crashed (exit 139)"));
    }

    @Test
    void garbageFromPythonIsNoAnswerAndAGpuCudaDoesNotSeeFails() {
        smi.recorded("mixed.csv", 0);
        List<Gpu> known = GpuProbe.parse(FakeCommand.recording("mixed.csv")).gpus();
        python.answer("Fatal Python error: init_import_site\nnull\n[1, 2]\n{\"index\": \"zero\"}\n", 0);
        assertThat(check(known).failed()).extracting(FailedGpu::reason)
                .containsOnly("the CUDA check gave no answer: {\"index\": \"zero\"}");

        GpuHealth health = new GpuHealth(runner, smi.command(), perGpu("1) echo '{\"torch\": \"2.4.0\", \"cuda\": \"12.4\", "
                + "\"available\": true, \"devices\": 0}';; *) " + passed(1L << 34) + ";;"),
                Map.of("PATH", System.getenv("PATH")), Duration.ofSeconds(10), TestSettings.JSON);
        assertThat(health.check(known).failed()).extracting(FailedGpu::index, FailedGpu::reason)
                .containsExactly(org.assertj.core.groups.Tuple.tuple(1,
                        "CUDA does not see this GPU (with CUDA_VISIBLE_DEVICES=1, torch.cuda.device_count() is 0)"));
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
        assertThat(report.failed()).extracting(FailedGpu::reason).containsOnly("the CUDA check on this GPU did not "
                + "finish within 1s (it hung; it was killed, and the other GPUs were checked on their own)");
    }

    /**
     * One process per GPU, each under its own timeout, side by side: GPU 1 hanging (a driver stuck on it)
     * fails GPU 1 alone, and GPUs 2 and 3 after it pass instead of failing as "did not finish". Each process
     * is told its own GPU by UUID, so it sees that GPU as device 0.
     */
    @Test
    void aGpuWhoseCudaCheckHangsFailsAloneAndTheOthersArePassedByTheirOwnProcess() throws Exception {
        smi.recorded("a100x4-uuid.csv", 0);
        GpuProbe.Listing listing = GpuProbe.parse(FakeCommand.recording("a100x4-uuid.csv"));
        Path seen = root.resolve("seen");
        java.nio.file.Files.createDirectories(seen);
        String record = "echo \"$CUDA_DEVICE_ORDER\" > \"" + seen + "/$CUDA_VISIBLE_DEVICES\"; ";
        GpuHealth health = new GpuHealth(runner, smi.command(), List.of("sh", "-c", record + "case \"$CUDA_VISIBLE_DEVICES\" in "
                + "GPU-5f3c1a2b-4d5e-6f70-8192-a3b4c5d6e7f1) trap '' TERM; sleep 60;; GPU-*) " + passed(85899345920L)
                + ";; esac"), Map.of("PATH", System.getenv("PATH"), "CUDA_VISIBLE_DEVICES", "0"), Duration.ofSeconds(2),
                TestSettings.JSON);
        long start = System.nanoTime();
        GpuReport report = health.check(listing, listing.gpus());
        // Four checks one after another would take 3 x 2s past the hang; side by side, one timeout and the kill.
        assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(6));
        assertThat(report.healthyIndexes()).containsExactlyInAnyOrder(0, 2, 3);
        assertThat(report.failed()).extracting(FailedGpu::index, FailedGpu::reason).containsExactly(
                org.assertj.core.groups.Tuple.tuple(1, "the CUDA check on this GPU did not finish within 2s "
                        + "(it hung; it was killed, and the other GPUs were checked on their own)"));
        try (var files = java.nio.file.Files.list(seen)) {
            assertThat(files.map(f -> f.getFileName().toString())).containsExactlyInAnyOrderElementsOf(
                    listing.uuids().values());
        }
        assertThat(seen.resolve(listing.uuids().get(0))).content().isEqualTo("PCI_BUS_ID\n");
    }

    /**
     * A MIG slice or a container's limit gives a job less than the card nvidia-smi counts: CUDA's
     * {@code total_memory}, when smaller, is the GPU's memory; when larger (rounding), nvidia-smi's stands.
     */
    @Test
    void cudasTotalMemoryWhenSmallerThanNvidiaSmisIsTheGpusMemory() {
        smi.recorded("mixed.csv", 0);
        List<Gpu> known = GpuProbe.parse(FakeCommand.recording("mixed.csv")).gpus();
        assertThat(known).extracting(Gpu::memoryMb).containsExactly(24564L, 49140L);
        // GPU 0: a 10 GiB slice; GPU 1: CUDA says a little more than nvidia-smi's MiB.
        GpuHealth health = new GpuHealth(runner, smi.command(), perGpu("0) " + passed(10240L * 1024 * 1024 + 5)
                + ";; *) " + passed(49141L * 1024 * 1024) + ";;"), Map.of("PATH", System.getenv("PATH")),
                Duration.ofSeconds(10), TestSettings.JSON);
        GpuReport report = health.check(known);
        assertThat(report.healthy()).extracting(Gpu::memoryMb).containsExactly(10240L, 49140L);
        assertThat(GpuRoster.assign(2, known, report)).extracting(GpuRoster.Assignment::memoryMiB)
                .containsExactly(10240L, 49140L);

        // While GPU 0 is busy it gets no CUDA check and keeps the slice's memory, not nvidia-smi's card.
        GpuReport busy = health.check(known, java.util.Set.of(0), report);
        assertThat(busy.healthy()).extracting(Gpu::memoryMb).containsExactly(10240L, 49140L);

        // A whole card: CUDA's total_memory is a little below nvidia-smi's (an A100 80GB: 81050 MiB against
        // 81920); within 10% nvidia-smi's figure stands, so a job asking for the card's nominal size matches.
        GpuHealth wholeCards = new GpuHealth(runner, smi.command(), perGpu("0) " + passed(22200L * 1024 * 1024)
                + ";; *) " + passed(44000L * 1024 * 1024) + ";;"), Map.of("PATH", System.getenv("PATH")),
                Duration.ofSeconds(10), TestSettings.JSON);
        // GPU 0: 22200 of 24564 is 9.6% below; GPU 1: 44000 of 49140 is 10.5% below, a cut.
        assertThat(wholeCards.check(known).healthy()).extracting(Gpu::memoryMb).containsExactly(24564L, 44000L);

        // Without the CUDA check (switched off here; a CPU torch alike) nvidia-smi's figure stands.
        GpuHealth smiOnly = new GpuHealth(runner, smi.command(), null, Map.of(), Duration.ofSeconds(10), TestSettings.JSON);
        assertThat(smiOnly.check(known).healthy()).isEqualTo(known);
    }

    /**
     * A CUDA check whose process could not start is that GPU's alone, not a note for all: each such GPU
     * keeps its previous verdict (a failed one stays failed, a passed one keeps CUDA's memory figure), and
     * with no previous verdict passes on nvidia-smi's word with the reason as its note.
     */
    @Test
    void aCudaCheckThatCouldNotStartKeepsEachGpusPreviousVerdict() {
        smi.recorded("mixed.csv", 0);
        List<Gpu> known = GpuProbe.parse(FakeCommand.recording("mixed.csv")).gpus();
        GpuHealth health = new GpuHealth(runner, smi.command(), List.of(root.resolve("no-such-python").toString()),
                Map.of("PATH", System.getenv("PATH")), Duration.ofSeconds(10), TestSettings.JSON);
        GpuReport previous = new GpuReport(List.of(
                new GpuReport.Status(new Gpu(0, known.get(0).model(), 10240L), null, null),
                new GpuReport.Status(known.get(1), "RuntimeError: CUDA error: an illegal memory access", null)), null);
        GpuReport report = health.check(known, java.util.Set.of(), previous);
        assertThat(report.gpus().get(0).passed()).isTrue();
        assertThat(report.gpus().get(0).gpu().memoryMb()).isEqualTo(10240L);
        assertThat(report.gpus().get(0).note()).contains("could not start Python");
        assertThat(report.gpus().get(1).failure()).isEqualTo("RuntimeError: CUDA error: an illegal memory access");

        GpuReport first = health.check(known);
        assertThat(first.gpus()).allMatch(s -> s.passed() && s.note().contains("could not start Python"));
    }

    @Test
    void eachCudaCheckSeesItsOwnGpuInPciBusOrderNotTheWorkersCudaVisibleDevices() {
        smi.recorded("mixed.csv", 0);
        Path seen = root.resolve("env");
        GpuHealth health = new GpuHealth(runner, smi.command(), List.of("sh", "-c", "env > \"$0.$CUDA_VISIBLE_DEVICES\"",
                seen.toString()), Map.of("PATH", System.getenv("PATH"), "CUDA_VISIBLE_DEVICES", "3", "PYTHONPATH", "/opt/lib"),
                Duration.ofSeconds(10), TestSettings.JSON);
        health.check(GpuProbe.parse(FakeCommand.recording("mixed.csv")).gpus());
        for (int gpu = 0; gpu < 2; gpu++) {
            assertThat(root.resolve("env." + gpu)).content().contains("CUDA_DEVICE_ORDER=PCI_BUS_ID", "PYTHONPATH=/opt/lib",
                    "CUDA_VISIBLE_DEVICES=" + gpu + "\n");
        }
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
    void aRecheckAllocatesOnlyOnGpusNoJobUsesAndABusyGpuKeepsItsVerdict() throws Exception {
        smi.recorded("mixed.csv", 0);
        List<Gpu> known = GpuProbe.parse(FakeCommand.recording("mixed.csv")).gpus();
        Path asked = root.resolve("asked");
        // Records the GPU it is given; GPU 0 is full with another slot's job: out of memory there.
        String script = "echo \"$CUDA_VISIBLE_DEVICES\" >> \"$0\"; echo '" + HEADER + "'; if [ \"$CUDA_VISIBLE_DEVICES\" = 0 ]; "
                + "then echo '{\"index\": 0, \"ok\": false, \"error\": \"RuntimeError: CUDA error: out of memory\"}';"
                + " else echo '{\"index\": 0, \"ok\": true, \"error\": null}'; fi";
        GpuHealth health = new GpuHealth(runner, smi.command(), List.of("sh", "-c", script, asked.toString()),
                Map.of("PATH", System.getenv("PATH")), Duration.ofSeconds(10), TestSettings.JSON);
        GpuReport before = health.check(known);
        assertThat(java.nio.file.Files.readAllLines(asked)).containsExactlyInAnyOrder("0", "1");
        java.nio.file.Files.delete(asked);
        assertThat(before.healthyIndexes()).containsExactly(1); // idle and full: a real verdict

        GpuReport allPassed = new GpuReport(known.stream().map(g -> new GpuReport.Status(g, null, null)).toList(), null);
        GpuReport busy = health.check(known, java.util.Set.of(0), allPassed);
        assertThat(asked).content().isEqualTo("1\n");
        java.nio.file.Files.delete(asked);
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
        assertThat(asked).content().isEqualTo("1\n1\n"); // the two checks in between; none for this one
    }
}
