package com.maddatum.worker.local;

import static org.assertj.core.api.Assertions.assertThat;

import com.maddatum.testsupport.MutableClock;
import com.maddatum.worker.client.BossClient;
import com.maddatum.worker.config.WorkerSettings;
import com.maddatum.worker.outcome.OutcomeBuilder;
import com.maddatum.worker.outcome.OutcomeContract;
import com.maddatum.worker.run.Runs;
import com.maddatum.worker.run.ShutdownBudget;
import com.maddatum.worker.runner.ProcessRunner;
import com.maddatum.worker.runner.ScriptLauncher;
import com.maddatum.worker.runner.WorkDirJanitor;
import com.maddatum.worker.spool.OutcomeSpool;
import com.maddatum.worker.support.TestSettings;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import mockwebserver3.MockResponse;
import mockwebserver3.MockWebServer;
import mockwebserver3.RecordedRequest;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.mock.web.MockHttpServletRequest;
import tools.jackson.databind.JsonNode;

/** Local runs on their own slot, with the queue bound and the shutdown handling of Boss orders. */
class LocalRunsTest {

    @TempDir
    Path root;

    private final MockWebServer callbacks = new MockWebServer();
    private WorkerSettings settings;
    private Runs runs;
    private ShutdownBudget budget;
    private LocalRuns local;

    @BeforeEach
    void start() throws Exception {
        callbacks.start(0);
        // A queue of 4 (the test settings), half a second of shutdown grace, half a second of kill grace.
        settings = TestSettings.settings("http://127.0.0.1:9", TestSettings.fixtureScripts(), root, null, 1,
                Duration.ofSeconds(1), Duration.ofMillis(500), Duration.ofMillis(500));
        BossClient client = new BossClient(settings, TestSettings.JSON);
        budget = TestSettings.budget(settings);
        OutcomeSpool spool = new OutcomeSpool(settings, client, new OutcomeContract(TestSettings.JSON), TestSettings.JSON,
                MutableClock.stopped(), new SimpleMeterRegistry(), budget);
        runs = new Runs(new ScriptLauncher(settings, new ProcessRunner(Clock.systemUTC()), TestSettings.JSON),
                new OutcomeBuilder(TestSettings.JSON), TestSettings.manifests(settings), new WorkDirJanitor(settings),
                settings, budget);
        local = new LocalRuns(runs, spool, settings, Clock.systemUTC(), budget);
    }

    @AfterEach
    void stop() throws Exception {
        local.shutdown();
        callbacks.close();
    }

    private Map<String, Object> nap(int seconds) {
        Map<String, Object> job = new LinkedHashMap<>();
        job.put("_id", "local-job");
        job.put("scriptName", "napper.py");
        job.put("seconds", seconds);
        return job;
    }

