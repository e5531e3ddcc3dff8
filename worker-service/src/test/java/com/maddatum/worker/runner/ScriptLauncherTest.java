package com.maddatum.worker.runner;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.maddatum.worker.config.WorkerSettings;
import com.maddatum.worker.outcome.OutcomeBuilder;
import com.maddatum.worker.support.TestSettings;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ScriptLauncherTest {

    @TempDir
    Path root;

    private Path scripts;
    private ScriptLauncher launcher;

    @BeforeEach
    void setUp() throws Exception {
        scripts = Files.createDirectories(root.resolve("scripts"));
        Files.copy(TestSettings.fixtureScripts().resolve("reader.py"), scripts.resolve("reader.py"));
        Path outside = Files.writeString(root.resolve("evil.py"), "print('escaped')");
        Files.createSymbolicLink(scripts.resolve("link.py"), outside);
        WorkerSettings settings = TestSettings.settings("http://127.0.0.1:9", scripts, root, null);
        launcher = new ScriptLauncher(settings, new ProcessRunner(Clock.systemUTC()), TestSettings.JSON);
    }

    @Test
    void theJobArrivesInArgvOnStdinAndInJobFileWithTheEnvironment() throws Exception {
        Map<String, Object> job = job("reader.py");
        Map<String, Object> outcome = run(job, 3);
        assertThat(outcome).containsEntry("status", 200).containsEntry("argv", true)
                .containsEntry("sameOnStdin", true).containsEntry("sameInArgv", true)
                .containsEntry("orderId", "order-1").containsEntry("cuda", "3")
                .containsEntry("dataDir", root.resolve("data").toString());
        assertThat((String) outcome.get("outputDir")).isEqualTo(outcome.get("cwd")).endsWith("order-1-a1");
    }

    @Test
    void aJobTooLargeForArgvStillArrivesOnStdinAndInTheFile() throws Exception {
        Map<String, Object> job = job("reader.py");
        job.put("padding", "p".repeat(200 * 1024));
        Map<String, Object> outcome = run(job, null);
        assertThat(outcome).containsEntry("status", 200).containsEntry("argv", false)
                .containsEntry("sameOnStdin", true);
    }

    @Test
    void scriptsOutsideTheScriptsDirectoryAreRefused() {
        for (String name : new String[] {"../evil.py", "/tmp/evil.py", "sub/x.py", "link.py", "run.sh", ".x.py"}) {
            assertThatThrownBy(() -> launcher.resolveScript(name)).as(name)
                    .isInstanceOf(ScriptLauncher.Refused.class)
                    .satisfies(e -> assertThat(((ScriptLauncher.Refused) e).type()).isEqualTo("UnsafeScript"));
        }
        assertThatThrownBy(() -> launcher.resolveScript("missing.py"))
                .satisfies(e -> assertThat(((ScriptLauncher.Refused) e).type()).isEqualTo("ScriptNotFound"));
    }

    @Test
    void scriptsSeeOnlyTheVariablesTheyNeedNeverTheWorkersToken() throws Exception {
        Map<String, String> worker = Map.of("PATH", "/usr/bin", "LC_ALL", "C.UTF-8", "WORKER_TOKEN", "s3cret",
                "SPRING_MONGODB_URI", "mongodb://x", "AWS_SECRET_ACCESS_KEY", "k", "HOME", "/home/w");
        assertThat(ScriptLauncher.passed(worker, TestSettings.ENVIRONMENT))
                .containsOnlyKeys("PATH", "LC_ALL", "HOME");

        Files.copy(TestSettings.fixtureScripts().resolve("environment.py"), scripts.resolve("environment.py"));
        Map<String, Object> outcome = run(job("environment.py"), null);
        java.util.Set<String> allowed = new java.util.HashSet<>(java.util.Set.of("JOB_FILE", "DATA_DIR", "OUTPUT_DIR",
                "PYTHONUNBUFFERED", "BOSS_ORDER_ID", ProcessRunner.RUN_MARKER));
        allowed.addAll(ScriptLauncher.passed(System.getenv(), TestSettings.ENVIRONMENT).keySet());
        @SuppressWarnings("unchecked")
        java.util.List<String> seen = (java.util.List<String>) outcome.get("env");
        // Python may add LC_CTYPE when it coerces the C locale; nothing else may appear.
        assertThat(seen).filteredOn(name -> !name.equals("LC_CTYPE")).allMatch(allowed::contains, "allowed");
        assertThat(seen).contains("OUTPUT_DIR", ProcessRunner.RUN_MARKER).doesNotContain("WORKER_TOKEN");
    }

    @Test
    void theRunsDataAndInputsAreWhereItsFilesSayAndOnlyThen() throws Exception {
        Files.writeString(scripts.resolve("data_env.py"), "import json, os\n"
                + "print(json.dumps({'status': 200, 'jobId': 'job-1', 'dataDir': os.environ.get('DATA_DIR'),"
                + " 'dataFile': os.environ.get('DATA_FILE'), 'inputDir': os.environ.get('INPUT_DIR')}))\n");
        Path runData = root.resolve("cache/runs/order-1-a1/data");
        RunFiles files = new RunFiles(runData, runData.resolve("wine.csv"), root.resolve("cache/runs/order-1-a1/inputs"));

        ProcessResult staged = launcher.launch(job("data_env.py"), "order-1-a1", null, Map.of(), files, null).await();
        assertThat(new OutcomeBuilder(TestSettings.JSON).fromResult(staged, "job-1"))
                .containsEntry("dataDir", runData.toString())
                .containsEntry("dataFile", runData.resolve("wine.csv").toString())
                .containsEntry("inputDir", root.resolve("cache/runs/order-1-a1/inputs").toString());

        // Without: DATA_DIR is worker.data-dir as ever, and a DATA_FILE or INPUT_DIR the caller passed is not let through.
        Map<String, Object> plain = run(job("data_env.py"), null);
        assertThat(plain).containsEntry("dataDir", root.resolve("data").toString())
                .doesNotContainKeys("dataFile", "inputDir"); // (null in the script's line: left out)
        ProcessResult sneaky = launcher.launch(job("data_env.py"), "order-2-a1", null,
                Map.of("DATA_FILE", "/etc/passwd", "INPUT_DIR", "/"), null).await();
        assertThat(new OutcomeBuilder(TestSettings.JSON).fromResult(sneaky, "job-1"))
                .doesNotContainKeys("dataFile", "inputDir");
    }

    /** What the poller says before each long poll reaches the interpreters waiting (runs.slotIdle()). */
    @Test
    void anIdleSlotTellsTheWaitingInterpretersToPreload() throws Exception {
        WorkerSettings settings = TestSettings.settings("http://127.0.0.1:9", scripts, root, null);
        ProcessRunner runner = new ProcessRunner(Clock.systemUTC());
        WarmInterpreters warm = new WarmInterpreters(runner, true, root, 2, WarmInterpreters.MAX_WAIT,
                List.of("json"), java.time.Duration.ofHours(1));
        launcher = new ScriptLauncher(settings, runner, TestSettings.JSON, warm);
        try {
            assertThat(launcher.launch(job("reader.py"), "order-0-a1", null, Map.of()).await().exitCode()).isZero();
            ProcessRunnerTest.awaitCondition(() -> warm.waiting() == 1, java.time.Duration.ofSeconds(20));
            assertThat(warm.preloading()).isZero();
            launcher.slotIdle(null);
            ProcessRunnerTest.awaitCondition(() -> warm.preloading() == 1, java.time.Duration.ofSeconds(20));
        } finally {
            warm.close();
        }
    }

    /** The same jobs on warm interpreters: each after the first starts on the one the last left waiting. */
    @Test
    @SuppressWarnings("unchecked")
    void onAWarmInterpreterTheJobArrivesTheSameWay() throws Exception {
        WorkerSettings settings = TestSettings.settings("http://127.0.0.1:9", scripts, root, null);
        ProcessRunner runner = new ProcessRunner(Clock.systemUTC());
        WarmInterpreters warm = new WarmInterpreters(runner, true, root, 2);
        launcher = new ScriptLauncher(settings, runner, TestSettings.JSON, warm);
        try {
            Files.copy(TestSettings.fixtureScripts().resolve("environment.py"), scripts.resolve("environment.py"));
            assertThat(launcher.launch(job("reader.py"), "order-0-a1", 3, Map.of("BOSS_ORDER_ID", "order-0"))
                    .await().exitCode()).isZero();
            ProcessRunner.Running reading = awaitWarmLaunch(warm, job("reader.py"), 3);
            Map<String, Object> outcome = new OutcomeBuilder(TestSettings.JSON).fromResult(reading.await(), "job-1");
            assertThat(outcome).containsEntry("status", 200).containsEntry("argv", true)
                    .containsEntry("sameOnStdin", true).containsEntry("sameInArgv", true)
                    .containsEntry("orderId", "order-1").containsEntry("cuda", "3")
                    .containsEntry("dataDir", root.resolve("data").toString());
            assertThat((String) outcome.get("outputDir")).isEqualTo(outcome.get("cwd")).endsWith("order-1-a1");

            Map<String, Object> large = job("reader.py");
            large.put("padding", "p".repeat(200 * 1024));
            assertThat(new OutcomeBuilder(TestSettings.JSON).fromResult(awaitWarmLaunch(warm, large, 3).await(), "job-1"))
                    .containsEntry("status", 200).containsEntry("argv", false).containsEntry("sameOnStdin", true);

            ProcessRunner.Running environment = awaitWarmLaunch(warm, job("environment.py"), 3);
            Map<String, Object> seen = new OutcomeBuilder(TestSettings.JSON).fromResult(environment.await(), "job-1");
            java.util.Set<String> allowed = new java.util.HashSet<>(java.util.Set.of("JOB_FILE", "DATA_DIR", "OUTPUT_DIR",
                    "PYTHONUNBUFFERED", "BOSS_ORDER_ID", "CUDA_DEVICE_ORDER", "CUDA_VISIBLE_DEVICES",
                    ProcessRunner.RUN_MARKER, "LC_CTYPE"));
            allowed.addAll(ScriptLauncher.passed(System.getenv(), TestSettings.ENVIRONMENT).keySet());
            assertThat((java.util.List<Object>) seen.get("env")).allMatch(allowed::contains, "allowed")
                    .contains("OUTPUT_DIR", ProcessRunner.RUN_MARKER).doesNotContain("WORKER_TOKEN");
            assertThat(seen).containsEntry("pid", (int) environment.pid()).containsEntry("session", (int) environment.pid());

            Map<String, Object> optOut = job("reader.py");
            optOut.put("warm", false);
            ProcessRunner.Running cold = launcher.launch(optOut, "order-1-a1", 3, Map.of("BOSS_ORDER_ID", "order-1"));
            assertThat(cold.warm()).isFalse();
            assertThat(cold.await().exitCode()).isZero();
        } finally {
            warm.close();
        }
    }

    private ProcessRunner.Running awaitWarmLaunch(WarmInterpreters warm, Map<String, Object> job, Integer gpu)
            throws Exception {
        ProcessRunnerTest.awaitCondition(() -> warm.waiting() == 1, java.time.Duration.ofSeconds(20));
        ProcessRunner.Running running = launcher.launch(job, "order-1-a1", gpu, Map.of("BOSS_ORDER_ID", "order-1"));
        assertThat(running.warm()).isTrue();
        return running;
    }

    @Test
    void aJobMayCarryItsOwnTimeout() {
        assertThat(launcher.timeout(Map.of("timeoutSeconds", 1.5)).toMillis()).isEqualTo(1500);
        assertThat(launcher.timeout(Map.of()).toSeconds()).isEqualTo(30);
    }

    private Map<String, Object> run(Map<String, Object> job, Integer gpu) throws Exception {
        ProcessResult result = launcher.launch(job, "order-1-a1", gpu, Map.of("BOSS_ORDER_ID", "order-1")).await();
        return new OutcomeBuilder(TestSettings.JSON).fromResult(result, job.get("_id"));
    }

    private static Map<String, Object> job(String script) {
        Map<String, Object> job = new LinkedHashMap<>();
        job.put("_id", "job-1");
        job.put("scriptName", script);
        job.put("widthModifier", 2.3);
        return job;
    }
}
