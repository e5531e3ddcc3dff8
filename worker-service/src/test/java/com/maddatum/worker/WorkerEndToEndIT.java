package com.maddatum.worker;

import static org.assertj.core.api.Assertions.assertThat;

import com.maddatum.testsupport.HttpJson;
import com.maddatum.testsupport.JarProcess;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;
import tools.jackson.databind.JsonNode;

/** The Worker (in-process) against the real Boss (its packaged jar), running the real noop.py. */
class WorkerEndToEndIT {

    @TempDir
    Path dir;

    private JarProcess bossProcess;
    private HttpJson boss;
    private ConfigurableApplicationContext worker;

    @AfterEach
    void stop() throws Exception {
        if (worker != null) {
            worker.close();
        }
        if (bossProcess != null) {
            bossProcess.close();
        }
    }

    private void startBoss() throws Exception {
        startBoss(Map.of());
    }

    private void startBoss(Map<String, String> extra) throws Exception {
        java.nio.file.Files.createDirectories(java.nio.file.Path.of("target/it-logs"));
        Map<String, String> env = new java.util.HashMap<>(extra);
        env.put("BOSS_STORE_DATA_DIR", dir.resolve("boss-data").toString());
        bossProcess = JarProcess.start(JarProcess.jar("boss.jar"),
                java.nio.file.Path.of("target/it-logs/boss-" + System.nanoTime() + ".log"), env);
        boss = new HttpJson(bossProcess.url());
    }

    private void startWorker() {
        startWorker("5s");
    }

    private void startWorker(String shutdownGrace) {
        // A 30 s poll interval: if the Worker waited for its tick between jobs, the gaps would show it.
        worker = new SpringApplicationBuilder(WorkerApplication.class).run(
                "--server.port=0", "--management.server.port=0", "--worker.boss-url=" + bossProcess.url(), "--worker.node-name=e2e-node",
                "--worker.scripts-dir=" + System.getProperty("scripts.dir", "../python-scripts"),
                "--worker.work-dir=" + dir.resolve("work"), "--worker.spool-dir=" + dir.resolve("spool"),
                "--worker.slots=1", "--worker.poll-interval=30s", "--worker.long-poll=20s",
                "--worker.heartbeat-interval=500ms", "--worker.shutdown-grace=" + shutdownGrace);
    }

    @Test
    void oneWorkerRunsTwentyJobsBackToBackAndEachEndsDoneWithItsOutcome() throws Exception {
        startBoss();
        List<String> jobs = new ArrayList<>();
        for (int i = 0; i < 20; i++) {
            jobs.add(boss.post("/job/create", Map.of("scriptName", "noop.py", "projectName", "e2e", "i", i)).json().get("jobId").asString());
        }
        startWorker();

        Instant previousDone = null;
        for (String jobId : jobs) {
            JsonNode detail = boss.awaitJobStatus(jobId, "done", Duration.ofSeconds(60));
            assertThat(detail.get("order").get("status").asString()).as(jobId).isEqualTo("done");
            JsonNode outcome = detail.get("outcome");
            assertThat(outcome.get("status").asInt()).isEqualTo(200);
            assertThat(outcome.get("jobId").asString()).isEqualTo(jobId);
            assertThat(outcome.get("node").asString()).isEqualTo("e2e-node");
            assertThat(outcome.get("exitCode").asInt()).isZero();
            JsonNode history = detail.get("order").get("history");
            Instant claimed = Instant.parse(history.get(1).get("at").asString());
            Instant done = Instant.parse(history.get(history.size() - 1).get("at").asString());
            if (previousDone != null) {
                // Jobs are FIFO on one slot: each is claimed as soon as the previous one is reported.
                assertThat(Duration.between(previousDone, claimed)).as("idle gap before " + jobId)
                        .isLessThan(Duration.ofSeconds(5));
            }
            previousDone = done;
        }
        // The script's output reached the Boss while it ran (noop.py logs its start to stderr).
        assertThat(boss.get("/jobs/" + jobs.get(0) + "/logs").json().get("text").asString()).contains("noop started");
        JsonNode workers = boss.get("/workers").json();
        assertThat(workers.get(0).get("name").asString()).isEqualTo("e2e-node");
        assertThat(workers.get(0).get("labels").toString()).contains("cpu");
    }

    @Test
    void aCancelledJobIsKilledAndItsSlotFreed() throws Exception {
        startBoss();
        startWorker();
        String longJob = boss.post("/job/create", Map.of("scriptName", "noop.py", "sleepSeconds", 300)).json().get("jobId").asString();
        assertThat(boss.awaitJobStatus(longJob, "running", Duration.ofSeconds(30)).get("order").get("status").asString())
                .isEqualTo("running");
        boss.post("/jobs/" + longJob + "/cancel", Map.of());

        String next = boss.post("/job/create", Map.of("scriptName", "noop.py")).json().get("jobId").asString();
        assertThat(boss.awaitJobStatus(next, "done", Duration.ofSeconds(30)).get("order").get("status").asString())
                .isEqualTo("done");
        assertThat(boss.get("/jobs/" + longJob).json().get("order").get("status").asString()).isEqualTo("cancelled");
    }

