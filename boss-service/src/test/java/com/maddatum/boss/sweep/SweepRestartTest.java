package com.maddatum.boss.sweep;

import static org.assertj.core.api.Assertions.assertThat;

import com.maddatum.boss.BossApplication;
import com.maddatum.testsupport.HttpJson;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.bson.types.ObjectId;
import org.junit.jupiter.api.Test;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.boot.web.server.context.WebServerApplicationContext;
import org.springframework.context.ConfigurableApplicationContext;
import tools.jackson.databind.JsonNode;

/** A Boss stopped mid-sweep and started again over the same store carries on, creating nothing twice. */
class SweepRestartTest {

    private static ConfigurableApplicationContext boss(Path dir, String tick) {
        return new SpringApplicationBuilder(BossApplication.class).run("--server.port=0",
                "--boss.store.data-dir=" + dir, "--boss.lease.reap-interval=1h", "--boss.sweeps.tick=" + tick,
                "--logging.level.com.maddatum=WARN");
    }

    private static HttpJson client(ConfigurableApplicationContext context) {
        return new HttpJson("http://127.0.0.1:" + ((WebServerApplicationContext) context).getWebServer().getPort());
    }

    private static void finish(HttpJson boss, JsonNode order, double loss) {
        HttpJson.Reply reply = boss.post("/callback", Map.of("status", 200, "orderId", order.get("_id").asString(),
                "attempt", order.get("attempt").asInt(), "node", "restart-w", "loss", loss));
        assertThat(reply.status()).as(reply.body()).isEqualTo(200);
    }

    @Test
    void aSweepCarriesOnAfterARestartWithoutDuplicatingOrLosingTrials() throws Exception {
        Path dir = Files.createTempDirectory("boss-sweep-restart-");
        String id;
        Map<String, Object> body = Map.of("name", "restart", "method", "grid", "maxJobs", 4, "parallelism", 2,
                "base", Map.of("scriptName", "noop.py", "learningRate", 0.1, "maxAttempts", 1),
                "parameters", List.of(Map.of("path", "learningRate", "values", List.of(0.1, 0.2, 0.3, 0.4))));
        try (ConfigurableApplicationContext first = boss(dir, "1h")) {
            HttpJson boss = client(first);
            boss.post("/worker-node/create", Map.of("name", "restart-w"));
            id = boss.post("/sweeps", body).json().get("sweepId").asString();
            first.getBean(SweepDriver.class).drive(new ObjectId(id));
            JsonNode order = boss.post("/bored/restart-w?heartbeats=true", "").json();
            finish(boss, order, 1.0);
            // Stopped before any driver noticed the ending: trial 3 does not exist yet.
            assertThat(boss.get("/sweeps/" + id).json().get("counts").get("done").asInt()).isEqualTo(1);
        }
        try (ConfigurableApplicationContext second = boss(dir, "100ms")) {
            HttpJson boss = client(second);
            Set<String> configurations = new HashSet<>();
            JsonNode sweep = boss.get("/sweeps/" + id).json();
            long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
            while (!"done".equals(sweep.get("status").asString()) && System.nanoTime() < deadline) {
                HttpJson.Reply claimed = boss.post("/bored/restart-w?heartbeats=true&waitSeconds=1", "");
                if (claimed.status() == 200) {
                    finish(boss, claimed.json(), 2.0);
                }
                sweep = boss.get("/sweeps/" + id).json();
            }
            assertThat(sweep.get("status").asString()).isEqualTo("done");
            assertThat(sweep.get("counts").get("done").asInt()).isEqualTo(4);
            JsonNode board = boss.get("/sweeps/" + id + "/leaderboard").json().get("trials");
            board.forEach(t -> configurations.add(t.get("params").toString()));
            assertThat(board).hasSize(4);
            assertThat(configurations).hasSize(4);
            assertThat(boss.get("/jobs?sweep=" + id).json().get("total").asInt()).isEqualTo(4);
        }
    }
}
