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

    private static final String ORDER = "65a1b2c3d4e5f60718293a4b";

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
        server.enqueue(answer(200, "{\"_id\":\"" + ORDER + "\",\"jobId\":\"j1\",\"attempt\":2,\"status\":\"assigned\",\"createdDate\":\"x\"}"));
        Order order = client.bored("node-1", Duration.ofSeconds(7)).orElseThrow();
        assertThat(order).isEqualTo(new Order(ORDER, "j1", 2, "assigned"));
        RecordedRequest request = server.takeRequest(5, TimeUnit.SECONDS);
        assertThat(request.getMethod()).isEqualTo("POST");
        assertThat(request.getTarget()).isEqualTo("/bored/node-1?waitSeconds=7&heartbeats=true");
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
        assertThat(client.heartbeat(ORDER, "n", 1, null)).isEqualTo(BossClient.Beat.OK);
        assertThat(client.heartbeat(ORDER, "n", 1, null)).isEqualTo(BossClient.Beat.CANCEL);
        assertThat(client.heartbeat(ORDER, "n", 1, null)).isEqualTo(BossClient.Beat.LEASE_LOST);
        assertThat(client.heartbeat(ORDER, "n", 1, null)).isEqualTo(BossClient.Beat.UNREACHABLE);
        RecordedRequest first = server.takeRequest(5, TimeUnit.SECONDS);
        assertThat(first.getTarget()).isEqualTo("/orders/" + ORDER + "/heartbeat");
        assertThat(first.getBody().utf8()).isEqualTo("{\"node\":\"n\",\"attempt\":1}");
    }

    /** The answers Bosses gave before sweeps, and extra fields a newer one may add, mean what they meant. */
    @Test
    void heartbeatAnswersWithoutAStopAreReadAsBefore() {
        server.enqueue(answer(200, "{\"orderId\":\"" + ORDER + "\",\"status\":\"running\",\"attempt\":1,"
                + "\"leaseExpiresAt\":\"2026-01-01T00:00:00Z\",\"cancelRequested\":false}"));
        server.enqueue(answer(200, "{}"));
        server.enqueue(answer(200, "{\"cancelRequested\":false,\"stop\":null,\"somethingNew\":[1]}"));
        server.enqueue(answer(200, "{\"cancelRequested\":false,\"stop\":\"paused\"}"));
        for (int i = 0; i < 4; i++) {
            assertThat(client.heartbeat(ORDER, "n", 1, null)).as("answer %s", i).isEqualTo(BossClient.Beat.OK);
        }
    }

    @Test
    void stopPrunedEndsTheTrialAndACancellationOutranksIt() {
        server.enqueue(answer(200, "{\"cancelRequested\":false,\"stop\":\"pruned\"}"));
        server.enqueue(answer(200, "{\"cancelRequested\":true,\"stop\":\"pruned\"}"));
        assertThat(client.heartbeat(ORDER, "n", 1, null)).isEqualTo(BossClient.Beat.PRUNE);
        assertThat(client.heartbeat(ORDER, "n", 1, null)).isEqualTo(BossClient.Beat.CANCEL);
    }

    @Test
    void progressGoesInTheHeartbeatBody() throws Exception {
        server.enqueue(answer(200, "{\"cancelRequested\":false}"));
        Map<String, Object> progress = new java.util.LinkedHashMap<>();
        progress.put("step", 2L);
        progress.put("value", 0.25);
        progress.put("points", java.util.List.of(java.util.List.of(1L, 0.5), java.util.List.of(2L, 0.25)));
        assertThat(client.heartbeat(ORDER, "n", 1, progress)).isEqualTo(BossClient.Beat.OK);
        assertThat(server.takeRequest(5, TimeUnit.SECONDS).getBody().utf8()).isEqualTo(
                "{\"node\":\"n\",\"attempt\":1,\"progress\":{\"step\":2,\"value\":0.25,\"points\":[[1,0.5],[2,0.25]]}}");
    }

    /** Points a Boss cannot take must not cost the lease: the beat goes again without them, and its answer stands. */
    @Test
    void aHeartbeatRefusedForItsProgressIsSentAgainWithoutIt() throws Exception {
        server.enqueue(answer(400, "{\"status\":400,\"detail\":\"bad progress\",\"field\":\"progress\"}"));
        server.enqueue(answer(200, "{\"stop\":\"pruned\"}"));
        assertThat(client.heartbeat(ORDER, "n", 1, Map.of("step", 1L, "value", 1.0, "points", java.util.List.of())))
                .isEqualTo(BossClient.Beat.PRUNE);
        assertThat(server.takeRequest(5, TimeUnit.SECONDS).getBody().utf8()).contains("\"progress\"");
        assertThat(server.takeRequest(5, TimeUnit.SECONDS).getBody().utf8()).isEqualTo("{\"node\":\"n\",\"attempt\":1}");
        // Without progress a 400 is what it was: no answer to act on.
        server.enqueue(answer(400, "{}"));
        assertThat(client.heartbeat(ORDER, "n", 1, null)).isEqualTo(BossClient.Beat.UNREACHABLE);
        assertThat(server.getRequestCount()).isEqualTo(3);
    }

    @Test
    void callbackAnswersMapToDeliveryResults() {
        server.enqueue(answer(200, "{}"));
        server.enqueue(answer(409, "{}"));
        server.enqueue(answer(400, "{}"));
        server.enqueue(answer(503, "{}"));
        Map<String, Object> outcome = Map.of("status", 200, "orderId", "o1", "attempt", 1);
        assertThat(client.callback(outcome).delivery()).isEqualTo(BossClient.Delivery.DELIVERED);
        assertThat(client.callback(outcome).delivery()).isEqualTo(BossClient.Delivery.STALE);
        assertThat(client.callback(outcome).delivery()).isEqualTo(BossClient.Delivery.REJECTED);
        assertThat(client.callback(outcome).delivery()).isEqualTo(BossClient.Delivery.RETRY);
    }

    private static MockResponse problem(int code, String type, String field) {
        return new MockResponse.Builder().code(code).addHeader("Content-Type", "application/problem+json")
                .body("{\"type\":\"https://maddatum.com/problems/" + type + "\",\"status\":" + code
                        + (field == null ? "" : ",\"field\":\"" + field + "\"") + "}").build();
    }

    /** A 404 drops an outcome only when it is the Boss's word that the order or job is unknown. */
    @Test
    void aNotFoundIsStaleOnlyWhenTheBossSaysItDoesNotKnowTheOrder() {
        server.enqueue(problem(404, "not-found", "id"));
        server.enqueue(html(404));                          // a proxy in front of the Boss, mid-redeploy
        server.enqueue(problem(404, "not-found", null));    // a Boss at another path: no such route
        server.enqueue(answer(404, "{}"));                  // something else at a mistyped callbackAddress
        Map<String, Object> outcome = Map.of("status", 200, "orderId", ORDER, "attempt", 1);
        assertThat(client.callback(outcome).delivery()).isEqualTo(BossClient.Delivery.STALE);
        for (int i = 0; i < 3; i++) {
            assertThat(client.callback(outcome).delivery()).as("answer %s", i).isEqualTo(BossClient.Delivery.RETRY);
        }
    }

    @Test
    void passingClientErrorsAreRetriedNotTakenForARefusal() {
        for (int code : new int[] {408, 421, 425, 429}) {
            server.enqueue(answer(code, "{}"));
            assertThat(client.callback(Map.of("status", 200)).delivery()).as("HTTP %s", code)
                    .isEqualTo(BossClient.Delivery.RETRY);
        }
    }

    @Test
    void anUnreachableBossIsUnavailableNotAnError() throws Exception {
        server.close();
        assertThatThrownBy(() -> client.bored("n", Duration.ZERO)).isInstanceOf(BossUnavailableException.class)
                .hasMessageContaining("cannot reach the Boss");
        assertThat(client.callback(Map.of("status", 200)).delivery()).isEqualTo(BossClient.Delivery.RETRY);
    }

    private static MockResponse html(int code) {
        return new MockResponse.Builder().code(code).addHeader("Content-Type", "text/html")
                .body("<html><body><h1>502 Bad Gateway</h1> the service is being redeployed</body></html>").build();
    }

    @Test
    void aHeartbeatAnswerThatIsNotJsonIsAnUnreachableBossNeverAnException() {
        server.enqueue(html(200));
        server.enqueue(answer(200, "null"));
        server.enqueue(answer(200, "{\"cancelRequested\": tr"));
        server.enqueue(answer(200, "[1,2]"));
        server.enqueue(answer(200, ""));
        for (int i = 0; i < 5; i++) {
            assertThat(client.heartbeat(ORDER, "n", 1, null)).as("answer %s", i).isEqualTo(BossClient.Beat.UNREACHABLE);
        }
    }

    @Test
    void aNotFoundHeartbeatIsReportedApartFromALostLease() {
        server.enqueue(answer(404, "{}"));
        server.enqueue(answer(409, "{}"));
        assertThat(client.heartbeat(ORDER, "n", 1, null)).isEqualTo(BossClient.Beat.NOT_FOUND);
        assertThat(client.heartbeat(ORDER, "n", 1, null)).isEqualTo(BossClient.Beat.LEASE_LOST);
    }

    @Test
    void anUnreadableOrderOrJobIsABossThatIsNotAnsweringProperly() {
        server.enqueue(html(200));
        server.enqueue(answer(200, "null"));
        server.enqueue(answer(200, "{\"_id\":\"" + ORDER + "\",\"jobId\":"));
        server.enqueue(html(200));
        server.enqueue(answer(200, "null"));
        server.enqueue(answer(200, "\"a string\""));
        for (int i = 0; i < 3; i++) {
            assertThatThrownBy(() -> client.bored("n", Duration.ZERO)).as("order %s", i)
                    .isInstanceOf(BossUnavailableException.class);
        }
        for (int i = 0; i < 3; i++) {
            assertThatThrownBy(() -> client.job("65a1b2c3d4e5f60718293a4c")).as("job %s", i)
                    .isInstanceOf(BossUnavailableException.class);
        }
    }

    @Test
    void anOrderWhoseIdsCouldBreakAPathIsNotUsed() throws Exception {
        for (String order : new String[] {
                "{\"_id\":\"../../worker-node/create\",\"jobId\":\"j1\",\"attempt\":1}",
                "{\"_id\":\"" + ORDER + "\",\"jobId\":\"j1/../../x\",\"attempt\":1}",
                "{\"_id\":\"" + ORDER.toUpperCase() + "\",\"jobId\":\"j1\",\"attempt\":1}",
                "{\"_id\":\"" + ORDER + "\",\"jobId\":\"j1\",\"attempt\":0}",
                "{\"_id\":\"" + ORDER + "\",\"jobId\":\"j1?x=1\",\"attempt\":1}"}) {
            server.enqueue(answer(200, order));
            assertThatThrownBy(() -> client.bored("n", Duration.ZERO)).as(order)
                    .isInstanceOf(BossUnavailableException.class).hasMessageContaining("cannot use");
        }
        assertThat(server.getRequestCount()).isEqualTo(5); // and nothing was asked about those ids
    }

    @Test
    void aRefusedCallbackCarriesTheBossesReasonInWords() {
        server.enqueue(answer(400, "{\"type\":\"https://maddatum.com/problems/invalid-field\",\"status\":400,"
                + "\"detail\":\"status is required: an HTTP-style code from 100 to 599.\",\"field\":\"status\"}"));
        server.enqueue(html(413));
        BossClient.Answer refused = client.callback(Map.of("status", 700));
        assertThat(refused.delivery()).isEqualTo(BossClient.Delivery.REJECTED);
        assertThat(refused.reason()).isEqualTo("HTTP 400: status is required: an HTTP-style code from 100 to 599. (field status)");
        BossClient.Answer tooLarge = client.callback(Map.of("status", 200));
        assertThat(tooLarge.delivery()).isEqualTo(BossClient.Delivery.REJECTED);
        assertThat(tooLarge.reason()).startsWith("HTTP 413: <html>");
    }
    private static Map<String, Object> outcomeOf(String padding) {
        Map<String, Object> outcome = new java.util.LinkedHashMap<>();
        outcome.put("status", 200);
        outcome.put("orderId", ORDER);
        outcome.put("attempt", 1);
        outcome.put("node", "node-1");
        outcome.put("extra", padding);
        return outcome;
    }

    @Test
    void lastLinesThatWouldPushAnOutcomeOverTheBodyLimitGoFirstOnTheirOwn() throws Exception {
        // An outcome the contract fitted just under the limit, and 60 KiB of last lines.
        Map<String, Object> outcome = outcomeOf("x".repeat(com.maddatum.worker.outcome.OutcomeContract.MAX_BYTES - 200));
        server.enqueue(answer(200, "{}"));
        server.enqueue(answer(200, "{\"orderStatus\":\"done\"}"));
        BossClient.Answer answer = client.callback(outcome, "y".repeat(60 * 1024), null);
        assertThat(answer.delivery()).isEqualTo(BossClient.Delivery.DELIVERED);
        RecordedRequest logs = server.takeRequest(1, TimeUnit.SECONDS);
        assertThat(logs.getTarget()).isEqualTo("/orders/" + ORDER + "/logs");
        assertThat(logs.getBody().utf8()).contains("yyyy");
        RecordedRequest callback = server.takeRequest(1, TimeUnit.SECONDS);
        assertThat(callback.getTarget()).isEqualTo("/callback");
        assertThat(callback.getBody().utf8()).doesNotContain("\"logs\"").doesNotContain("yyyy");
        assertThat(callback.getBody().size()).isLessThanOrEqualTo(com.maddatum.worker.outcome.OutcomeContract.MAX_BYTES);
    }

    @Test
    void anOutcomeRefusedAsTooLargeWithItsLastLinesIsSentAgainWithoutThem() throws Exception {
        // A Boss with a lower body limit than the Worker fits outcomes to.
        server.enqueue(html(413));
        server.enqueue(answer(200, "{}"));
        server.enqueue(answer(200, "{\"orderStatus\":\"done\"}"));
        BossClient.Answer answer = client.callback(outcomeOf("small"), "last line\n", null);
        assertThat(answer.delivery()).isEqualTo(BossClient.Delivery.DELIVERED);
        assertThat(server.takeRequest(1, TimeUnit.SECONDS).getBody().utf8()).contains("\"logs\"");
        assertThat(server.takeRequest(1, TimeUnit.SECONDS).getTarget()).isEqualTo("/orders/" + ORDER + "/logs");
        assertThat(server.takeRequest(1, TimeUnit.SECONDS).getBody().utf8()).doesNotContain("\"logs\"")
                .contains("\"extra\":\"small\"");
    }

    @Test
    void lastLinesABossAnsweredWithoutTakingAreSentApartOnceAndNotAfterNoAnswer() throws Exception {
        // The combined callback answered 503: the lines go on their own at once (its retry goes without them).
        server.enqueue(answer(503, "{}"));
        server.enqueue(answer(200, "{}"));
        assertThat(client.callback(outcomeOf("small"), "last line\n", null).delivery())
                .isEqualTo(BossClient.Delivery.RETRY);
        assertThat(server.takeRequest(1, TimeUnit.SECONDS).getBody().utf8()).contains("\"logs\"");
        assertThat(server.takeRequest(1, TimeUnit.SECONDS).getTarget()).isEqualTo("/orders/" + ORDER + "/logs");
        // Sent apart first for a 413, then the plain outcome answered 503: not a second time.
        server.enqueue(html(413));
        server.enqueue(answer(200, "{}"));
        server.enqueue(answer(503, "{}"));
        assertThat(client.callback(outcomeOf("small"), "last line\n", null).delivery())
                .isEqualTo(BossClient.Delivery.RETRY);
        assertThat(server.takeRequest(1, TimeUnit.SECONDS).getBody().utf8()).contains("\"logs\"");
        assertThat(server.takeRequest(1, TimeUnit.SECONDS).getTarget()).isEqualTo("/orders/" + ORDER + "/logs");
        assertThat(server.takeRequest(1, TimeUnit.SECONDS).getBody().utf8()).doesNotContain("\"logs\"");
        assertThat(server.takeRequest(200, TimeUnit.MILLISECONDS)).as("no second batch of the same lines").isNull();
        // No answer at all (http-timeout, 3 s here): the Boss may yet store the lines with the outcome, so they
        // are not sent apart too.
        server.enqueue(new MockResponse.Builder().code(200).body("{}").headersDelay(5, TimeUnit.SECONDS).build());
        assertThat(client.callback(outcomeOf("small"), "last line\n", null).delivery())
                .isEqualTo(BossClient.Delivery.RETRY);
        assertThat(server.takeRequest(1, TimeUnit.SECONDS).getBody().utf8()).contains("\"logs\"");
        assertThat(server.takeRequest(300, TimeUnit.MILLISECONDS)).as("lines sent apart after a timeout").isNull();
    }
}