    private void awaitRunning() throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        while (runs.size() == 0 && System.nanoTime() < deadline) {
            Thread.sleep(10);
        }
        assertThat(runs.size()).isEqualTo(1);
    }

    private URI callback() {
        return callbacks.url("/callback").uri();
    }

    @Test
    void whenTheQueueIsFullTheControllerAnswersTooManyRequests() throws Exception {
        LocalRunController controller = new LocalRunController(local, settings, TestSettings.JSON);
        local.submit(nap(30), null);
        awaitRunning();
        List<Integer> statuses = new ArrayList<>();
        for (int i = 0; i < 6; i++) {
            MockHttpServletRequest request = new MockHttpServletRequest("POST", "/scripts/run");
            request.setRemoteAddr("127.0.0.1");
            request.addHeader("Host", "localhost:8081");
            request.setContentType("application/json");
            request.setContent("{\"scriptName\":\"napper.py\",\"seconds\":30}".getBytes(StandardCharsets.UTF_8));
            statuses.add(controller.run(request).getStatusCode().value());
        }
        // One on the slot, four waiting: the fifth and sixth cannot be taken.
        assertThat(statuses).containsExactly(202, 202, 202, 202, 429, 429);
    }

    @Test
    void onShutdownTheRunningLocalRunIsKilledAndTheQueuedOnesAnsweredNeitherIsLost() throws Exception {
        for (int i = 0; i < 3; i++) {
            callbacks.enqueue(new MockResponse.Builder().code(200).body("{}").build());
        }
        String running = local.submit(nap(60), callback()).runId();
        local.submit(nap(60), callback());
        local.submit(nap(60), callback());
        awaitRunning();
        long start = System.nanoTime();
        local.shutdown();
        assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(5));
        List<JsonNode> outcomes = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            RecordedRequest request = callbacks.takeRequest(1, TimeUnit.SECONDS);
            assertThat(request).as("callback %s", i).isNotNull();
            outcomes.add(TestSettings.JSON.readTree(request.getBody().utf8()));
        }
        assertThat(outcomes).allSatisfy(o -> {
            assertThat(o.get("status").asInt()).isEqualTo(503);
            assertThat(o.get("error").get("type").asString()).isEqualTo("WorkerShutdown");
            assertThat(o.get("retryable").asBoolean()).isTrue();
        });
        assertThat(local.result(running).orElseThrow()).containsEntry("status", "finished");
        assertThat(local.submit(nap(1), null).refusal()).isEqualTo(LocalRuns.Refusal.SHUTTING_DOWN);
    }

    /**
     * The race the slot's thread has with a request: the request is checked while the runs are open, and
     * offered only after the thread has seen them closed, found its queue empty and ended. It must be
     * refused, or answered, never left "queued" with its callback never called.
     */
    @Test
    void aRunQueuedJustAsTheSlotStopsIsRefusedOrAnsweredNeverLeftQueued() throws Exception {
        class RacingQueue extends java.util.concurrent.ArrayBlockingQueue<LocalRuns.Request> {
            volatile Thread taker;

            RacingQueue() {
                super(4);
            }

            @Override
            public LocalRuns.Request poll(long timeout, TimeUnit unit) throws InterruptedException {
                taker = Thread.currentThread();
                return super.poll(timeout, unit);
            }

            @Override
            public boolean offer(LocalRuns.Request request) {
                try {
                    runs.drain(); // the shutdown begins between the check and the offer ...
                    long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
                    while ((taker == null || taker.isAlive()) && System.nanoTime() < deadline) {
                        Thread.sleep(10); // ... and the slot's thread ends before the offer
                    }
                    assertThat(taker.isAlive()).as("the slot's thread ended").isFalse();
                } catch (InterruptedException e) {
                    throw new IllegalStateException(e);
                }
                return super.offer(request);
            }
        }
        RacingQueue queue = new RacingQueue();
        LocalRuns racing = new LocalRuns(runs, new OutcomeSpool(settings, new BossClient(settings, TestSettings.JSON),
                new OutcomeContract(TestSettings.JSON), TestSettings.JSON, MutableClock.stopped(), new SimpleMeterRegistry(),
                budget), settings, Clock.systemUTC(), budget, queue);
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (queue.taker == null && System.nanoTime() < deadline) {
            Thread.sleep(10);
        }

        LocalRuns.Queued queued = racing.submit(nap(1), null);
        if (queued.refusal() != null) {
            assertThat(queued.refusal()).isEqualTo(LocalRuns.Refusal.SHUTTING_DOWN);
        } else {
            deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
            while (!"finished".equals(racing.result(queued.runId()).map(r -> r.get("status")).orElse(null))
                    && System.nanoTime() < deadline) {
                Thread.sleep(10);
            }
            assertThat(racing.result(queued.runId()).orElseThrow()).containsEntry("status", "finished");
        }
        assertThat(queue).isEmpty();
    }

    /** More runs may wait than finished results are kept: a waiting run's status is never the one dropped. */
    @Test
    void aQueuedRunsStatusIsKeptHoweverManyRunsAreQueuedAfterIt() throws Exception {
        WorkerSettings roomy = TestSettings.settings("http://127.0.0.1:9", TestSettings.fixtureScripts(),
                root.resolve("roomy"), null, 1, Duration.ofSeconds(1), Duration.ofMillis(500), Duration.ofMillis(500),
                LocalRuns.KEEP_RESULTS + 50);
        ShutdownBudget roomyBudget = TestSettings.budget(roomy);
        Runs roomyRuns = new Runs(new ScriptLauncher(roomy, new ProcessRunner(Clock.systemUTC()), TestSettings.JSON),
                new OutcomeBuilder(TestSettings.JSON), TestSettings.manifests(roomy), new WorkDirJanitor(roomy), roomy,
                roomyBudget);
        LocalRuns many = new LocalRuns(roomyRuns, new OutcomeSpool(roomy, new BossClient(roomy, TestSettings.JSON),
                new OutcomeContract(TestSettings.JSON), TestSettings.JSON, MutableClock.stopped(), new SimpleMeterRegistry(),
                roomyBudget), roomy, Clock.systemUTC(), roomyBudget);
        try {
            String running = many.submit(nap(30), null).runId();
            List<String> waiting = new ArrayList<>();
            for (int i = 0; i < LocalRuns.KEEP_RESULTS + 20; i++) {
                waiting.add(many.submit(nap(30), null).runId());
            }
            assertThat(many.result(running)).isPresent();
            assertThat(waiting).allSatisfy(id -> assertThat(many.result(id)).as(id).isPresent());
            assertThat(many.result(waiting.get(0)).orElseThrow()).containsEntry("status", "queued");
        } finally {
            many.shutdown();
        }
    }
}
