package com.maddatum.worker.run;

import static org.assertj.core.api.Assertions.assertThat;

import com.maddatum.worker.config.WorkerSettings;
import com.maddatum.worker.manifest.FileHashes;
import com.maddatum.worker.outcome.OutcomeBuilder;
import com.maddatum.worker.runner.ProcessRunner;
import com.maddatum.worker.runner.ScriptLauncher;
import com.maddatum.worker.runner.StopReason;
import com.maddatum.worker.runner.WorkDirJanitor;
import com.maddatum.worker.support.TestSettings;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.api.io.TempDir;

/** One run on a slot, with stops arriving while its process is being killed. */
class ScriptRunTest {

    @TempDir
    Path root;

    /** The manifest is the Worker's record: a script printing one of its own cannot replace it. */
    @org.junit.jupiter.api.Test
    void aScriptsOwnManifestDoesNotReplaceTheWorkersRecordOfTheRun() throws Exception {
        WorkerSettings settings = TestSettings.settings("http://127.0.0.1:9", TestSettings.fixtureScripts(), root, null);
        Runs runs = new Runs(new ScriptLauncher(settings, new ProcessRunner(Clock.systemUTC()), TestSettings.JSON),
                new OutcomeBuilder(TestSettings.JSON), TestSettings.manifests(settings), new WorkDirJanitor(settings),
                settings, TestSettings.budget(settings));
        ScriptRun run = runs.open("own-manifest").orElseThrow();
        ScriptRun.Ending ended = run.execute(Map.of("_id", "job-1", "scriptName", "own_manifest.py", "seed", 8), null,
                Map.of(), null, e -> { });
        Map<?, ?> manifest = (Map<?, ?>) ended.outcome().get("manifest");
        byte[] script = Files.readAllBytes(TestSettings.fixtureScripts().resolve("own_manifest.py"));
        assertThat(manifest.get("scriptSha256")).isEqualTo(java.util.HexFormat.of().formatHex(
                java.security.MessageDigest.getInstance("SHA-256").digest(script)));
        assertThat(manifest.get("seed")).isEqualTo(8);
        assertThat(manifest.get("gpu")).isEqualTo("cpu");
        assertThat(((Map<?, ?>) ended.outcome().get("scriptManifest")).get("scriptSha256")).isEqualTo("forged");
    }

    /**
     * A stop that arrives while the run's data file is hashed (a large file takes a while) is honoured
     * before the launch: the script never starts. A cancellation ends the job (499), a shutdown hands it back.
     */
    @ParameterizedTest
    @EnumSource(value = StopReason.class, names = {"SHUTDOWN", "CANCELLED"})
    void aRunStoppedWhileItsDataIsHashedIsNeverLaunched(StopReason stop) throws Exception {
        WorkerSettings settings = TestSettings.settings("http://127.0.0.1:9", TestSettings.fixtureScripts(), root, null);
        Files.createDirectories(settings.dataDir());
        Files.writeString(settings.dataDir().resolve("big.csv"), "a,b\n1,2\n");
        CountDownLatch hashing = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        FileHashes slow = new FileHashes() {
            @Override
            protected String digest(Path file) throws IOException {
                if (file.getFileName().toString().equals("big.csv")) {
                    hashing.countDown();
                    try {
                        release.await();
                    } catch (InterruptedException e) {
                        throw new IOException(e);
                    }
                }
                return super.digest(file);
            }
        };
        Runs runs = new Runs(new ScriptLauncher(settings, new ProcessRunner(Clock.systemUTC()), TestSettings.JSON),
                new OutcomeBuilder(TestSettings.JSON), TestSettings.manifests(settings, slow), new WorkDirJanitor(settings),
                settings, TestSettings.budget(settings));
        ScriptRun run = runs.open("stopped-while-hashing").orElseThrow();
        Map<String, Object> job = Map.of("_id", "job-1", "scriptName", "ok.py", "dataFileName", "big.csv");
        CompletableFuture<ScriptRun.Ending> ending = CompletableFuture.supplyAsync(() -> {
            try {
                return run.execute(job, null, Map.of(), null, e -> { });
            } catch (InterruptedException e) {
                throw new IllegalStateException(e);
            }
        });
        try {
            assertThat(hashing.await(20, TimeUnit.SECONDS)).isTrue();
            run.stop(stop);
        } finally {
            release.countDown();
        }
        ScriptRun.Ending ended = ending.get(20, TimeUnit.SECONDS);
        assertThat(ended.result()).as("no process was started").isNull();
        assertThat(ended.stop()).isEqualTo(stop);
        if (stop == StopReason.CANCELLED) {
            assertThat(ended.outcome()).containsEntry("status", 499).doesNotContainKey("retryable");
        } else {
            assertThat(ended.outcome()).containsEntry("status", 503).containsEntry("retryable", true);
        }
        assertThat(((Map<?, ?>) ended.outcome().get("error")).get("message").toString()).contains("before its script started");
        assertThat(runs.size()).isZero();
    }

    /**
     * The script outlives its time limit and ignores the SIGTERM of the timeout's kill; while the kill
     * waits out its grace, a shutdown or a cancellation arrives. The run timed out all the same: a 504,
     * not a retryable 503 that would run it again, nor a 499.
     */
    @ParameterizedTest
    @EnumSource(value = StopReason.class, names = {"SHUTDOWN", "CANCELLED"})
    void aStopArrivingDuringATimeoutKillDoesNotChangeWhyTheRunEnded(StopReason late) throws Exception {
        WorkerSettings settings = TestSettings.settings("http://127.0.0.1:9", TestSettings.fixtureScripts(), root, null,
                1, Duration.ofSeconds(1), Duration.ofSeconds(1), Duration.ofSeconds(1));
        Runs runs = new Runs(new ScriptLauncher(settings, new ProcessRunner(Clock.systemUTC()), TestSettings.JSON),
                new OutcomeBuilder(TestSettings.JSON), TestSettings.manifests(settings), new WorkDirJanitor(settings),
                settings, TestSettings.budget(settings));
        ScriptRun run = runs.open("late-stop").orElseThrow();
        Map<String, Object> job = Map.of("_id", "job-1", "scriptName", "term_noted.py", "timeoutSeconds", 0.3);
        CompletableFuture<ScriptRun.Ending> ending = CompletableFuture.supplyAsync(() -> {
            try {
                return run.execute(job, null, Map.of(), null, e -> { });
            } catch (InterruptedException e) {
                throw new IllegalStateException(e);
            }
        });
        Path term = settings.workDir().resolve("late-stop").resolve("term.received");
        long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        while (!Files.exists(term) && System.nanoTime() < deadline) {
            Thread.sleep(10);
        }
        assertThat(term).as("the timeout's SIGTERM reached the script").exists();
        run.stop(late);

        ScriptRun.Ending ended = ending.get(20, TimeUnit.SECONDS);
        assertThat(ended.stop()).isEqualTo(StopReason.TIMEOUT);
        assertThat(ended.outcome()).containsEntry("status", 504).doesNotContainKey("retryable");
    }
}
