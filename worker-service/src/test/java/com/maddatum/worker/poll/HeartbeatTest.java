package com.maddatum.worker.poll;

import static org.assertj.core.api.Assertions.assertThat;

import com.maddatum.worker.client.BossClient;
import com.maddatum.worker.client.Order;
import com.maddatum.worker.runner.Progress;
import com.maddatum.worker.runner.StopReason;
import com.maddatum.worker.support.TestSettings;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import mockwebserver3.MockResponse;
import mockwebserver3.MockWebServer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.JsonNode;

/** What one order's heartbeats send of the script's progress, and what they do with the Boss's answers. */
class HeartbeatTest {

    private static final String ORDER = "65a1b2c3d4e5f60718293a4b";

    @TempDir
    Path root;

    private MockWebServer server;
    private final Progress progress = new Progress();
    private final List<StopReason> stops = new CopyOnWriteArrayList<>();
    private Heartbeat heartbeat;

    @BeforeEach
    void start() throws Exception {
        server = new MockWebServer();
        server.start(0);
        BossClient client = new BossClient(TestSettings.settings(server.url("/").toString(),
                TestSettings.fixtureScripts(), root, null), TestSettings.JSON);
        heartbeat = new Heartbeat(client, new Order(ORDER, "job-1", 2, "running"), "node-1", stops::add, progress);
    }

    @AfterEach
    void stop() {
        server.close();
    }

    private static MockResponse answer(int code, String body) {
        return new MockResponse.Builder().code(code).addHeader("Content-Type", "application/json").body(body).build();
    }

    /** Beats once against {@code answer}; the body it sent. */
    private JsonNode beat(MockResponse answer) throws Exception {
        server.enqueue(answer);
        heartbeat.run();
        return TestSettings.JSON.readTree(server.takeRequest(5, TimeUnit.SECONDS).getBody().utf8());
    }

    private static List<String> points(JsonNode body) {
        List<String> points = new java.util.ArrayList<>();
        body.path("progress").path("points").forEach(p -> points.add(p.get(0).asLong() + ":" + p.get(1).asDouble()));
        return points;
    }

    @Test
    void aScriptThatReportsNothingSendsTheHeartbeatItAlwaysDid() throws Exception {
        JsonNode body = beat(answer(200, "{\"cancelRequested\":false}"));
        assertThat(body.toString()).isEqualTo("{\"node\":\"node-1\",\"attempt\":2}");
        assertThat(stops).isEmpty();
    }

    @Test
    void pointsGoOnceTheBossTookThemAndOnlyTheNewOnesAfter() throws Exception {
        progress.add(new Progress.Point(1, 0.5));
        progress.add(new Progress.Point(2, 0.25));
        JsonNode first = beat(answer(200, "{\"cancelRequested\":false}"));
        assertThat(first.path("progress").path("step").asLong()).isEqualTo(2);
        assertThat(first.path("progress").path("value").asDouble()).isEqualTo(0.25);
        assertThat(points(first)).containsExactly("1:0.5", "2:0.25");

        JsonNode quiet = beat(answer(200, "{\"cancelRequested\":false}"));
        assertThat(quiet.has("progress")).as("nothing new since the Boss took the last").isFalse();

        progress.add(new Progress.Point(3, 0.125));
        assertThat(points(beat(answer(200, "{}")))).containsExactly("3:0.125");
    }

    @Test
    void pointsTheBossDidNotTakeGoAgainWithTheNextOnes() throws Exception {
        progress.add(new Progress.Point(1, 0.5));
        assertThat(points(beat(answer(503, "{}")))).containsExactly("1:0.5");
        progress.add(new Progress.Point(2, 0.25));
        assertThat(points(beat(answer(200, "<html>proxy</html>")))).containsExactly("1:0.5", "2:0.25");
        assertThat(points(beat(new MockResponse.Builder().code(404).build()))).containsExactly("1:0.5", "2:0.25");
        JsonNode taken = beat(answer(200, "{\"cancelRequested\":false}"));
        assertThat(points(taken)).containsExactly("1:0.5", "2:0.25");
        assertThat(beat(answer(200, "{}")).has("progress")).isFalse();
        assertThat(stops).isEmpty();
    }

    @Test
    void stopPrunedStopsTheRunAsPrunedAndTakesThePoints() throws Exception {
        progress.add(new Progress.Point(4, 0.75));
        beat(answer(200, "{\"cancelRequested\":false,\"stop\":\"pruned\"}"));
        assertThat(stops).containsExactly(StopReason.PRUNED);
        assertThat(progress.pending().isEmpty()).isTrue();
        assertThat(progress.last()).isEqualTo(new Progress.Point(4, 0.75)); // what the pruned outcome reports
        beat(answer(200, "{\"stop\":\"pruned\"}")); // the Boss remembers its decision; asking again changes nothing
        assertThat(stops).containsExactly(StopReason.PRUNED, StopReason.PRUNED);
    }
}