    @Test
    void aScriptErrorFailsTheJobWithTheScriptsOwnOutcome() throws Exception {
        startBoss();
        startWorker();
        String jobId = boss.post("/job/create", Map.of("scriptName", "nn.py", "dataFileName", "nope.csv",
                "depedentVariable", "y")).json().get("jobId").asString();
        JsonNode detail = boss.awaitJobStatus(jobId, "failed", Duration.ofSeconds(30));
        assertThat(detail.get("order").get("status").asString()).isEqualTo("failed");
        assertThat(detail.get("outcome").get("status").asInt()).isEqualTo(404);
        assertThat(detail.get("outcome").get("error").get("type").asString()).isEqualTo("DataFileNotFound");
    }

    @Test
    void onShutdownAJobThatOutlivesTheGraceIsKilledAndHandedBack() throws Exception {
        startBoss();
        startWorker("1s");
        String jobId = boss.post("/job/create", Map.of("scriptName", "noop.py", "sleepSeconds", 300)).json().get("jobId").asString();
        boss.awaitJobStatus(jobId, "running", Duration.ofSeconds(30));
        worker.close(); // what SIGTERM's shutdown hook does
        worker = null;
        JsonNode order = boss.get("/jobs/" + jobId).json().get("order");
        assertThat(order.get("status").asString()).isEqualTo("unassigned");
        assertThat(order.get("reason").asString()).contains("WorkerShutdown");
        assertThat(order.get("attempt").asInt()).isEqualTo(1);
    }

    @Test
    void onShutdownAJobThatEndsWithinTheGraceIsReportedNormally() throws Exception {
        startBoss();
        startWorker("60s");
        String jobId = boss.post("/job/create", Map.of("scriptName", "noop.py", "sleepSeconds", 2)).json().get("jobId").asString();
        boss.awaitJobStatus(jobId, "running", Duration.ofSeconds(30));
        worker.close();
        worker = null;
        assertThat(boss.get("/jobs/" + jobId).json().get("order").get("status").asString()).isEqualTo("done");
    }

    @Test
    void anOutcomeWithDottedAndDollarKeysEndsTheJobDoneWithItsKeysEncoded() throws Exception {
        startBoss();
        startWorker();
        String jobId = boss.post("/job/create", Map.of("scriptName", "noop.py",
                "outcomeKeys", List.of("val.loss", "$where", "plain"))).json().get("jobId").asString();
        JsonNode detail = boss.awaitJobStatus(jobId, "done", Duration.ofSeconds(60));
        assertThat(detail.get("order").get("status").asString()).isEqualTo("done");
        JsonNode details = detail.get("outcome").get("details");
        assertThat(details.get("val%2Eloss").asInt()).isEqualTo(1);
        assertThat(details.get("%24where").asInt()).isEqualTo(1);
        assertThat(details.get("plain").asInt()).isEqualTo(1);
        assertThat(details.get("workerFixes").get(0).asString()).contains("val.loss", "$where");
        assertThat(detail.get("order").get("attempt").asInt()).isEqualTo(1);
    }

    @Test
    void anOutcomeTheBossRefusesIsReplacedAndTheJobFailsSayingWhyInsteadOfRunningAgain() throws Exception {
        // A Boss whose body limit is smaller than the outcome's log tail: it answers 413 to the outcome
        // and to the replacement that carries the tail, and takes the one without it.
        startBoss(Map.of("BOSS_LIMITS_MAX_BODY_BYTES", "8192"));
        startWorker();
        String jobId = boss.post("/job/create", Map.of("scriptName", "noop.py", "stderrBytes", 20_000))
                .json().get("jobId").asString();
        JsonNode detail = boss.awaitJobStatus(jobId, "failed", Duration.ofSeconds(60));
        JsonNode order = detail.get("order");
        assertThat(order.get("status").asString()).isEqualTo("failed");
        assertThat(order.get("attempt").asInt()).isEqualTo(1);
        JsonNode outcome = detail.get("outcome");
        assertThat(outcome.get("status").asInt()).isEqualTo(500);
        assertThat(outcome.get("error").get("type").asString()).isEqualTo("OutcomeRejected");
        assertThat(outcome.get("error").get("message").asString()).contains("status 200", "HTTP 413");
        assertThat(outcome.get("node").asString()).isEqualTo("e2e-node");
    }
}
