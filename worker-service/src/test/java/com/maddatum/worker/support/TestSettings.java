package com.maddatum.worker.support;

import com.maddatum.worker.config.WorkerProperties;
import com.maddatum.worker.config.WorkerSettings;
import com.maddatum.worker.manifest.FileHashes;
import com.maddatum.worker.manifest.GpuIdentities;
import com.maddatum.worker.manifest.InterpreterProbe;
import com.maddatum.worker.manifest.RunManifests;
import com.maddatum.worker.run.ShutdownBudget;
import com.maddatum.worker.runner.ProcessRunner;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.springframework.util.unit.DataSize;
import tools.jackson.databind.json.JsonMapper;

/** Worker settings for tests: fixture scripts, a temporary work and spool directory, short limits. */
public final class TestSettings {

    public static final JsonMapper JSON = JsonMapper.builder().build();
    /** What scripts see of the test JVM's environment: the defaults of worker.script-environment, in short. */
    public static final List<String> ENVIRONMENT = List.of("PATH", "HOME", "LANG", "LC_*", "TMPDIR", "PYTHONPATH");

    private TestSettings() {}

    /** The shutdown budget of these settings, with no web server to wait for. */
    public static ShutdownBudget budget(WorkerSettings settings) {
        return new ShutdownBudget(settings, Duration.ZERO);
    }

    /**
     * Run manifests whose interpreter probe is a shell printing fixed versions (the real one imports torch,
     * seconds of CPU per Worker a test assembles), and whose GPU probe finds none.
     */
    public static RunManifests manifests(WorkerSettings settings) {
        return manifests(settings, new FileHashes());
    }

    /** As above, with these file hashes (a test's, holding a read). */
    public static RunManifests manifests(WorkerSettings settings, FileHashes hashes) {
        ProcessRunner runner = new ProcessRunner(Clock.systemUTC());
        return new RunManifests(settings, new InterpreterProbe(runner, List.of("sh", "-c", "echo '" + VERSIONS + "'"),
                Map.of("PATH", System.getenv("PATH")), JSON), new GpuIdentities(runner, List.of("false")),
                hashes, "test");
    }

    /** How long the test Workers try a Boss that fails an upload: long enough for a few tries, short for a test. */
    public static final Duration ARTIFACT_RETRY_FOR = Duration.ofSeconds(1);

    public static final String VERSIONS = "{\"python\": \"3.0.test\", \"torch\": null, \"sklearn\": null, "
            + "\"numpy\": null, \"cuda\": null}";

    public static Path fixtureScripts() {
        return Path.of("src/test/resources/scripts").toAbsolutePath();
    }

    public static String python() {
        return Files.isExecutable(Path.of("/usr/bin/python3")) ? "/usr/bin/python3" : "python3";
    }

    public static WorkerSettings settings(String bossUrl, Path scripts, Path root, String token) {
        return settings(bossUrl, scripts, root, token, 1, Duration.ofMillis(500), Duration.ofSeconds(5),
                Duration.ofSeconds(2));
    }

    public static WorkerSettings settings(String bossUrl, Path scripts, Path root, String token, int slots,
            Duration heartbeatInterval, Duration shutdownGrace, Duration killGrace) {
        return settings(bossUrl, scripts, root, token, slots, heartbeatInterval, shutdownGrace, killGrace, 4);
    }

    public static WorkerSettings settings(String bossUrl, Path scripts, Path root, String token, int slots,
            Duration heartbeatInterval, Duration shutdownGrace, Duration killGrace, int localQueue) {
        return new WorkerSettings(properties(bossUrl, scripts, root, token, slots, heartbeatInterval, shutdownGrace,
                killGrace, localQueue, python()), new ProcessRunner(Clock.systemUTC()), JSON);
    }

    /**
     * A GPU machine's settings: {@code nvidiaSmi} lists its GPUs (a {@link FakeCommand}), {@code slots} 0
     * gives one slot per GPU, and scripts run with {@code python}.
     */
    public static WorkerSettings gpuSettings(String bossUrl, Path root, int slots, List<String> nvidiaSmi, String python) {
        return gpuSettings(bossUrl, root, slots, nvidiaSmi, python, null);
    }

    /** {@code gpuCheck} null: the defaults. */
    public static WorkerSettings gpuSettings(String bossUrl, Path root, int slots, List<String> nvidiaSmi, String python,
            WorkerProperties.GpuCheck gpuCheck) {
        return gpuSettings(bossUrl, root, slots, nvidiaSmi, python, gpuCheck, Map.of());
    }

    /**
     * {@code environment}: the Worker's own, as it reads {@code CUDA_VISIBLE_DEVICES} there (the build
     * machine's, which may have one, is left out of the others).
     */
    public static WorkerSettings gpuSettings(String bossUrl, Path root, int slots, List<String> nvidiaSmi, String python,
            WorkerProperties.GpuCheck gpuCheck, Map<String, String> environment) {
        return new WorkerSettings(properties(bossUrl, fixtureScripts(), root, null, slots, Duration.ofMillis(500),
                Duration.ofSeconds(5), Duration.ofSeconds(2), 4, python, gpuCheck), new ProcessRunner(Clock.systemUTC()),
                JSON, nvidiaSmi, environment);
    }

    private static WorkerProperties properties(String bossUrl, Path scripts, Path root, String token, int slots,
            Duration heartbeatInterval, Duration shutdownGrace, Duration killGrace, int localQueue, String python) {
        return properties(bossUrl, scripts, root, token, slots, heartbeatInterval, shutdownGrace, killGrace, localQueue,
                python, null);
    }

    private static WorkerProperties properties(String bossUrl, Path scripts, Path root, String token, int slots,
            Duration heartbeatInterval, Duration shutdownGrace, Duration killGrace, int localQueue, String python,
            WorkerProperties.GpuCheck gpuCheck) {
        return new WorkerProperties(bossUrl, "test-node", scripts.toString(),
                root.resolve("data").toString(), root.resolve("work").toString(), python, slots, List.of("test"),
                Duration.ofMillis(200), Duration.ofSeconds(2), Duration.ofSeconds(30), heartbeatInterval,
                shutdownGrace, killGrace, token, null, root.resolve("spool").toString(), 1 << 20,
                64 * 1024, Duration.ofSeconds(3), 50, ENVIRONMENT, localQueue, 64 * 1024, false, gpuCheck,
                new WorkerProperties.Cache(root.resolve("cache").toString(), DataSize.ofMegabytes(64), Duration.ofSeconds(5)),
                new WorkerProperties.Artifacts(DataSize.ofMegabytes(64), 500, ARTIFACT_RETRY_FOR, Duration.ofSeconds(5)),
                null);
    }
}
