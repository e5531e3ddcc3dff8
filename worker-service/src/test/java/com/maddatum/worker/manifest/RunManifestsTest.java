package com.maddatum.worker.manifest;

import static org.assertj.core.api.Assertions.assertThat;

import com.maddatum.worker.config.WorkerSettings;
import com.maddatum.worker.outcome.OutcomeContract;
import com.maddatum.worker.runner.ProcessRunner;
import com.maddatum.worker.support.BossCallbackRules;
import com.maddatum.worker.support.TestSettings;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Clock;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A run's manifest, as the Worker records it around a run. */
class RunManifestsTest {

    @TempDir
    Path root;

    private Path scripts;
    private WorkerSettings settings;
    private RunManifests manifests;

    @BeforeEach
    void scriptsAndData() throws Exception {
        scripts = Files.createDirectories(root.resolve("scripts"));
        Files.writeString(scripts.resolve("train.py"), "print('{\"status\": 200}')\n");
        Files.createDirectories(scripts.resolve("data"));
        Files.writeString(scripts.resolve("data").resolve("bundled.csv"), "a,b\n1,2\n");
        settings = TestSettings.settings("http://127.0.0.1:9", scripts, root, null);
        Files.createDirectories(settings.dataDir());
        Files.writeString(settings.dataDir().resolve("shared.csv"), "x,y\n3,4\n");
        Files.writeString(scripts.resolve("data").resolve("shared.csv"), "the copy jobcontract.py does not read\n");
        manifests = TestSettings.manifests(settings);
    }

