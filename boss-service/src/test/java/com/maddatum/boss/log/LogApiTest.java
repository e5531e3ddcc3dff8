package com.maddatum.boss.log;

import static org.assertj.core.api.Assertions.assertThat;

import com.maddatum.boss.support.BossApiTestBase;
import com.maddatum.testsupport.HttpJson;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;

class LogApiTest extends BossApiTestBase {

    @Test
    void theHolderOfAnOrderAppendsItsLogAndOthersCannot() {
        String jobId = submit(job()).get("jobId").asString();
        String orderId = claim("logger").get("_id").asString();
        assertThat(boss.post("/orders/" + orderId + "/logs", Map.of("node", "logger", "attempt", 1, "text", "epoch 1\n"))
                .status()).isEqualTo(200);
        boss.post("/orders/" + orderId + "/logs", Map.of("node", "logger", "attempt", 1, "text", "epoch 2\n"));
        HttpJson.Reply stale = boss.post("/orders/" + orderId + "/logs", Map.of("node", "other", "attempt", 1, "text", "x"));
        assertThat(stale.status()).isEqualTo(409);
        JsonNode log = boss.get("/jobs/" + jobId + "/logs").json();
        assertThat(log.get("text").asString()).isEqualTo("epoch 1\nepoch 2\n");
        assertThat(log.get("status").asString()).isEqualTo("assigned");
    }

    @Test
    @org.junit.jupiter.api.Timeout(60) // a stream that never ends must fail the test, not hang the build
    void followingALogStreamsItsBatchesThenEndsWithTheOrder() throws Exception {
        String jobId = submit(job()).get("jobId").asString();
        String orderId = claim("streamer").get("_id").asString();
        boss.post("/orders/" + orderId + "/logs", Map.of("node", "streamer", "attempt", 1, "text", "before\n"));

        HttpResponse<java.io.InputStream> stream = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                URI.create("http://127.0.0.1:" + port + "/jobs/" + jobId + "/logs?follow=true")).build(),
                HttpResponse.BodyHandlers.ofInputStream());
        assertThat(stream.headers().firstValue("Content-Type")).get().asString().startsWith("text/event-stream");
        BufferedReader reader = new BufferedReader(new InputStreamReader(stream.body(), StandardCharsets.UTF_8));
        List<String> lines = new ArrayList<>();
        lines.add(reader.readLine());
        lines.add(reader.readLine());
        boss.post("/orders/" + orderId + "/logs", Map.of("node", "streamer", "attempt", 1, "text", "during"));
        // The run's last lines come with its outcome and are appended once the order moved: still followed.
        assertThat(boss.post("/callback", Map.of("status", 200, "jobId", jobId, "orderId", orderId, "attempt", 1,
                "node", "streamer", "loss", 1.0, "logs", Map.of("text", "the last line\n"))).status()).isEqualTo(200);
        String line;
        while ((line = reader.readLine()) != null) {
            lines.add(line);
        }
        assertThat(lines).containsSubsequence("event:log", "data:before", "event:log", "data:during", "event:log",
                "data:the last line", "event:end", "data:done");
    }
}
