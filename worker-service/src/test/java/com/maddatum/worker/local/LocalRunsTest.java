package com.maddatum.worker.local;

import static org.assertj.core.api.Assertions.assertThat;

import com.maddatum.testsupport.MutableClock;
import com.maddatum.worker.client.BossClient;
import com.maddatum.worker.config.WorkerSettings;
import com.maddatum.worker.outcome.OutcomeBuilder;
import com.maddatum.worker.outcome.OutcomeContract;
import com.maddatum.worker.run.Runs;
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
    private LocalRuns local;

    @BeforeEach
    void start() throws Exception {
        callbacks.start(0);
        // A queue of 4 (the test settings), half a second of shutdown grace, half a second of kill grace.
        settings = TestSettings.settings("http://127.0.0.1:9", TestSettings.fixtureScripts(), root, null, 1,
                Duration.ofSeconds(1), Duration.ofMillis(500), Duration.ofMillis(500));
        BossClient client = new BossClient(settings, TestSettings.JSON);
        OutcomeSpool spool = new OutcomeSpool(settings, client, new OutcomeContract(TestSettings.JSON), TestSettings.JSON,
                MutableClock.stopped(), new SimpleMeterRegistry());
        runs = new Runs(new ScriptLauncher(settings, new ProcessRunner(Clock.systemUTC()), TestSettings.JSON),
                new OutcomeBuilder(TestSettings.JSON), new WorkDirJanitor(settings), settings);
        local = new LocalRuns(runs, spool, settings, Clock.systemUTC());
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
}
