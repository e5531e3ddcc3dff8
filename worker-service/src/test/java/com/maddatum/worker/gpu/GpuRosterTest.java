package com.maddatum.worker.gpu;

import static org.assertj.core.api.Assertions.assertThat;

import com.maddatum.worker.config.Gpu;
import com.maddatum.worker.config.WorkerSettings;
import com.maddatum.worker.gpu.GpuRoster.Assignment;
import com.maddatum.worker.runner.ProcessRunner;
import com.maddatum.worker.support.FakeCommand;
import com.maddatum.worker.support.TestSettings;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What the Worker offers after a check: which slot claims on which GPU, its labels, and when that changed. */
class GpuRosterTest {

    private static final List<Gpu> FOUR = List.of(gpu(0), gpu(1), gpu(2), gpu(3));

    @TempDir
    Path root;

    private static Gpu gpu(int index) {
        return new Gpu(index, "NVIDIA H100 80GB HBM3", 81559L + index);
    }

    private static GpuReport report(List<Gpu> gpus, int... failed) {
        return new GpuReport(gpus.stream().map(g -> new GpuReport.Status(g,
                java.util.Arrays.stream(failed).anyMatch(f -> f == g.index()) ? "broken" : null, null)).toList(), null);
    }

    private static Assignment on(int gpu) {
        return new Assignment(true, gpu, 81559L + gpu);
    }

    @Test
    void allPassedEachSlotClaimsOnItsOwnGpuWithItsMemory() {
        assertThat(GpuRoster.assign(4, FOUR, report(FOUR))).containsExactly(on(0), on(1), on(2), on(3));
        // More slots than GPUs: they share round robin, as they always did, and the memory with it.
        assertThat(GpuRoster.assign(3, FOUR.subList(0, 2), report(FOUR.subList(0, 2))))
                .containsExactly(share(0, 2), on(1), share(0, 2));
    }

    private static Assignment share(int gpu, int slots) {
        return new Assignment(true, gpu, (81559L + gpu) / slots);
    }

    /** slots=4 on 2x80 GB: two 60 GB jobs must not both be sent to GPU 0 because slots 0 and 2 each claimed all of it. */
    @Test
    void slotsSharingAGpuEachClaimTheirShareOfItsMemory() {
        List<Gpu> two = FOUR.subList(0, 2);
        assertThat(GpuRoster.assign(4, two, report(two)))
                .containsExactly(share(0, 2), share(1, 2), share(0, 2), share(1, 2));
        assertThat(share(0, 2).memoryMiB()).isEqualTo(40779L);
        assertThat(GpuRoster.assign(5, two, report(two)))
                .containsExactly(share(0, 3), share(1, 2), share(0, 3), share(1, 2), share(0, 3));
        // GPU 1 failed: its slots idle, GPU 0's two slots still split GPU 0 between them.
        assertThat(GpuRoster.assign(4, two, report(two, 1)))
                .containsExactly(share(0, 2), Assignment.IDLE, share(0, 2), Assignment.IDLE);
    }

    private static final long MINUTE = Duration.ofMinutes(1).toNanos();

    private static GpuRoster checked(WorkerSettings settings, FakeCommand smi, AtomicLong now) {
        return new GpuRoster(settings, new GpuHealth(new ProcessRunner(Clock.systemUTC()), smi.command(), null, Map.of(),
                Duration.ofSeconds(10), TestSettings.JSON), now::get);
    }

