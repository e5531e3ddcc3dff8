package com.maddatum.worker.poll;

import static com.maddatum.worker.poll.ScriptedBoss.orderId;
import static org.assertj.core.api.Assertions.assertThat;

import com.maddatum.worker.config.WorkerSettings;
import com.maddatum.worker.gpu.GpuHealth;
import com.maddatum.worker.gpu.GpuRoster;
import com.maddatum.worker.runner.ProcessRunner;
import com.maddatum.worker.support.FakeCommand;
import com.maddatum.worker.support.TestSettings;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.function.BooleanSupplier;
import java.util.function.Function;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.JsonNode;

/**
 * A Worker on a GPU machine (nvidia-smi stood in by a {@link FakeCommand}) against a scripted Boss: what
 * its claims say, which GPU its scripts see, and how a run that fails for the machine's sake has the GPUs
 * checked again and the Boss told only when their health changed.
 */
class GpuSlotsTest {

    private static final Duration A_WHILE = Duration.ofSeconds(30);
    private static final String CUDA_ENV = "{\"scriptName\":\"cuda_env.py\"}";

    @TempDir
    Path root;

    private Function<String, WorkerSettings> gpuMachine(FakeCommand smi, int slots, String python) {
        return url -> TestSettings.gpuSettings(url, root, slots, smi.command(), python);
    }

    /** Checked by nvidia-smi alone: the CUDA step needs a torch with CUDA, which the build machines lack. */
    private static Function<WorkerSettings, GpuRoster> checkedBy(FakeCommand smi) {
        return settings -> new GpuRoster(settings, new GpuHealth(new ProcessRunner(Clock.systemUTC()), smi.command(),
                null, Map.of(), Duration.ofSeconds(10), TestSettings.JSON), System::nanoTime);
    }

    private static void await(String what, BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + A_WHILE.toNanos();
        while (!condition.getAsBoolean()) {
            assertThat(System.nanoTime()).as(what).isLessThan(deadline);
            Thread.sleep(20);
        }
    }

    private static List<String> claimsSince(WorkerHarness worker, int from) {
        // A snapshot first: the slots keep claiming, and a view of a list that changes under it throws.
        List<String> calls = List.copyOf(worker.boss.boredCalls);
        return calls.subList(Math.min(from, calls.size()), calls.size());
    }

    @Test
    void eachGpuSlotsClaimSaysItsGpusMemoryAndItsScriptSeesOnlyThatGpu() throws Exception {
        FakeCommand smi = new FakeCommand(root, "nvidia-smi").recorded("mixed.csv", 0);
        try (WorkerHarness worker = new WorkerHarness(gpuMachine(smi, 0, TestSettings.python()), checkedBy(smi))) {
            worker.boss.order(1, CUDA_ENV);
            worker.start();
            JsonNode outcome = worker.boss.callback(A_WHILE);
            assertThat(outcome.get("status").asInt()).isEqualTo(200);
            assertThat(outcome.get("logTail").asString()).containsPattern("visible='[01]' order='PCI_BUS_ID'");
            await("claims from both slots", () -> worker.boss.boredCalls.stream().anyMatch(c -> c.endsWith("&gpuMemoryMiB=24564"))
                    && worker.boss.boredCalls.stream().anyMatch(c -> c.endsWith("&gpuMemoryMiB=49140")));
            assertThat(worker.boss.boredCalls).allMatch(c -> c.contains("&gpuMemoryMiB="));

            JsonNode registration = worker.boss.registrations.get(0);
            assertThat(registration.get("labels").toString()).contains("\"gpu\"", "\"cuda\"").doesNotContain("\"cpu\"");
            assertThat(registration.get("gpus")).hasSize(2);
            assertThat(registration.get("gpus").get(1).get("memoryMb").asLong()).isEqualTo(49140);
            assertThat(registration.get("failedGpus")).isEmpty();
            assertThat(registration.has("cpuOnlyBecause")).isTrue();
            assertThat(registration.get("cpuOnlyBecause").isNull()).isTrue();
        }
    }

