package com.maddatum.boss;

import static org.assertj.core.api.Assertions.assertThat;

import com.maddatum.testsupport.HttpJson;
import com.maddatum.testsupport.JarProcess;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.JsonNode;

/**
 * Runs the packaged jar, kills it with SIGKILL in the middle of work, and restarts it on the same
 * data directory: every write it acknowledged must still be there, and work must carry on.
 */
class BossCrashRecoveryIT {

    @TempDir
    Path dir;

    @Test
    void everyAcknowledgedWriteSurvivesKillDashNine() throws Exception {
        Path data = dir.resolve("data");
        Path log = dir.resolve("boss.log");
        Map<String, String> orderStatus = new HashMap<>();
        Map<String, String> jobOfOrder = new HashMap<>();
        List<String> reportedJobs = new ArrayList<>();

        try (JarProcess first = JarProcess.start(JarProcess.jar("boss.jar"), log, env(data))) {
            HttpJson boss = new HttpJson(first.url());
            for (int i = 0; i < 40; i++) {
                HttpJson.Reply created = boss.post("/job/create", Map.of("scriptName", "noop.py",
                        "projectName", "crash", "i", i, "depedentVariable", "proline"));
                assertThat(created.status()).isEqualTo(201);
                JsonNode body = created.json();
                orderStatus.put(body.get("orderId").asString(), "unassigned");
                jobOfOrder.put(body.get("orderId").asString(), body.get("jobId").asString());
            }
            for (int i = 0; i < 20; i++) {
                JsonNode order = boss.post("/bored/crash-node", "").json();
                String orderId = order.get("_id").asString();
                orderStatus.put(orderId, "assigned");
                if (i % 2 == 0) {
                    String jobId = order.get("jobId").asString();
                    HttpJson.Reply reply = boss.post("/callback", Map.of("status", 200, "jobId", jobId,
                            "orderId", orderId, "attempt", 1, "loss", i + 0.5, "metric", i));
                    assertThat(reply.status()).isEqualTo(200);
                    orderStatus.put(orderId, "done");
                    reportedJobs.add(jobId);
                } else if (i % 3 == 0) {
                    assertThat(boss.post("/orders/" + orderId + "/heartbeat",
                            Map.of("node", "crash-node", "attempt", 1)).status()).isEqualTo(200);
                    orderStatus.put(orderId, "running");
                }
            }
            // The last acknowledged write happens right before the kill: no grace second for a flush.
            first.kill9();
        }

        try (JarProcess second = JarProcess.start(JarProcess.jar("boss.jar"), log, env(data))) {
            HttpJson boss = new HttpJson(second.url());
            for (Map.Entry<String, String> expected : orderStatus.entrySet()) {
                String jobId = jobOfOrder.get(expected.getKey());
                JsonNode detail = boss.get("/jobs/" + jobId).json();
                assertThat(detail.get("job").get("depedentVariable").asString()).isEqualTo("proline");
                assertThat(detail.get("order").get("status").asString()).as(expected.getKey())
                        .isEqualTo(expected.getValue());
            }
            for (String jobId : reportedJobs) {
                assertThat(boss.get("/retrieve/outcome/" + jobId).status()).isEqualTo(200);
            }
            // The ready index was rebuilt: the 20 orders never claimed are handed out, oldest first.
            int claimed = 0;
            while (boss.post("/bored/after-restart", "").status() == 200) {
                claimed++;
            }
            assertThat(claimed).isEqualTo(20);
            assertThat(boss.get("/projects/crash/leaderboard").json()).hasSize(reportedJobs.size());
        }
        assertThat(Files.readString(log)).doesNotContain("ERROR");
    }

    private static Map<String, String> env(Path data) {
        return Map.of("BOSS_STORE_DATA_DIR", data.toString());
    }
}