    /** A failed GPU is looked at again on a back-off (1 min doubling to 30 min), not only after another fault. */
    @Test
    void aFailedGpuIsCheckedAgainOnABackOffUntilItComesBack() {
        FakeCommand smi = new FakeCommand(root, "nvidia-smi").recorded("h100x4.csv", 0);
        WorkerSettings settings = TestSettings.gpuSettings("http://boss", root, 0, smi.command(), TestSettings.python());
        AtomicLong now = new AtomicLong();
        GpuRoster roster = checked(settings, smi, now);
        assertThat(roster.retryAt()).isEmpty(); // all healthy: nothing to retry
        assertThat(roster.retryIfDue(Set.of())).isFalse();
        assertThat(roster.checks()).isEqualTo(1);

        String na = FakeCommand.recording("h100x4.csv").replace("3, NVIDIA H100 80GB HBM3, 81559", "3, NVIDIA H100 80GB HBM3, [N/A]");
        smi.answer(na, 0);
        now.set(10);
        assertThat(roster.recheck("a CUDA error", Set.of())).isTrue();
        assertThat(roster.retryAt()).hasValue(10 + MINUTE);
        now.set(10 + MINUTE - 1);
        assertThat(roster.retryIfDue(Set.of())).isFalse();
        assertThat(roster.checks()).isEqualTo(2);

        long[] waits = {1, 2, 4, 8, 16, 30, 30};
        long at = 10 + MINUTE;
        for (long wait : waits) {
            now.set(at);
            assertThat(roster.retryIfDue(Set.of())).isFalse(); // still [N/A]
            long next = at + (wait == 30 ? 30 : Math.min(wait * 2, 30)) * MINUTE;
            assertThat(roster.retryAt()).as("after a wait of %d min", wait).hasValue(next);
            at = next;
        }
        int checks = roster.checks();
        assertThat(checks).isEqualTo(2 + waits.length);

        smi.recorded("h100x4.csv", 0);
        now.set(at);
        assertThat(roster.retryIfDue(Set.of(0, 1))).isTrue(); // GPU 3 is back: a new generation, registered anew
        assertThat(roster.generation()).isEqualTo(2);
        assertThat(roster.assignment(3)).isEqualTo(new Assignment(true, 3, 81559L));
        assertThat(roster.retryAt()).isEmpty();
        assertThat(roster.report().gpus().get(0).note()).contains("in use by a job");
        now.set(at + 60 * MINUTE);
        assertThat(roster.retryIfDue(Set.of())).isFalse();
        assertThat(roster.checks()).isEqualTo(checks + 1);
    }

    /** nvidia-smi failing at start-up left the Worker CPU-only; once it answers, its GPUs are offered. */
    @Test
    void aWorkerWhoseNvidiaSmiFailedAtStartUpTakesItsGpusWhenItAnswers() {
        FakeCommand smi = new FakeCommand(root, "nvidia-smi").answer("Failed to initialize NVML: Driver/library version mismatch\n", 18);
        WorkerSettings settings = TestSettings.gpuSettings("http://boss", root, 0, smi.command(), TestSettings.python());
        AtomicLong now = new AtomicLong();
        GpuRoster roster = checked(settings, smi, now);
        assertThat(roster.report().cpuOnlyBecause()).startsWith("nvidia-smi exited with 18");
        assertThat(roster.assignment(0)).isEqualTo(Assignment.CPU);
        assertThat(roster.recheck("a hand-back", Set.of())).isFalse(); // no GPU known: a fault re-checks nothing
        assertThat(roster.retryAt()).hasValue(MINUTE);

        now.set(MINUTE);
        assertThat(roster.retryIfDue(Set.of())).isFalse(); // still failing
        assertThat(roster.retryAt()).hasValue(3 * MINUTE);

        smi.recorded("h100x4.csv", 0);
        now.set(3 * MINUTE);
        assertThat(roster.retryIfDue(Set.of())).isTrue();
        assertThat(roster.generation()).isEqualTo(1);
        assertThat(roster.labels()).containsExactly("cuda", "gpu", "test");
        assertThat(roster.assignment(0)).isEqualTo(new Assignment(true, 0, 81559L)); // the one slot it started with, on GPU 0
        assertThat(roster.report().cpuOnlyBecause()).isNull();
        assertThat(roster.retryAt()).isEmpty();
    }

    @Test
    void aSlotWhoseGpuFailedClaimsNothingRatherThanDoubleUpOnAnother() {
        assertThat(GpuRoster.assign(4, FOUR, report(FOUR, 1, 3)))
                .containsExactly(on(0), Assignment.IDLE, on(2), Assignment.IDLE);
    }

    @Test
    void withFewerSlotsThanGpusASlotWhoseGpuFailedTakesAHealthyOneNoSlotUses() {
        assertThat(GpuRoster.assign(2, FOUR, report(FOUR, 0))).containsExactly(on(2), on(1));
        assertThat(GpuRoster.assign(2, FOUR, report(FOUR, 0, 1, 2))).containsExactly(on(3), Assignment.IDLE);
    }