    @Test
    void aCpuMachinesClaimsSayNoGpuMemory() throws Exception {
        try (WorkerHarness worker = new WorkerHarness(root, 1, Duration.ofMillis(100))) {
            worker.boss.order(1, CUDA_ENV);
            worker.start();
            JsonNode outcome = worker.boss.callback(A_WHILE);
            assertThat(outcome.get("logTail").asString()).contains("visible=None order=None");
            await("a claim", () -> !worker.boss.boredCalls.isEmpty());
            assertThat(worker.boss.boredCalls).noneMatch(c -> c.contains("gpuMemoryMiB"));
            assertThat(worker.boss.registrations.get(0).get("labels").toString()).contains("\"cpu\"");
            assertThat(worker.boss.registrations.get(0).get("failedGpus")).isEmpty();
        }
    }

    @Test
    void aMachineWhoseOnlyGpuFailsAtStartUpRegistersAsCpuOnlyAndHidesTheGpuFromItsScripts() throws Exception {
        FakeCommand smi = new FakeCommand(root, "nvidia-smi").answer("0, NVIDIA H200, [N/A]\n", 0);
        try (WorkerHarness worker = new WorkerHarness(gpuMachine(smi, 0, TestSettings.python()), checkedBy(smi))) {
            worker.boss.order(1, CUDA_ENV);
            worker.start();
            JsonNode outcome = worker.boss.callback(A_WHILE);
            assertThat(outcome.get("logTail").asString()).contains("visible='' order=None");
            JsonNode registration = worker.boss.registrations.get(0);
            assertThat(registration.get("labels").toString()).contains("\"cpu\"").doesNotContain("gpu", "cuda");
            assertThat(registration.get("gpus")).isEmpty();
            assertThat(registration.get("failedGpus").get(0).get("reason").asString()).contains("memory.total");
            assertThat(registration.get("failedGpus").get(0).get("model").asString()).isEqualTo("NVIDIA H200");
            assertThat(registration.get("cpuOnlyBecause").asString())
                    .isEqualTo("no GPU passed its check: GPU 0: nvidia-smi gives no memory.total for it (such as [N/A])");
            assertThat(worker.boss.boredCalls).noneMatch(c -> c.contains("gpuMemoryMiB"));
        }
    }

