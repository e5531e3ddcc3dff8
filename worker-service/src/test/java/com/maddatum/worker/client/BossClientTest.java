package com.maddatum.worker.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.maddatum.worker.support.TestSettings;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import mockwebserver3.MockResponse;
import mockwebserver3.MockWebServer;
import mockwebserver3.RecordedRequest;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The Worker's HTTP client against a scripted Boss. */
class BossClientTest {

    @TempDir
    Path root;

    private MockWebServer server;
    private BossClient client;

    @BeforeEach
    void start() throws Exception {
        server = new MockWebServer();
        server.start(0);
        String url = server.url("/").toString();
        client = new BossClient(TestSettings.settings(url, TestSettings.fixtureScripts(), root, "s3cret"),
                TestSettings.JSON);
    }

    @AfterEach
    void stop() {
        server.close();
    }

    private static MockResponse answer(int code, String body) {
        return new MockResponse.Builder().code(code).addHeader("Content-Type", "application/json").body(body).build();
    }

    @Test
    void boredLongPollsWithTheTokenAndParsesTheOrder() throws Exception {
        server.enqueue(answer(200, "{\"_id\":\"o1\",\"jobId\":\"j1\",\"attempt\":2,\"status\":\"assigned\",\"createdDate\":\"x\"}"));
        Order order = client.bored("node-1", Duration.ofSeconds(7)).orElseThrow();
        assertThat(order).isEqualTo(new Order("o1", "j1", 2, "assigned"));
        RecordedRequest request = server.takeRequest(5, TimeUnit.SECONDS);
        assertThat(request.getMethod()).isEqualTo("POST");
        assertThat(request.getTarget()).isEqualTo("/bored/node-1?waitSeconds=7");
        assertThat(request.getHeaders().get("Authorization")).isEqualTo("Bearer s3cret");
    }

    @Test
    void noContentMeansNoWork() throws Exception {
        server.enqueue(new MockResponse.Builder().code(204).build());
        assertThat(client.bored("n", Duration.ZERO)).isEmpty();
    }

    @Test
    void serverErrorsAndTimeoutsMeanTryAgainLater() {
        server.enqueue(answer(500, "{}"));
        assertThatThrownBy(() -> client.bored("n", Duration.ZERO)).isInstanceOf(BossUnavailableException.class);
        // http-timeout is 3 s in the test settings; the answer takes longer.
        server.enqueue(new MockResponse.Builder().code(204).headersDelay(5, TimeUnit.SECONDS).build());
        assertThatThrownBy(() -> client.bored("n", Duration.ZERO)).isInstanceOf(BossUnavailableException.class);
    }

    @Test
    void heartbeatAnswersMapToWhatTheWorkerMustDo() throws Exception {
        server.enqueue(answer(200, "{\"cancelRequested\":false}"));
        server.enqueue(answer(200, "{\"cancelRequested\":true}"));
        server.enqueue(answer(409, "{\"type\":\"stale-attempt\"}"));
        server.enqueue(answer(503, "{}"));
        assertThat(client.heartbeat("o1", "n", 1, null)).isEqualTo(BossClient.Beat.OK);
        assertThat(client.heartbeat("o1", "n", 1, null)).isEqualTo(BossClient.Beat.CANCEL);
        assertThat(client.heartbeat("o1", "n", 1, null)).isEqualTo(BossClient.Beat.LEASE_LOST);
        assertThat(client.heartbeat("o1", "n", 1, null)).isEqualTo(BossClient.Beat.UNREACHABLE);
        RecordedRequest first = server.takeRequest(5, TimeUnit.SECONDS);
        assertThat(first.getTarget()).isEqualTo("/orders/o1/heartbeat");
        assertThat(first.getBody().utf8()).isEqualTo("{\"node\":\"n\",\"attempt\":1}");
    }

    @Test
    void callbackAnswersMapToDeliveryResults() {
        server.enqueue(answer(200, "{}"));
        server.enqueue(answer(409, "{}"));
        server.enqueue(answer(400, "{}"));
        server.enqueue(answer(503, "{}"));
        Map<String, Object> outcome = Map.of("status", 200, "orderId", "o1", "attempt", 1);
        assertThat(client.callback(outcome)).isEqualTo(BossClient.Delivery.DELIVERED);
        assertThat(client.callback(outcome)).isEqualTo(BossClient.Delivery.STALE);
        assertThat(client.callback(outcome)).isEqualTo(BossClient.Delivery.REJECTED);
        assertThat(client.callback(outcome)).isEqualTo(BossClient.Delivery.RETRY);
    }

    @Test
    void anUnreachableBossIsUnavailableNotAnError() throws Exception {
        server.close();
        assertThatThrownBy(() -> client.bored("n", Duration.ZERO)).isInstanceOf(BossUnavailableException.class)
                .hasMessageContaining("cannot reach the Boss");
        assertThat(client.callback(Map.of("status", 200))).isEqualTo(BossClient.Delivery.RETRY);
    }
}
