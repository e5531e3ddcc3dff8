package com.maddatum.worker.poll;

import static org.assertj.core.api.Assertions.assertThat;

import com.maddatum.worker.client.BossClient;
import com.maddatum.worker.config.WorkerSettings;
import com.maddatum.testsupport.MutableClock;
import com.maddatum.worker.support.TestSettings;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import mockwebserver3.MockResponse;
import mockwebserver3.MockWebServer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.JsonNode;

class RegistrarTest {

    @TempDir
    Path root;

    @Test
    void aBossThatIsDownAtStartIsRetriedWithBackOffUntilItAnswers() throws Exception {
        try (MockWebServer server = new MockWebServer()) {
            server.start(0);
            server.enqueue(new MockResponse.Builder().code(503).build());
            server.enqueue(new MockResponse.Builder().code(502).build());
            server.enqueue(new MockResponse.Builder().code(200).body("{}").build());
            WorkerSettings settings = TestSettings.settings(server.url("/").toString(), TestSettings.fixtureScripts(),
                    root, null);
            MutableClock clock = MutableClock.stopped();
            Registrar registrar = new Registrar(new BossClient(settings, TestSettings.JSON), settings,
                    WorkerHarness.gpus(settings), clock);

            assertThat(registrar.ensureRegistered()).isFalse();       // fails: wait 1 s
            assertThat(registrar.ensureRegistered()).isFalse();       // backing off: no request
            assertThat(server.getRequestCount()).isEqualTo(1);
            clock.advance(Duration.ofSeconds(1));
            assertThat(registrar.ensureRegistered()).isFalse();       // fails again: wait 2 s
            clock.advance(Duration.ofSeconds(1));
            assertThat(registrar.ensureRegistered()).isFalse();
            assertThat(server.getRequestCount()).isEqualTo(2);
            clock.advance(Duration.ofSeconds(1));
            assertThat(registrar.ensureRegistered()).isTrue();
            assertThat(registrar.ensureRegistered()).isTrue();
            assertThat(server.getRequestCount()).isEqualTo(3);

            server.takeRequest(1, TimeUnit.SECONDS);
            server.takeRequest(1, TimeUnit.SECONDS);
            JsonNode body = TestSettings.JSON.readTree(server.takeRequest(1, TimeUnit.SECONDS).getBody().utf8());
            assertThat(body.get("name").asString()).isEqualTo("test-node");
            assertThat(body.get("slots").asInt()).isEqualTo(1);
            assertThat(body.get("labels").toString()).contains("cpu").contains("test");
            assertThat(body.get("scripts").toString()).contains("ok.py").contains("reader.py");
        }
    }
}