    private static String sha256(Path file) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(file)));
    }

    private Map<String, Object> manifestOf(Map<String, Object> job, Integer gpu) {
        Map<String, Object> outcome = new LinkedHashMap<>(Map.of("status", 200));
        manifests.begin(job, gpu).attach(outcome);
        @SuppressWarnings("unchecked")
        Map<String, Object> manifest = (Map<String, Object>) outcome.get("manifest");
        return manifest;
    }

    @Test
    void recordsTheFilesVersionsCpuWorkerAndSeedOfARun() throws Exception {
        Map<String, Object> manifest = manifestOf(Map.of("_id", "j", "scriptName", "train.py", "dataFileName",
                "shared.csv", "seed", 42, "seedSource", "boss"), null);
        assertThat(manifest).containsOnlyKeys("scriptSha256", "scriptsSha256", "dataSha256", "dataFile", "python", "torch", "sklearn",
                "numpy", "cuda", "driver", "gpu", "host", "worker", "workerVersion", "seed", "seedSource");
        assertThat(manifest.get("scriptSha256")).isEqualTo(sha256(scripts.resolve("train.py")));
        // The data directory comes first, as for the script (jobcontract.find_data).
        assertThat(manifest.get("dataSha256")).isEqualTo(sha256(settings.dataDir().resolve("shared.csv")));
        assertThat(manifest).containsEntry("dataFile", "shared.csv").containsEntry("python", "3.0.test")
                .containsEntry("gpu", "cpu").containsEntry("cuda", null).containsEntry("driver", null)
                .containsEntry("worker", "test-node").containsEntry("workerVersion", "test")
                .containsEntry("seed", 42).containsEntry("seedSource", "boss");
        assertThat((String) manifest.get("host")).isNotBlank();
    }

    @Test
    void recordsEachInputsNameAndHashInTheJobsOrder() {
        String model = "A".repeat(64);
        String rows = "b".repeat(64);
        Map<String, Object> manifest = manifestOf(Map.of("scriptName", "train.py", "inputs", List.of(
                Map.of("name", "model.pt", "sha256", model, "size", 7),
                Map.of("name", "rows.csv", "sha256", rows),
                Map.of("name", "../escape", "sha256", rows))), null); // refused by the run: not recorded

        assertThat(manifest.get("inputs")).isEqualTo(List.of(
                Map.of("name", "model.pt", "sha256", "a".repeat(64)), Map.of("name", "rows.csv", "sha256", rows)));
        assertThat(manifestOf(Map.of("scriptName", "train.py"), null)).doesNotContainKey("inputs");
    }

    /** nn.py imports jobcontract.py and tabular.py from its folder: a change there is a change to what ran. */
    @Test
    void aChangedFileBesideTheScriptChangesTheScriptsHashButNotTheScripts() throws Exception {
        Files.writeString(scripts.resolve("helper.py"), "SCALE = 1\n");
        Map<String, Object> before = manifestOf(Map.of("scriptName", "train.py"), null);
        Files.writeString(scripts.resolve("data").resolve("bundled.csv"), "a,b\n9,9\n");
        assertThat(manifestOf(Map.of("scriptName", "train.py"), null)).as("data is not a script")
                .containsEntry("scriptsSha256", before.get("scriptsSha256"));
        Files.writeString(scripts.resolve("helper.py.new"), "SCALE = 2\n");
        Files.move(scripts.resolve("helper.py.new"), scripts.resolve("helper.py"),
                java.nio.file.StandardCopyOption.REPLACE_EXISTING, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
        Map<String, Object> after = manifestOf(Map.of("scriptName", "train.py"), null);
        assertThat(after.get("scriptSha256")).isEqualTo(before.get("scriptSha256")).isNotNull();
        assertThat(after.get("scriptsSha256")).isNotEqualTo(before.get("scriptsSha256")).isNotNull();
    }

    /** A cancelled or stopped run takes what the probes know: no wait for the interpreter, no nvidia-smi. */
    @Test
    void aRunThatMustNotWaitAsksNoProbe() throws Exception {
        Path fifo = root.resolve("probe-gate");
        assertThat(new ProcessBuilder("mkfifo", fifo.toString()).start().waitFor()).isZero();
        Path calls = root.resolve("smi-calls");
        ProcessRunner runner = new ProcessRunner(Clock.systemUTC());
        RunManifests blocked = new RunManifests(settings, new InterpreterProbe(runner, List.of("sh", "-c",
                "read x < " + fifo + "; echo '{\"python\": \"3.12.1\"}'"), Map.of(), TestSettings.JSON),
                new GpuIdentities(runner, List.of("sh", "-c", "echo call >> " + calls)), new FileHashes(), "1.0");
        try {
            Map<String, Object> outcome = new LinkedHashMap<>(Map.of("status", 499));
            long started = System.nanoTime();
            blocked.begin(Map.of("scriptName", "train.py"), 0).attach(outcome, false);
            assertThat(java.time.Duration.ofNanos(System.nanoTime() - started)).isLessThan(RunManifest.PROBE_WAIT);
            @SuppressWarnings("unchecked")
            Map<String, Object> manifest = (Map<String, Object>) outcome.get("manifest");
            assertThat(manifest).containsEntry("python", null).containsEntry("driver", null);
            assertThat(manifest.get("gpu")).isEqualTo(java.util.Arrays.stream(new String[] {"model", "uuid"})
                    .collect(LinkedHashMap::new, (m, k) -> m.put(k, null), Map::putAll));
            assertThat(calls).doesNotExist();
        } finally {
            Files.writeString(fifo, "go\n"); // lets the probe's shell end
        }
    }

    @Test
    void theWorkersVersionIsTheBuildsNotDev() {
        // build-info.properties is written by the build (worker-service/pom.xml) before the tests run.
        assertThat(WorkerVersion.current()).matches("\\d+\\.\\d+.*");
    }

    @Test
    void aDataFileOnlyTheScriptsFolderHasIsHashedThereAndAMissingOneHasNoHash() throws Exception {
        assertThat(manifestOf(Map.of("scriptName", "train.py", "dataFileName", "bundled.csv"), null))
                .containsEntry("dataSha256", sha256(scripts.resolve("data").resolve("bundled.csv")))
                .containsEntry("seed", null).containsEntry("seedSource", null);
        Map<String, Object> missing = manifestOf(Map.of("scriptName", "train.py", "dataFileName", "nowhere.csv"), null);
        assertThat(missing).containsEntry("dataFile", "nowhere.csv").containsEntry("dataSha256", null);
        Map<String, Object> unsafe = manifestOf(Map.of("scriptName", "../train.py", "dataFileName", "../shared.csv"),
                null);
        assertThat(unsafe).containsEntry("scriptSha256", null).doesNotContainKeys("dataFile", "dataSha256");
    }

    @Test
    void aSeedTheJobGaveWithoutASourceIsTheJobsOwn() {
        assertThat(manifestOf(Map.of("scriptName", "train.py", "seed", 4_294_967_295L), null))
                .containsEntry("seed", 4_294_967_295L).containsEntry("seedSource", "job");
        assertThat(manifestOf(Map.of("scriptName", "train.py", "seed", 1.5), null)).containsEntry("seed", null);
    }

    @Test
    void aGpuSlotNamesItsGpuModelUuidAndTheDriver() throws Exception {
        Path recorded = Files.writeString(root.resolve("smi.csv"), GpuIdentitiesTest.RECORDED);
        ProcessRunner runner = new ProcessRunner(Clock.systemUTC());
        RunManifests onGpu = new RunManifests(settings, new InterpreterProbe(runner, List.of("sh", "-c",
                "echo '{\"python\": \"3.12.1\", \"torch\": \"2.4.0\", \"cuda\": \"12.4\"}'"), Map.of(), TestSettings.JSON),
                new GpuIdentities(runner, List.of("cat", recorded.toString())), new FileHashes(), "1.0");
        Map<String, Object> outcome = new LinkedHashMap<>();
        onGpu.begin(Map.of("scriptName", "train.py"), 1).attach(outcome);
        @SuppressWarnings("unchecked")
        Map<String, Object> manifest = (Map<String, Object>) outcome.get("manifest");
        assertThat(manifest).containsEntry("cuda", "12.4").containsEntry("driver", "550.54.15")
                .containsEntry("gpu", Map.of("model", "NVIDIA H200", "uuid", "GPU-0a1b2c3d-4e5f-6071-8293-a4b5c6d7e8f9"));
    }

    @Test
    void theScriptsOwnManifestIsKeptApartAndAHandBackGetsNone() {
        Map<String, Object> outcome = new LinkedHashMap<>();
        outcome.put("status", 200);
        outcome.put("manifest", Map.of("scriptSha256", "forged"));
        manifests.begin(Map.of("scriptName", "train.py"), null).attach(outcome);
        assertThat(((Map<?, ?>) outcome.get("manifest")).get("scriptSha256")).isNotEqualTo("forged");
        assertThat(outcome.get("scriptManifest")).isEqualTo(Map.of("scriptSha256", "forged"));

        Map<String, Object> handBack = new LinkedHashMap<>(Map.of("status", 503, "retryable", true));
        manifests.begin(Map.of("scriptName", "train.py"), null).attach(handBack);
        assertThat(handBack).doesNotContainKey("manifest");
    }

    @Test
    void anOutcomeOverTheBossesLimitsKeepsItsManifestAndTheBossAcceptsIt() throws Exception {
        Map<String, Object> outcome = new LinkedHashMap<>();
        outcome.put("status", 200);
        outcome.put("jobId", "j");
        outcome.put("loss", 1.0);
        outcome.put("huge", "x".repeat(2 << 20));
        outcome.put("many", java.util.stream.IntStream.range(0, 6000).boxed().toList());
        manifests.begin(Map.of("scriptName", "train.py", "seed", 3), null).attach(outcome);
        Map<String, Object> sent = new OutcomeContract(TestSettings.JSON).conform(outcome);
        assertThat(sent).doesNotContainKeys("huge", "many");
        assertThat(((Map<?, ?>) sent.get("manifest")).get("scriptSha256")).isEqualTo(sha256(scripts.resolve("train.py")));
        assertThat(BossCallbackRules.violations(sent, TestSettings.JSON)).isEmpty();

        Map<String, Object> notAnObject = new LinkedHashMap<>(Map.of("status", 200, "jobId", "j", "manifest", "text"));
        Map<String, Object> fixed = new OutcomeContract(TestSettings.JSON).conform(notAnObject);
        assertThat(fixed).doesNotContainKey("manifest");
        assertThat(((Map<?, ?>) fixed.get("invalidFields")).get("manifest")).isEqualTo("text");
        assertThat(BossCallbackRules.violations(fixed, TestSettings.JSON)).isEmpty();
    }
}
