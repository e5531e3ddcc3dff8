package com.maddatum.worker.runner;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.maddatum.worker.config.WorkerSettings;
import com.maddatum.worker.support.TestSettings;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.LinkedHashMap;
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
    void aJobMayCarryItsOwnTimeout() {
        assertThat(launcher.timeout(Map.of("timeoutSeconds", 1.5)).toMillis()).isEqualTo(1500);
        assertThat(launcher.timeout(Map.of()).toSeconds()).isEqualTo(30);
    }

    private Map<String, Object> run(Map<String, Object> job, Integer gpu) throws Exception {
        ProcessResult result = launcher.launch(job, "order-1-a1", gpu, Map.of("BOSS_ORDER_ID", "order-1")).await();
        return OutcomeBuilder.fromResult(result, null, job.get("_id"), TestSettings.JSON);
    }

    private static Map<String, Object> job(String script) {
        Map<String, Object> job = new LinkedHashMap<>();
        job.put("_id", "job-1");
        job.put("scriptName", script);
        job.put("widthModifier", 2.3);
        return job;
    }
}