    @Test
    void noGpuPassedOrNoneAtAllEverySlotClaimsAsACpuSlot() {
        assertThat(GpuRoster.assign(4, FOUR, report(FOUR, 0, 1, 2, 3))).containsOnly(Assignment.CPU).hasSize(4);
        assertThat(GpuRoster.assign(1, List.of(), report(List.of()))).containsExactly(Assignment.CPU);
    }

    @Test
    void aRecheckMovesTheGenerationOnlyWhenTheHealthyGpusChangeAndLosingThemAllMakesACpuMachine() {
        FakeCommand smi = new FakeCommand(root, "nvidia-smi").recorded("h100x4.csv", 0);
        WorkerSettings settings = TestSettings.gpuSettings("http://boss", root, 0, smi.command(), TestSettings.python());
        ProcessRunner runner = new ProcessRunner(Clock.systemUTC());
        AtomicLong now = new AtomicLong();
        GpuHealth health = new GpuHealth(runner, smi.command(), null, Map.of(), Duration.ofSeconds(10), TestSettings.JSON);
        GpuRoster roster = new GpuRoster(settings, health, now::get);
        assertThat(settings.slots()).isEqualTo(4);
        assertThat(roster.labels()).containsExactly("cuda", "gpu", "test");
        assertThat(roster.usableSlots()).isEqualTo(4);
        assertThat(roster.report().gpus()).allMatch(s -> s.note().equals("the CUDA check is switched off"));

        now.set(1);
        assertThat(roster.recheck("hand-back ScriptNotStarted")).isFalse(); // same GPUs: nothing to tell the Boss
        assertThat(roster.generation()).isZero();

        smi.answer(FakeCommand.recording("h100x4.csv").replace("3, NVIDIA H100 80GB HBM3, 81559", "3, NVIDIA H100 80GB HBM3, [N/A]"), 0);
        now.set(2);
        assertThat(roster.recheck("hand-back ScriptNotStarted")).isTrue();
        assertThat(roster.generation()).isEqualTo(1);
        assertThat(roster.assignment(3)).isEqualTo(Assignment.IDLE);
        assertThat(roster.assignment(0).memoryMiB()).isEqualTo(81559L);
        assertThat(roster.usableSlots()).isEqualTo(3);
        assertThat(roster.labels()).containsExactly("cuda", "gpu", "test");

        smi.recorded("no-devices.txt", 6);
        now.set(3);
        assertThat(roster.recheck("a CUDA error")).isTrue();
        assertThat(roster.generation()).isEqualTo(2);
        assertThat(roster.labels()).containsExactly("cpu", "test");
        assertThat(roster.usableSlots()).isEqualTo(4);
        assertThat(roster.assignment(0)).isEqualTo(Assignment.CPU);
        assertThat(roster.report().cpuOnlyBecause()).startsWith("no GPU passed its check: GPU 0: nvidia-smi exited with 6");

        smi.recorded("h100x4.csv", 0);
        now.set(4);
        assertThat(roster.recheck("hand-back WorkerFailure")).isTrue(); // back: the slots claim GPU work again
        assertThat(roster.assignment(3)).isEqualTo(new Assignment(true, 3, 81559L));
        assertThat(roster.labels()).containsExactly("cuda", "gpu", "test");
    }

    @Test
    void failuresThatACheckBegunSinceHasSeenCostNoSecondCheck() {
        FakeCommand smi = new FakeCommand(root, "nvidia-smi").recorded("h100x4.csv", 0);
        WorkerSettings settings = TestSettings.gpuSettings("http://boss", root, 0, smi.command(), TestSettings.python());
        AtomicLong now = new AtomicLong(10);
        GpuHealth health = new GpuHealth(new ProcessRunner(Clock.systemUTC()), smi.command(), null, Map.of(),
                Duration.ofSeconds(10), TestSettings.JSON);
        GpuRoster roster = new GpuRoster(settings, health, now::get);
        smi.recorded("no-devices.txt", 6);
        now.set(20);
        assertThat(roster.recheck("slot 0's hand-back")).isTrue(); // began at 20
        smi.recorded("h100x4.csv", 0);
        // Slot 1 failed at 15 and waited for slot 0's check: that check saw the machine after its failure.
        assertThat(roster.recheck("slot 1's hand-back", 15)).isFalse();
        assertThat(roster.generation()).isEqualTo(1);
        assertThat(roster.recheck("slot 1's next hand-back", 21)).isTrue();
        assertThat(roster.generation()).isEqualTo(2);
    }

