package com.maddatum.worker.spool;

import static org.assertj.core.api.Assertions.assertThat;

import com.maddatum.worker.client.BossClient;
import com.maddatum.worker.config.WorkerSettings;
import com.maddatum.worker.outcome.OutcomeContract;
import com.maddatum.worker.run.ShutdownBudget;
import com.maddatum.testsupport.MutableClock;
import com.maddatum.worker.support.TestSettings;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import java.net.URI;
import com.maddatum.worker.support.BossCallbackRules;
import tools.jackson.databind.JsonNode;
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
        return new OutcomeSpool(settings, new BossClient(settings, TestSettings.JSON),
                new OutcomeContract(TestSettings.JSON), TestSettings.JSON, clock, meters, TestSettings.budget(settings));
    }

    /** Order ids are the Boss's ObjectIds: 24 hex digits. */
    static String order(int n) {
        return String.format("%024x", n);
    }

    private static Map<String, Object> outcome(int order) {
        Map<String, Object> outcome = new LinkedHashMap<>();
        outcome.put("status", 200);
        outcome.put("jobId", "job-" + order);
        outcome.put("orderId", order(order));
        outcome.put("attempt", 1);
        outcome.put("loss", 0.5);
        return outcome;
    }

    @Test
    void anOutcomeHeldWhileTheBossIsDownIsDeliveredOnceWhenItIsBack() throws Exception {
        server.enqueue(new MockResponse.Builder().code(503).build());
        OutcomeSpool spool = spool();
        spool.submit(outcome(1));
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
        assertThat(delivered.getBody().utf8()).contains("\"orderId\":\"" + order(1) + "\"").contains("\"loss\":0.5");
    }

    @Test
    void anOutcomeKeptToSendFirstIsLeftToItsSlotAndDeliverFirstSendsItAlone() throws Exception {
        OutcomeSpool spool = spool();
        server.enqueue(new MockResponse.Builder().code(503).build());
        spool.submit(outcome(20)); // an older one, failing: it backs off
        spool.keepToSendFirst(outcome(21));
        clock.advance(Duration.ofSeconds(5));
        // The background flush leaves the slot's outcome to the slot (its request carries more), and sends the old.
        server.enqueue(new MockResponse.Builder().code(503).build());
        spool.flush();
        assertThat(server.getRequestCount()).isEqualTo(2);
        server.takeRequest(1, TimeUnit.SECONDS);
        assertThat(server.takeRequest(1, TimeUnit.SECONDS).getBody().utf8()).contains(order(20));
        List<Object> sent = new java.util.ArrayList<>();
        BossClient.Answer answer = spool.deliverFirst(order(21), 1, outcome -> {
            sent.add(outcome.get("orderId"));
            return new BossClient.Answer(BossClient.Delivery.DELIVERED, null);
        });
        assertThat(answer.delivery()).isEqualTo(BossClient.Delivery.DELIVERED);
        // Only that one: the failing old one waits for its back-off, not for the slot's next order.
        assertThat(sent).containsExactly(order(21));
        assertThat(server.getRequestCount()).isEqualTo(2);
        assertThat(spool.size()).isEqualTo(1);
    }

    @Test
    void aFailedFirstDeliveryBacksOffInsteadOfBeingSentAgainAtOnce() {
        OutcomeSpool spool = spool();
        spool.keepToSendFirst(outcome(22));
        BossClient.Answer answer = spool.deliverFirst(order(22), 1,
                outcome -> new BossClient.Answer(BossClient.Delivery.RETRY, "timed out"));
        assertThat(answer.delivery()).isEqualTo(BossClient.Delivery.RETRY);
        assertThat(server.getRequestCount()).isZero();
        spool.flush(); // within the back-off
        assertThat(server.getRequestCount()).isZero();
        server.enqueue(new MockResponse.Builder().code(200).body("{}").build());
        clock.advance(Duration.ofSeconds(2));
        spool.flush();
        assertThat(server.getRequestCount()).isEqualTo(1);
        assertThat(spool.size()).isZero();
    }

    @Test
    void anOutcomeItsSlotNeverSentGoesWithTheFlushOnceItsHoldEnds() {
        OutcomeSpool spool = spool();
        spool.keepToSendFirst(outcome(23));
        spool.flush();
        assertThat(server.getRequestCount()).isZero();
        server.enqueue(new MockResponse.Builder().code(200).body("{}").build());
        clock.advance(OutcomeSpool.HELD_FOR_FIRST.plusSeconds(1));
        spool.flush();
        assertThat(server.getRequestCount()).isEqualTo(1);
        assertThat(spool.size()).isZero();
    }

    @Test
    void spooledOutcomesSurviveARestartOfTheWorker() throws Exception {
        server.enqueue(new MockResponse.Builder().code(503).build());
        spool().submit(outcome(2));
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
        spool.submit(outcome(3));                    // failure 1: wait 1 s
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
    void aStaleOutcomeIsNotKeptForever() {
        server.enqueue(new MockResponse.Builder().code(409).body("{}").build());
        OutcomeSpool spool = spool();
        spool.submit(outcome(4));
        assertThat(spool.size()).isZero();
        assertThat(server.getRequestCount()).isEqualTo(1);
    }

    @Test
    void aNotFoundFromAProxyKeepsTheOutcomeUntilTheBossHasIt() throws Exception {
        server.enqueue(new MockResponse.Builder().code(404).addHeader("Content-Type", "text/html")
                .body("<html>404 Not Found</html>").build());
        OutcomeSpool spool = spool();
        spool.submit(outcome(5));
        assertThat(spool.size()).isEqualTo(1);

        server.enqueue(new MockResponse.Builder().code(200).body("{}").build());
        clock.advance(Duration.ofSeconds(2));
        spool.flush();
        assertThat(spool.size()).isZero();
        assertThat(server.getRequestCount()).isEqualTo(2);
    }

    private static MockResponse problem(int code, String detail) {
        return new MockResponse.Builder().code(code).addHeader("Content-Type", "application/problem+json")
                .body("{\"type\":\"https://maddatum.com/problems/invalid-field\",\"title\":\"A field of the request is invalid\","
                        + "\"status\":" + code + ",\"detail\":\"" + detail + "\",\"field\":\"jobId\"}").build();
    }

    private JsonNode body(RecordedRequest request) {
        return TestSettings.JSON.readTree(request.getBody().utf8());
    }

    @Test
    void anOutcomeTheBossRefusesIsReplacedForTheSameOrderAndAttemptNotDropped() throws Exception {
        server.enqueue(problem(400, "jobId does not match the order's job."));
        server.enqueue(new MockResponse.Builder().code(200).body("{}").build());
        Map<String, Object> outcome = outcome(6);
        outcome.put("logTail", "epoch 1\nepoch 2");
        outcome.put("manifest", Map.of("scriptSha256", "ab12", "seed", 7));
        spool().submit(outcome);

        assertThat(body(server.takeRequest(1, TimeUnit.SECONDS)).get("loss").asDouble()).isEqualTo(0.5);
        JsonNode replacement = body(server.takeRequest(1, TimeUnit.SECONDS));
        assertThat(replacement.get("status").asInt()).isEqualTo(500);
        assertThat(replacement.get("orderId").asString()).isEqualTo(order(6));
        assertThat(replacement.get("attempt").asInt()).isEqualTo(1);
        assertThat(replacement.get("jobId").asString()).isEqualTo("job-6");
        assertThat(replacement.get("logTail").asString()).isEqualTo("epoch 1\nepoch 2");
        assertThat(replacement.get("manifest").get("scriptSha256").asString()).isEqualTo("ab12");
        assertThat(replacement.get("error").get("type").asString()).isEqualTo("OutcomeRejected");
        assertThat(replacement.get("error").get("message").asString())
                .contains("HTTP 400: jobId does not match the order's job. (field jobId)");
        assertThat(spool().size()).isZero();
    }

    @Test
    void aReplacementTheBossAlsoRefusesGoesAgainWithoutItsLogTailAndManifestThenIsDropped() throws Exception {
        server.enqueue(problem(400, "first"));
        server.enqueue(new MockResponse.Builder().code(413).build());
        server.enqueue(problem(400, "third"));
        Map<String, Object> outcome = outcome(7);
        outcome.put("logTail", "x".repeat(10_000));
        outcome.put("manifest", Map.of("scriptSha256", "ab12"));
        OutcomeSpool spool = spool();
        spool.submit(outcome);
        server.takeRequest(1, TimeUnit.SECONDS);
        JsonNode first = body(server.takeRequest(1, TimeUnit.SECONDS));
        assertThat(first.has("logTail")).isTrue();
        assertThat(first.has("manifest")).isTrue();
        JsonNode last = body(server.takeRequest(1, TimeUnit.SECONDS));
        assertThat(last.has("logTail")).isFalse();
        assertThat(last.has("manifest")).isFalse();
        assertThat(last.get("error").get("message").asString()).contains("first", "HTTP 413");
        assertThat(spool.size()).isZero();
        assertThat(server.getRequestCount()).isEqualTo(3);
    }

    @Test
    void whatIsSpooledIsWhatTheBossAccepts() throws Exception {
        server.enqueue(new MockResponse.Builder().code(200).body("{}").build());
        Map<String, Object> outcome = outcome(8);
        outcome.put("val.loss", 0.25);
        outcome.put("loss", Double.NaN);
        spool().submit(outcome);
        Map<String, Object> sent = TestSettings.JSON.readValue(server.takeRequest(1, TimeUnit.SECONDS).getBody().utf8(),
                LinkedHashMap.class);
        assertThat(sent).containsEntry("val%2Eloss", 0.25).containsEntry("status", 500);
        assertThat(BossCallbackRules.violations(sent, TestSettings.JSON)).isEmpty();
    }

    @Test
    void aKeptOutcomeIsOneWholeFileAndLeftoverPartialsFromACrashAreRemoved() throws Exception {
        Path stale = Files.writeString(settings.spoolDir().resolve(order(9) + "-1.json.1a2b.partial"), "{\"status\":2");
        Files.setLastModifiedTime(stale, java.nio.file.attribute.FileTime.fromMillis(System.currentTimeMillis() - 3_600_000));
        Path fresh = Files.writeString(settings.spoolDir().resolve(order(10) + "-1.json.3c4d.partial"), "{");
        OutcomeSpool spool = spool();
        assertThat(stale).doesNotExist();
        assertThat(fresh).exists(); // perhaps another Worker's write in progress: a shared directory is allowed

        spool.keep(outcome(11));
        try (Stream<Path> files = Files.list(settings.spoolDir())) {
            assertThat(files.map(p -> p.getFileName().toString()))
                    .containsExactlyInAnyOrder(order(11) + "-1.json", fresh.getFileName().toString());
        }
        Map<?, ?> kept = TestSettings.JSON.readValue(Files.readString(settings.spoolDir().resolve(order(11) + "-1.json")),
                Map.class);
        assertThat(kept.get("orderId")).isEqualTo(order(11));
    }

    @Test
    void whenTheDiskRefusesTheOutcomeItIsSentFromMemoryUntilDelivered() throws Exception {
        OutcomeSpool spool = spool();
        // The spool directory is gone and a file stands in its place: every write fails, as on a full disk.
        try (Stream<Path> files = Files.list(settings.spoolDir())) {
            files.forEach(f -> f.toFile().delete());
        }
        Files.delete(settings.spoolDir());
        Files.writeString(settings.spoolDir(), "not a directory");

        server.enqueue(new MockResponse.Builder().code(503).build());
        spool.submit(outcome(12));
        assertThat(server.getRequestCount()).isEqualTo(1);
        assertThat(spool.size()).isEqualTo(1);

        server.enqueue(new MockResponse.Builder().code(200).body("{}").build());
        clock.advance(Duration.ofSeconds(2));
        spool.flush();
        assertThat(server.getRequestCount()).isEqualTo(2);
        server.takeRequest(1, TimeUnit.SECONDS);
        assertThat(body(server.takeRequest(1, TimeUnit.SECONDS)).get("orderId").asString()).isEqualTo(order(12));
        assertThat(spool.size()).isZero();
    }

    @Test
    void aDeadLocalCallbackBacksOffAloneAndHoldsUpNoOutcomeForTheBoss() throws Exception {
        OutcomeSpool spool = spool();
        URI dead;
        try (java.net.ServerSocket socket = new java.net.ServerSocket(0)) {
            dead = URI.create("http://127.0.0.1:" + socket.getLocalPort() + "/callback");
        }
        spool.keep("local-1", dead, outcome(13));
        server.enqueue(new MockResponse.Builder().code(200).body("{}").build());
        spool.submit(outcome(14));
        assertThat(server.getRequestCount()).isEqualTo(1);
        assertThat(body(server.takeRequest(1, TimeUnit.SECONDS)).get("orderId").asString()).isEqualTo(order(14));
        assertThat(spool.size()).isEqualTo(1); // the local one waits for its own callback
        try (Stream<Path> files = Files.list(settings.spoolDir())) {
            assertThat(files.map(p -> p.getFileName().toString())).containsExactly("local-1.json");
        }
        // ... and survives a restart with its address.
        MockWebServer local = new MockWebServer();
        local.start(dead.getPort());
        try {
            local.enqueue(new MockResponse.Builder().code(200).body("{}").build());
            clock.advance(Duration.ofMinutes(2));
            spool().flush();
            assertThat(local.getRequestCount()).isEqualTo(1);
            assertThat(spool.size()).isZero();
        } finally {
            local.close();
        }
    }

    /** At the very end of a shutdown the slots' threads are interrupted; an outcome being spooled must still reach the disk. */
    @Test
    void anInterruptedThreadStillKeepsItsOutcomeOnDisk() throws Exception {
        OutcomeSpool spool = spool();
        Thread.currentThread().interrupt();
        try {
            spool.keep(outcome(15));
        } finally {
            assertThat(Thread.interrupted()).as("the interrupt is kept for the caller").isTrue();
        }
        assertThat(settings.spoolDir().resolve(order(15) + "-1.json")).exists();
    }

    /**
     * During shutdown a delivery waits the budget's short request timeout, the Boss's outcomes go before
     * older local ones, and nothing is sent once the report phase is over: a dead local callback costs
     * one short timeout, and its outcome stays in the spool for the next start.
     */
    @Test
    void onShutdownDeliveriesAreShortBossFirstAndEndWithTheReportPhase() throws Exception {
        ShutdownBudget budget = new ShutdownBudget(Duration.ZERO, Duration.ZERO, Duration.ZERO, Duration.ofSeconds(2),
                Duration.ofMillis(300));
        OutcomeSpool spool = new OutcomeSpool(settings, new BossClient(settings, TestSettings.JSON),
                new OutcomeContract(TestSettings.JSON), TestSettings.JSON, clock, meters, budget);
        java.util.concurrent.atomic.AtomicInteger localCalls = new java.util.concurrent.atomic.AtomicInteger();
        try (java.net.ServerSocket deaf = new java.net.ServerSocket(0)) {
            Thread listener = new Thread(() -> {
                List<java.net.Socket> held = new java.util.ArrayList<>();
                try {
                    while (true) {
                        held.add(deaf.accept()); // takes the request, never answers
                        localCalls.incrementAndGet();
                    }
                } catch (java.io.IOException closed) {
                    // the test is over
                }
            });
            listener.setDaemon(true);
            listener.start();
            spool.keep("local-1", URI.create("http://127.0.0.1:" + deaf.getLocalPort() + "/callback"), outcome(16));
            Files.setLastModifiedTime(settings.spoolDir().resolve("local-1.json"),
                    java.nio.file.attribute.FileTime.fromMillis(System.currentTimeMillis() - 60_000)); // the older one
            spool.keep(outcome(17));
            server.enqueue(new MockResponse.Builder().code(200).body("{}").build());

            budget.begin();
            long start = System.nanoTime();
            spool.flushBeforeExit();
            assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofMillis(1500));
            assertThat(body(server.takeRequest(1, TimeUnit.SECONDS)).get("orderId").asString()).isEqualTo(order(17));
            assertThat(localCalls.get()).isEqualTo(1);
            assertThat(spool.size()).isEqualTo(1);

            // Once the report phase is over nothing more is sent.
            ShutdownBudget spent = new ShutdownBudget(Duration.ZERO, Duration.ZERO, Duration.ZERO, Duration.ZERO,
                    Duration.ofMillis(300));
            spent.begin();
            new OutcomeSpool(settings, new BossClient(settings, TestSettings.JSON), new OutcomeContract(TestSettings.JSON),
                    TestSettings.JSON, clock, meters, spent).flushBeforeExit();
            assertThat(localCalls.get()).isEqualTo(1);
            assertThat(server.getRequestCount()).isEqualTo(1);
        }
    }
}