    @Test
    void aHandBackHasTheGpusCheckedAgainAndTheWorkerRegistersAgainOnlyWhenTheirHealthChanged() throws Exception {
        FakeCommand smi = new FakeCommand(root, "nvidia-smi").recorded("mixed.csv", 0);
        // One slot on two GPUs; scripts cannot start (no such Python): every run is a ScriptNotStarted hand-back.
        String noPython = root.resolve("no-python").toString();
        try (WorkerHarness worker = new WorkerHarness(gpuMachine(smi, 1, noPython), checkedBy(smi))) {
            GpuRoster gpus = worker.gpus;
            worker.boss.order(1, CUDA_ENV);
            worker.start();
            JsonNode first = worker.boss.callback(A_WHILE);
            assertThat(first.get("error").get("type").asString()).isEqualTo("ScriptNotStarted");
            await("the re-check after order 1", () -> gpus.checks() == 2);
            assertThat(worker.boss.registrations).hasSize(1); // the same GPUs: nothing new to tell
            assertThat(worker.boss.registrations.get(0).get("slots").asInt()).isEqualTo(1);
            assertThat(claimsSince(worker, 0)).allMatch(c -> c.endsWith("&gpuMemoryMiB=24564"));

            // GPU 0, the slot's, loses its memory reading: the slot moves to GPU 1, which no slot used.
            smi.answer("0, NVIDIA GeForce RTX 4090, [N/A]\n1, NVIDIA RTX A6000, 49140\n", 0);
            worker.boss.order(2, CUDA_ENV);
            await("the second registration", () -> worker.boss.registrations.size() == 2);
            assertThat(gpus.checks()).isEqualTo(3);
            JsonNode second = worker.boss.registrations.get(1);
            assertThat(second.get("gpus")).hasSize(1);
            assertThat(second.get("gpus").get(0).get("index").asInt()).isEqualTo(1);
            assertThat(second.get("failedGpus")).hasSize(1);
            assertThat(second.get("failedGpus").get(0).get("index").asInt()).isZero();
            assertThat(second.get("failedGpus").get(0).get("memoryMb").isNull()).isTrue();
            assertThat(second.get("labels").toString()).contains("\"gpu\"");
            int claimsBefore = worker.boss.boredCalls.size();
            await("a claim on GPU 1", () -> claimsSince(worker, claimsBefore).stream()
                    .anyMatch(c -> c.endsWith("&gpuMemoryMiB=49140")));

            // nvidia-smi finds nothing: a CPU machine now, and it says why.
            smi.recorded("no-devices.txt", 6);
            worker.boss.order(3, CUDA_ENV);
            await("the third registration", () -> worker.boss.registrations.size() == 3);
            JsonNode third = worker.boss.registrations.get(2);
            assertThat(third.get("labels").toString()).contains("\"cpu\"").doesNotContain("gpu", "cuda");
            assertThat(third.get("gpus")).isEmpty();
            assertThat(third.get("failedGpus")).hasSize(2);
            assertThat(third.get("cpuOnlyBecause").asString()).startsWith("no GPU passed its check: GPU 0: nvidia-smi "
                    + "exited with 6: No devices were found");
            int cpuClaims = worker.boss.boredCalls.size();
            await("a CPU claim", () -> claimsSince(worker, cpuClaims).size() > 1);
            assertThat(claimsSince(worker, cpuClaims + 1)).noneMatch(c -> c.contains("gpuMemoryMiB"));
            // No CPU claim before the Boss had the CPU labels: it would have given GPU work to a GPU-less slot.
            List<String> requests = List.copyOf(worker.boss.requests);
            int thirdRegistration = java.util.stream.IntStream.range(0, requests.size())
                    .filter(i -> requests.get(i).equals("/worker-node/create")).skip(2).findFirst().orElseThrow();
            int firstCpuClaim = java.util.stream.IntStream.range(0, requests.size())
                    .filter(i -> requests.get(i).startsWith("/bored") && !requests.get(i).contains("gpuMemoryMiB"))
                    .findFirst().orElseThrow();
            assertThat(firstCpuClaim).isGreaterThan(thirdRegistration);
            assertThat(List.of(worker.boss.callback(A_WHILE), worker.boss.callback(A_WHILE)))
                    .extracting(o -> o.get("orderId").asString()).containsExactly(orderId(2), orderId(3));
        }
    }

    /**
     * A check (another slot's) fails this slot's GPU while the slot waits in its long poll: the order it then
     * gets was claimed for that GPU. It goes back to the queue as not started, and is not run on the failed GPU.
     */
    @Test
    void anOrderClaimedForAGpuThatFailedDuringTheLongPollIsHandedBackNotRun() throws Exception {
        FakeCommand smi = new FakeCommand(root, "nvidia-smi").recorded("mixed.csv", 0);
        try (WorkerHarness worker = new WorkerHarness(gpuMachine(smi, 1, TestSettings.python()), checkedBy(smi))) {
            GpuRoster gpus = worker.gpus;
            java.util.concurrent.atomic.AtomicBoolean once = new java.util.concurrent.atomic.AtomicBoolean();
            worker.boss.duringClaim = () -> {
                if (once.compareAndSet(false, true)) {
                    smi.answer("0, NVIDIA GeForce RTX 4090, [N/A]\n1, NVIDIA RTX A6000, 49140\n", 0);
                    assertThat(gpus.recheck("another slot's CUDA error")).isTrue(); // slot 0 moves to GPU 1
                }
            };
            worker.boss.order(1, CUDA_ENV);
            worker.start();
            JsonNode handedBack = worker.boss.callback(A_WHILE);
            assertThat(handedBack.get("orderId").asString()).isEqualTo(orderId(1));
            assertThat(handedBack.get("status").asInt()).isEqualTo(503);
            assertThat(handedBack.get("retryable").asBoolean()).isTrue();
            assertThat(handedBack.get("error").get("type").asString()).isEqualTo("SlotChanged");
            assertThat(handedBack.get("error").get("message").asString()).contains("GPU changed");
            assertThat(worker.boss.requests).noneMatch(r -> r.startsWith("/retrieve/job/"));
            assertThat(worker.boss.boredCalls.get(0)).endsWith("&gpuMemoryMiB=24564");
            // The slot claims again, on GPU 1, once the Boss has the new picture; the next order runs there.
            worker.boss.order(2, CUDA_ENV);
            JsonNode ran = worker.boss.callback(A_WHILE);
            assertThat(ran.get("orderId").asString()).isEqualTo(orderId(2));
            assertThat(ran.get("status").asInt()).isEqualTo(200);
            assertThat(ran.get("logTail").asString()).contains("visible='1'");
            assertThat(worker.boss.registrations).hasSize(2);
        }
    }