    @Test
    void switchedOffEveryGpuListedAtStartUpIsOffered() {
        FakeCommand smi = new FakeCommand(root, "nvidia-smi").recorded("a100x2-one-na.csv", 0);
        WorkerSettings settings = TestSettings.gpuSettings("http://boss", root, 0, smi.command(), TestSettings.python());
        GpuRoster roster = new GpuRoster(settings, null, System::nanoTime);
        assertThat(roster.report().healthyIndexes()).containsExactlyInAnyOrder(0, 1);
        assertThat(roster.assignment(1)).isEqualTo(new Assignment(true, 1, null)); // no memory known: none claimed
        assertThat(roster.recheck("hand-back")).isFalse();
    }

    /** GPUs adopted after a failing start-up are only those the Worker's CUDA_VISIBLE_DEVICES names, too. */
    @Test
    void gpusAdoptedAfterAFailingStartUpAreOnlyThoseTheWorkersCudaVisibleDevicesNames() {
        FakeCommand smi = new FakeCommand(root, "nvidia-smi").answer("Failed to initialize NVML: Unknown Error\n", 255);
        WorkerSettings settings = TestSettings.gpuSettings("http://boss", root, 0, smi.command(), TestSettings.python(),
                null, Map.of("CUDA_VISIBLE_DEVICES", "2,3"));
        AtomicLong now = new AtomicLong();
        GpuRoster roster = new GpuRoster(settings, new GpuHealth(new ProcessRunner(Clock.systemUTC()), smi.command(), null,
                Map.of(), Duration.ofSeconds(10), TestSettings.JSON, settings.visibleDevices()), now::get);
        assertThat(roster.assignment(0)).isEqualTo(Assignment.CPU);
        assertThat(roster.hidesGpusFromCpuRuns()).isTrue(); // pinned by its operator: a CPU run sees no GPU

        smi.recorded("a100x4-uuid.csv", 0);
        now.set(MINUTE);
        assertThat(roster.retryIfDue(Set.of())).isTrue();
        assertThat(roster.report().gpus()).extracting(s -> s.gpu().index()).containsExactly(2, 3);
        assertThat(roster.assignment(0)).isEqualTo(new Assignment(true, 2, 81920L));
    }

    private static final String HEADER = "{\"torch\": \"2.4.0\", \"cuda\": \"12.4\", \"available\": true, \"devices\": 1}";

    /**
     * A roster whose CUDA check is a stand-in that appends the GPU it is given to {@code dir/asked}, fails a
     * GPU while {@code dir/broken.N} exists, and, while {@code dir/hold} exists, on GPU 2 says it started
     * ({@code dir/holding}) and waits for {@code dir/release}.
     */
    private GpuRoster cudaChecked(FakeCommand smi, AtomicLong now) {
        String script = "cd \"$0\"; echo \"$CUDA_VISIBLE_DEVICES\" >> asked; echo '" + HEADER + "'; "
                + "if [ -e hold ] && [ \"$CUDA_VISIBLE_DEVICES\" = 2 ]; then touch holding; "
                + "while [ ! -e release ]; do sleep 0.05; done; fi; "
                + "if [ -e \"broken.$CUDA_VISIBLE_DEVICES\" ]; then echo '{\"index\": 0, \"ok\": false, \"error\": \"CUDA error\"}'; "
                + "else echo '{\"index\": 0, \"ok\": true, \"error\": null}'; fi";
        WorkerSettings settings = TestSettings.gpuSettings("http://boss", root, 4, smi.command(), TestSettings.python());
        return new GpuRoster(settings, new GpuHealth(new ProcessRunner(Clock.systemUTC()), smi.command(),
                List.of("sh", "-c", script, root.toString()), Map.of("PATH", System.getenv("PATH")),
                Duration.ofSeconds(20), TestSettings.JSON), now::get);
    }

    private List<String> asked() throws java.io.IOException {
        List<String> asked = java.nio.file.Files.readAllLines(root.resolve("asked"));
        java.nio.file.Files.delete(root.resolve("asked"));
        return asked;
    }

