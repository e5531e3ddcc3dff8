package com.maddatum.worker.spool;

import static org.assertj.core.api.Assertions.assertThat;

import com.maddatum.worker.client.BossClient;
import com.maddatum.worker.config.WorkerSettings;
import com.maddatum.testsupport.MutableClock;
import com.maddatum.worker.support.TestSettings;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import mockwebserver3.MockResponse;
import mockwebserver3.MockWebServer;
import mockwebserver3.RecordedRequest;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class OutcomeSpoolTest {

    @TempDir
    Path root;

    private MockWebServer server;
    private WorkerSettings settings;
    private final MutableClock clock = MutableClock.stopped();
    private final io.micrometer.core.instrument.simple.SimpleMeterRegistry meters =
            new io.micrometer.core.instrument.simple.SimpleMeterRegistry();

    @BeforeEach
    void start() throws Exception {
        server = new MockWebServer();
        server.start(0);
        settings = TestSettings.settings(server.url("/").toString(), TestSettings.fixtureScripts(), root, null);
    }

    @AfterEach
    void stop() {
        server.close();
    }

    private OutcomeSpool spool() {
        return new OutcomeSpool(settings, new BossClient(settings, TestSettings.JSON), TestSettings.JSON, clock,
                meters);
    }

    private static Map<String, Object> outcome(String orderId) {
        Map<String, Object> outcome = new LinkedHashMap<>();
        outcome.put("status", 200);
        outcome.put("orderId", orderId);
        outcome.put("attempt", 1);
        outcome.put("loss", 0.5);
        return outcome;
    }

    @Test
    void anOutcomeHeldWhileTheBossIsDownIsDeliveredOnceWhenItIsBack() throws Exception {
        server.enqueue(new MockResponse.Builder().code(503).build());
        OutcomeSpool spool = spool();
        spool.submit(outcome("o1"));
        assertThat(spool.size()).isEqualTo(1);

        spool.flush(); // still inside the back-off: no request is made
        assertThat(server.getRequestCount()).isEqualTo(1);

        server.enqueue(new MockResponse.Builder().code(200).body("{}").build());
        clock.advance(Duration.ofSeconds(2));
        spool.flush();
        assertThat(spool.size()).isZero();
        spool.flush();
        assertThat(server.getRequestCount()).isEqualTo(2);
        server.takeRequest(1, TimeUnit.SECONDS);
        RecordedRequest delivered = server.takeRequest(1, TimeUnit.SECONDS);
        assertThat(delivered.getBody().utf8()).contains("\"orderId\":\"o1\"").contains("\"loss\":0.5");
    }

    @Test
    void spooledOutcomesSurviveARestartOfTheWorker() throws Exception {
        server.enqueue(new MockResponse.Builder().code(503).build());
        spool().submit(outcome("o2"));
        assertThat(Files.list(settings.spoolDir()).count()).isEqualTo(1);

        server.enqueue(new MockResponse.Builder().code(200).body("{}").build());
        OutcomeSpool afterRestart = spool();
        afterRestart.flush();
        assertThat(afterRestart.size()).isZero();
        assertThat(server.getRequestCount()).isEqualTo(2);
    }

    @Test
    void backOffDoublesWhileTheBossStaysDown() {
        for (int i = 0; i < 4; i++) {
            server.enqueue(new MockResponse.Builder().code(503).build());
        }
        OutcomeSpool spool = spool();
        spool.submit(outcome("o3"));                    // failure 1: wait 1 s
        clock.advance(Duration.ofMillis(1001));
        spool.flush();                                 // failure 2: wait 2 s
        clock.advance(Duration.ofMillis(1500));
        spool.flush();                                 // too early
        assertThat(server.getRequestCount()).isEqualTo(2);
        clock.advance(Duration.ofMillis(600));
        spool.flush();                                 // failure 3
        assertThat(server.getRequestCount()).isEqualTo(3);
        assertThat(meters.counter("worker.callback.retries").count()).isEqualTo(3);
        assertThat(meters.get("worker.spool.size").gauge().value()).isEqualTo(1);
    }

    @Test
    void aStaleOrRejectedOutcomeIsNotKeptForever() {
        server.enqueue(new MockResponse.Builder().code(409).body("{}").build());
        server.enqueue(new MockResponse.Builder().code(400).body("{}").build());
        OutcomeSpool spool = spool();
        spool.submit(outcome("o4"));
        spool.submit(outcome("o5"));
        assertThat(spool.size()).isZero();
    }
}