    /**
     * A run fails with a CUDA error while another slot's job runs on the other GPU: the re-check allocates
     * only on the failed run's GPU (free now), not on the busy one, which a nearly full memory or
     * exclusive-process mode would fail for no fault of its own.
     */
    @Test
    void aRecheckAfterAMachineFaultSparesTheGpuAnotherSlotsJobUses() throws Exception {
        FakeCommand smi = new FakeCommand(root, "nvidia-smi").recorded("mixed.csv", 0);
        Path asked = root.resolve("asked");
        // The CUDA check's Python (one per GPU): notes which GPU it was asked to allocate on, and finds it fine.
        List<String> python = List.of("sh", "-c", "echo \"$CUDA_VISIBLE_DEVICES\" >> \"$0\"; echo '{\"torch\": \"2.4.0\", "
                + "\"cuda\": \"12.4\", \"available\": true, \"devices\": 1}'; echo '{\"index\": 0, \"ok\": true}'",
                asked.toString());
        Function<WorkerSettings, GpuRoster> roster = settings -> new GpuRoster(settings, new GpuHealth(
                new ProcessRunner(Clock.systemUTC()), smi.command(), python, Map.of("PATH", System.getenv("PATH")),
                Duration.ofSeconds(10), TestSettings.JSON), System::nanoTime);
        try (WorkerHarness worker = new WorkerHarness(gpuMachine(smi, 0, TestSettings.python()), roster)) {
            assertThat(java.nio.file.Files.readAllLines(asked)).containsExactlyInAnyOrder("0", "1"); // start-up: every GPU
            worker.boss.order(1, "{\"scriptName\":\"sleeper.py\"}");
            worker.start();
            await("the sleeper running", () -> worker.boss.beatsOf(orderId(1)) > 0);
            worker.boss.order(2, "{\"scriptName\":\"cuda_lost.py\"}");
            JsonNode lost = worker.boss.callback(A_WHILE);
            assertThat(lost.get("orderId").asString()).isEqualTo(orderId(2));
            String lostGpu = lost.get("logTail").asString().replaceAll("(?s).*visible=(\\d).*", "$1");
            await("the re-check", () -> worker.gpus.checks() == 2);
            assertThat(java.nio.file.Files.readAllLines(asked)).hasSize(3).endsWith(lostGpu);
            int busy = 1 - Integer.parseInt(lostGpu);
            assertThat(worker.gpus.report().healthyIndexes()).containsExactlyInAnyOrder(0, 1);
            assertThat(worker.gpus.report().gpus().get(busy).note()).contains("in use by a job");
            assertThat(worker.boss.registrations).hasSize(1);
        }
    }