    /** The re-check after a fault checks the GPU that faulted, even while another slot's job shares it. */
    @Test
    void aFaultRechecksTheFaultedGpuEvenWhenAnotherSlotsJobSharesIt() throws Exception {
        FakeCommand smi = new FakeCommand(root, "nvidia-smi").recorded("h100x4.csv", 0);
        AtomicLong now = new AtomicLong();
        GpuRoster roster = cudaChecked(smi, now);
        assertThat(asked()).containsExactlyInAnyOrder("0", "1", "2", "3");
        java.nio.file.Files.createFile(root.resolve("broken.0"));
        now.set(10);
        // GPU 0's job faulted; another slot's job still runs on GPU 0, one more on GPU 1.
        assertThat(roster.recheck("a CUDA error", () -> Set.of(0, 1), 0)).isTrue();
        assertThat(asked()).containsExactlyInAnyOrder("0", "2", "3");
        assertThat(roster.report().healthyIndexes()).containsExactlyInAnyOrder(1, 2, 3);
    }

    /** The back-off retry allocates on the failed GPUs only: a healthy idle one may be about to get a job. */
    @Test
    void theRetryChecksOnlyTheFailedGpus() throws Exception {
        FakeCommand smi = new FakeCommand(root, "nvidia-smi").recorded("h100x4.csv", 0);
        java.nio.file.Files.createFile(root.resolve("broken.3"));
        AtomicLong now = new AtomicLong();
        GpuRoster roster = cudaChecked(smi, now);
        assertThat(asked()).containsExactlyInAnyOrder("0", "1", "2", "3");
        assertThat(roster.report().healthyIndexes()).containsExactlyInAnyOrder(0, 1, 2);
        java.nio.file.Files.delete(root.resolve("broken.3"));
        now.set(MINUTE);
        assertThat(roster.retryIfDue(Set.of(1))).isTrue();
        assertThat(asked()).containsExactly("3");
        assertThat(roster.report().healthyIndexes()).containsExactlyInAnyOrder(0, 1, 2, 3);
        assertThat(roster.report().gpus().get(0).note()).contains("passed its last check");
        assertThat(roster.report().gpus().get(1).note()).contains("in use by a job");
    }

    /**
     * While a check allocates on a GPU, its slot neither claims nor starts: a slot that claimed an order
     * waits for the check's end, and hands the order back when the check failed its GPU.
     */
    @Test
    void aSlotDoesNotStartOnAGpuWhileACheckAllocatesOnIt() throws Exception {
        FakeCommand smi = new FakeCommand(root, "nvidia-smi").recorded("h100x4.csv", 0);
        AtomicLong now = new AtomicLong();
        GpuRoster roster = cudaChecked(smi, now);
        Assignment claimed = roster.assignment(2);
        int generation = roster.generation();
        assertThat(claimed.gpu()).isEqualTo(2);
        java.nio.file.Files.createFile(root.resolve("hold"));
        java.nio.file.Files.createFile(root.resolve("broken.2"));
        java.util.concurrent.ExecutorService threads = java.util.concurrent.Executors.newFixedThreadPool(2);
        try {
            now.set(10);
            var check = threads.submit(() -> roster.recheck("a CUDA error", () -> Set.of(), null));
            long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
            while (!java.nio.file.Files.exists(root.resolve("holding"))) {
                assertThat(System.nanoTime() - deadline).as("the check on GPU 2 starts").isNegative();
                Thread.onSpinWait();
            }
            assertThat(roster.beingChecked(2)).isTrue();
            assertThat(roster.beingChecked(null)).isFalse();
            java.util.concurrent.atomic.AtomicBoolean registered = new java.util.concurrent.atomic.AtomicBoolean();
            var start = threads.submit(() -> roster.start(2, claimed, generation, () -> registered.set(true)));
            org.assertj.core.api.Assertions.assertThatThrownBy(() -> start.get(300, java.util.concurrent.TimeUnit.MILLISECONDS))
                    .isInstanceOf(java.util.concurrent.TimeoutException.class);
            assertThat(registered).isFalse();
            java.nio.file.Files.createFile(root.resolve("release"));
            assertThat(check.get(20, java.util.concurrent.TimeUnit.SECONDS)).isTrue(); // GPU 2 failed
            assertThat(start.get(20, java.util.concurrent.TimeUnit.SECONDS)).isFalse(); // handed back, not started
            assertThat(registered).isFalse();
            assertThat(roster.beingChecked(2)).isFalse();
        } finally {
            threads.shutdownNow();
        }
    }
}
