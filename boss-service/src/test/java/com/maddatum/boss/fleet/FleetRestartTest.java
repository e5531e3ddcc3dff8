package com.maddatum.boss.fleet;

import static org.assertj.core.api.Assertions.assertThat;

import com.maddatum.boss.BossApplication;
import com.maddatum.testsupport.HttpJson;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.boot.web.server.context.WebServerApplicationContext;
import org.springframework.context.ConfigurableApplicationContext;
import tools.jackson.databind.JsonNode;

/** Drain and quarantine are kept in the store: a restarted Boss (embedded store) still keeps the nodes out. */
class FleetRestartTest {

    private static ConfigurableApplicationContext boss(Path dir) {
        return new SpringApplicationBuilder(BossApplication.class).run("--server.port=0",
                "--boss.store.data-dir=" + dir, "--boss.lease.reap-interval=1h", "--boss.fleet.quarantine-after=2",
                "--logging.level.com.maddatum=WARN");
    }

    private static HttpJson client(ConfigurableApplicationContext context) {
        return new HttpJson("http://127.0.0.1:" + ((WebServerApplicationContext) context).getWebServer().getPort());
    }

    @Test
    void drainedAndQuarantinedNodesStayOutAfterARestart() throws Exception {
        Path dir = Files.createTempDirectory("boss-fleet-restart-");
        try (ConfigurableApplicationContext first = boss(dir)) {
            HttpJson boss = client(first);
            boss.post("/worker-node/create", Map.of("name", "rs-sick", "labels", List.of("rs")));
            boss.post("/worker-node/create", Map.of("name", "rs-drained", "labels", List.of("rs")));
            assertThat(boss.post("/workers/rs-drained/drain", Map.of("reason", "disk")).status()).isEqualTo(200);
            for (int i = 0; i < 2; i++) {
                boss.post("/job/create", Map.of("scriptName", "noop.py", "requiredLabels", List.of("rs")));
                JsonNode claimed = boss.post("/bored/rs-sick?heartbeats=true", "").json();
                boss.post("/callback", Map.of("status", 503, "retryable", true, "orderId", claimed.get("_id").asString(),
                        "attempt", claimed.get("attempt").asInt(), "node", "rs-sick",
                        "error", Map.of("type", "ScriptNotStarted", "message", "no python")));
            }
            assertThat(boss.get("/workers/rs-sick").json().get("state").asString()).isEqualTo("quarantined");
        }
        try (ConfigurableApplicationContext second = boss(dir)) {
            HttpJson boss = client(second);
            assertThat(boss.post("/bored/rs-sick?heartbeats=true", "").status()).isEqualTo(204);
            assertThat(boss.post("/bored/rs-drained?heartbeats=true", "").status()).isEqualTo(204);
            JsonNode sick = boss.get("/workers/rs-sick").json();
            assertThat(sick.get("state").asString()).isEqualTo("quarantined");
            assertThat(sick.get("quarantine").get("evidence")).hasSize(2);
            assertThat(boss.get("/workers/rs-drained").json().get("drain").get("reason").asString()).isEqualTo("disk");

            boss.post("/workers/rs-sick/undrain", "");
            assertThat(boss.post("/bored/rs-sick?heartbeats=true", "").status()).isEqualTo(200);
        }
    }
}