    /** A GPU failed at start-up is looked at again on the back-off, with no run failing, and offered once it passes. */
    @Test
    void aGpuThatFailedAtStartUpIsCheckedAgainWithoutAFaultAndOfferedWhenItRecovers() throws Exception {
        FakeCommand smi = new FakeCommand(root, "nvidia-smi").answer("0, NVIDIA H200, [N/A]\n", 0);
        com.maddatum.worker.config.WorkerProperties.GpuCheck quick = new com.maddatum.worker.config.WorkerProperties.GpuCheck(
                true, Duration.ofSeconds(10), false, Duration.ofSeconds(1), Duration.ofSeconds(1));
        try (WorkerHarness worker = new WorkerHarness(url -> TestSettings.gpuSettings(url, root, 0, smi.command(),
                TestSettings.python(), quick), checkedBy(smi))) {
            worker.start();
            await("the CPU-only registration", () -> worker.boss.registrations.size() == 1);
            assertThat(worker.boss.registrations.get(0).get("gpus")).isEmpty();
            smi.answer("0, NVIDIA H200, 143771\n", 0);
            await("the registration with the GPU back", () -> worker.boss.registrations.size() == 2);
            JsonNode back = worker.boss.registrations.get(1);
            assertThat(back.get("gpus")).hasSize(1);
            assertThat(back.get("failedGpus")).isEmpty();
            assertThat(back.get("labels").toString()).contains("\"gpu\"");
            assertThat(back.get("bootId").asString()).isEqualTo(worker.boss.registrations.get(0).get("bootId").asString());
            int before = worker.boss.boredCalls.size();
            await("a claim on the GPU", () -> claimsSince(worker, before).stream().anyMatch(c -> c.endsWith("&gpuMemoryMiB=143771")));
        }
    }

    /**
     * GPUs first listed at a retry after nvidia-smi failed at start-up are the Worker's as much as those it
     * started with: when they then fail, a CPU run must still be told CUDA_VISIBLE_DEVICES="", although
     * the settings' start-up listing is empty.
     */
    @Test
    void aCpuRunHidesGpusAdoptedAfterAFailedStartUpThatThenFailed() throws Exception {
        FakeCommand smi = new FakeCommand(root, "nvidia-smi").answer("Failed to initialize NVML: Driver/library version mismatch\n", 18);
        com.maddatum.worker.config.WorkerProperties.GpuCheck quick = new com.maddatum.worker.config.WorkerProperties.GpuCheck(
                true, Duration.ofSeconds(10), false, Duration.ofSeconds(1), Duration.ofSeconds(1));
        try (WorkerHarness worker = new WorkerHarness(url -> TestSettings.gpuSettings(url, root, 0, smi.command(),
                TestSettings.python(), quick), checkedBy(smi))) {
            worker.start();
            await("the CPU-only registration", () -> worker.boss.registrations.size() == 1);
            assertThat(worker.settings.gpus()).isEmpty();
            smi.answer("0, NVIDIA H200, [N/A]\n", 0);
            await("the GPU adopted by a retry", () -> !worker.gpus.report().gpus().isEmpty());
            assertThat(worker.gpus.report().healthy()).isEmpty();
            worker.boss.order(1, CUDA_ENV);
            JsonNode outcome = worker.boss.callback(A_WHILE);
            assertThat(outcome.get("logTail").asString()).contains("visible='' order=None");
        }
    }

    /** A Worker its operator pinned to no GPU (CUDA_VISIBLE_DEVICES="") hides the machine's GPUs from its runs. */
    @Test
    void aWorkerPinnedToNoGpuRunsCpuOnlyAndHidesTheMachinesGpus() throws Exception {
        FakeCommand smi = new FakeCommand(root, "nvidia-smi").recorded("a100x4-uuid.csv", 0);
        try (WorkerHarness worker = new WorkerHarness(url -> TestSettings.gpuSettings(url, root, 0, smi.command(),
                TestSettings.python(), null, Map.of("CUDA_VISIBLE_DEVICES", "")), checkedBy(smi))) {
            worker.boss.order(1, CUDA_ENV);
            worker.start();
            JsonNode outcome = worker.boss.callback(A_WHILE);
            assertThat(outcome.get("logTail").asString()).contains("visible='' order=None");
            JsonNode registration = worker.boss.registrations.get(0);
            assertThat(registration.get("gpus")).isEmpty();
            assertThat(registration.get("failedGpus")).isEmpty();
            assertThat(registration.get("labels").toString()).contains("\"cpu\"").doesNotContain("gpu");
            assertThat(registration.get("cpuOnlyBecause").isNull()).isTrue();
        }
    }
}
