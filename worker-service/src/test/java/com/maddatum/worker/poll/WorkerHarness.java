package com.maddatum.worker.poll;

import com.maddatum.testsupport.MutableClock;
import com.maddatum.worker.artifact.ArtifactUploader;
import com.maddatum.worker.cache.BlobCache;
import com.maddatum.worker.client.BossBlobs;
import com.maddatum.worker.client.BossClient;
import com.maddatum.worker.config.WorkerSettings;
import com.maddatum.worker.gpu.GpuRoster;
import com.maddatum.worker.outcome.OutcomeBuilder;
import com.maddatum.worker.outcome.OutcomeContract;
import com.maddatum.worker.run.RunInputs;
import com.maddatum.worker.run.Runs;
import com.maddatum.worker.run.ShutdownBudget;
import com.maddatum.worker.runner.ProcessRunner;
import com.maddatum.worker.runner.ScriptLauncher;
import com.maddatum.worker.runner.WorkDirJanitor;
import com.maddatum.worker.spool.OutcomeSpool;
import com.maddatum.worker.support.TestSettings;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.function.Function;
import java.util.function.UnaryOperator;
import mockwebserver3.MockWebServer;

/**
 * A Worker assembled by hand from its real parts (as Spring would), against a {@link ScriptedBoss},
 * with the fixture scripts. {@link #start} runs the scheduler's tick every 50 ms.
 */
final class WorkerHarness implements AutoCloseable {

    final ScriptedBoss boss = new ScriptedBoss();
    final MockWebServer server = new MockWebServer();
    final SimpleMeterRegistry meters = new SimpleMeterRegistry();
    final WorkerSettings settings;
    final JobPoller poller;
    final OutcomeSpool spool;
    final GpuRoster gpus;
    final BlobCache cache;
    final Runs runs;
    private final Thread ticker;
    private volatile boolean ticking = true;
    private boolean shutDown;

    WorkerHarness(Path root, int slots, Duration heartbeat, Duration shutdownGrace, Duration killGrace,
            ProcessRunner runner) throws Exception {
        this(root, slots, heartbeat, shutdownGrace, killGrace, runner, WorkDirJanitor::new);
    }

    WorkerHarness(Path root, int slots, Duration heartbeat, Duration shutdownGrace, Duration killGrace,
            ProcessRunner runner, Function<WorkerSettings, WorkDirJanitor> janitor) throws Exception {
        this(bossUrl -> TestSettings.settings(bossUrl, TestSettings.fixtureScripts(), root, null, slots, heartbeat,
                shutdownGrace, killGrace), runner, janitor, WorkerHarness::gpus, UnaryOperator.identity());
    }

    /** A Worker whose artifact uploader the test replaces ({@code artifacts} is given the real one). */
    WorkerHarness(Path root, int slots, Duration heartbeat, UnaryOperator<ArtifactUploader> artifacts) throws Exception {
        this(bossUrl -> TestSettings.settings(bossUrl, TestSettings.fixtureScripts(), root, null, slots, heartbeat,
                Duration.ofSeconds(1), Duration.ofSeconds(1)), new ProcessRunner(Clock.systemUTC()), WorkDirJanitor::new,
                WorkerHarness::gpus, artifacts);
    }

    /** A Worker whose settings (a GPU machine's, say) and GPU roster the test makes. */
    WorkerHarness(Function<String, WorkerSettings> settingsFor, Function<WorkerSettings, GpuRoster> roster)
            throws Exception {
        this(settingsFor, new ProcessRunner(Clock.systemUTC()), WorkDirJanitor::new, roster, UnaryOperator.identity());
    }

    private WorkerHarness(Function<String, WorkerSettings> settingsFor, ProcessRunner runner,
            Function<WorkerSettings, WorkDirJanitor> janitor, Function<WorkerSettings, GpuRoster> roster,
            UnaryOperator<ArtifactUploader> artifacts) throws Exception {
        server.setDispatcher(boss);
        server.start(0);
        settings = settingsFor.apply(server.url("/").toString());
        BossClient client = new BossClient(settings, TestSettings.JSON);
        Clock clock = Clock.systemUTC();
        ShutdownBudget budget = TestSettings.budget(settings);
        spool = new OutcomeSpool(settings, client, new OutcomeContract(TestSettings.JSON), TestSettings.JSON,
                MutableClock.stopped(), meters, budget);
        BossBlobs blobs = new BossBlobs(settings, TestSettings.JSON);
        cache = new BlobCache(settings, blobs, meters);
        runs = new Runs(new ScriptLauncher(settings, runner, TestSettings.JSON), new OutcomeBuilder(TestSettings.JSON),
                TestSettings.manifests(settings), janitor.apply(settings), new RunInputs(cache, settings, meters), settings,
                budget);
        gpus = roster.apply(settings);
        poller = new JobPoller(settings, client, new Registrar(client, settings, gpus, clock), gpus, runs, spool, clock,
                meters, budget, artifacts.apply(new ArtifactUploader(blobs, settings.artifacts().maxBytes().toBytes(),
                        settings.artifacts().maxFiles(), settings.artifacts().retryFor(), Duration.ofMillis(50), meters)));
        ticker = new Thread(() -> {
            while (ticking) {
                poller.tick();
                try {
                    Thread.sleep(50);
                } catch (InterruptedException e) {
                    return;
                }
            }
        }, "test-ticker");
        ticker.setDaemon(true);
    }

    WorkerHarness(Path root, int slots, Duration heartbeat) throws Exception {
        this(root, slots, heartbeat, Duration.ofSeconds(1), Duration.ofSeconds(1), new ProcessRunner(Clock.systemUTC()));
    }

    /** The GPUs of a machine without any (the build machines have none), checked by nothing. */
    static GpuRoster gpus(WorkerSettings settings) {
        return new GpuRoster(settings, null, System::nanoTime);
    }

    WorkerHarness start() {
        ticker.start();
        return this;
    }

    /** What SIGTERM's shutdown hook does: the slots are closed, then the spool's last delivery. */
    void shutdown() throws InterruptedException {
        ticking = false;
        shutDown = true;
        poller.shutdown();
        spool.flushBeforeExit();
    }

    double gauge(String name) {
        return meters.get(name).gauge().value();
    }

    @Override
    public void close() throws Exception {
        ticking = false;
        if (!shutDown) {
            shutdown();
        }
        server.close();
        cache.close();
    }
}
