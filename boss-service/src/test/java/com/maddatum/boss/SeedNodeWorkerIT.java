package com.maddatum.boss;

import static org.assertj.core.api.Assertions.assertThat;

import com.maddatum.testsupport.HttpJson;
import com.maddatum.testsupport.JarProcess;
import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.JsonNode;

/**
 * The seed's own Node worker ({@code src/it/seed-worker}, the seed's server.js and python-runner.js
 * unchanged) against the packaged Boss: it polls {@code /bored}, fetches the job, runs a seed-style
 * Python script with the job in argv[1], and posts the script's last line to {@code /callback}.
 * The seed polls on a once-a-minute cron, so this test waits up to about a minute for it.
 */
class SeedNodeWorkerIT {

    private static final String SCRIPT = """
            import json, sys
            job = json.loads(sys.argv[1])
            print("training", job["projectName"])
            print(json.dumps({"status": 200, "jobId": job["_id"], "loss": 0.25, "metric": 0.5,
                              "assignmentId": job.get("assignmentId"),
                              "sawCallbackAddress": job.get("callbackAddress")}))
            """;

    @TempDir
    Path dir;

    @Test
    void theSeedsNodeWorkerRunsAJobEndToEnd() throws Exception {
        Path worker = copySeedWorker();
        run(worker, Duration.ofMinutes(5), "npm", "ci", "--no-audit", "--no-fund");
        try (ServerSocket probe = new ServerSocket(3000)) {
            // server.js listens on port 3000, hard-coded in the seed: it must be free.
        }

        try (JarProcess boss = JarProcess.start(JarProcess.jar("boss.jar"), dir.resolve("boss.log"),
                Map.of("BOSS_STORE_DATA_DIR", dir.resolve("data").toString()))) {
            Files.createDirectories(worker.resolve("python-scripts"));
            Files.writeString(worker.resolve("python-scripts/worker-node-configure.json"),
                    HttpJson.json(Map.of("bossAddress", boss.url(), "nodeName", "seed-node")));
            Files.writeString(worker.resolve("python-scripts/seed_echo.py"), SCRIPT);

            HttpJson client = new HttpJson(boss.url());
            JsonNode created = client.post("/job/create", Map.of("scriptName", "seed_echo.py", "projectName",
                    "seed", "depedentVariable", "proline")).json();
            String jobId = created.get("jobId").asString();

            Process node = new ProcessBuilder("node", "server.js").directory(worker.toFile())
                    .redirectErrorStream(true).redirectOutput(dir.resolve("node.log").toFile()).start();
            try {
                JsonNode detail = awaitDone(client, jobId, Duration.ofSeconds(150));
                assertThat(detail.get("order").get("status").asString()).as(Files.readString(dir.resolve("node.log")))
                        .isEqualTo("done");
                JsonNode outcome = detail.get("outcome");
                assertThat(outcome.get("status").asInt()).isEqualTo(200);
                assertThat(outcome.get("loss").asDouble()).isEqualTo(0.25);
                assertThat(outcome.get("metric").asDouble()).isEqualTo(0.5);
                assertThat(outcome.get("orderId").asString()).isEqualTo(created.get("orderId").asString());
                assertThat(outcome.get("node").asString()).isEqualTo("seed-node");
                assertThat(outcome.get("details").get("sawCallbackAddress").asString()).isEqualTo(boss.url());
            } finally {
                node.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            }
        }
    }

    private Path copySeedWorker() throws IOException {
        Path source = Path.of(System.getProperty("seed.worker.dir"));
        Path target = dir.resolve("seed-worker");
        try (Stream<Path> files = Files.walk(source)) {
            for (Path file : (Iterable<Path>) files.filter(p -> !p.toString().contains("node_modules"))::iterator) {
                Path copy = target.resolve(source.relativize(file).toString());
                if (Files.isDirectory(file)) {
                    Files.createDirectories(copy);
                } else {
                    Files.copy(file, copy);
                }
            }
        }
        return target;
    }

    private void run(Path cwd, Duration timeout, String... command) throws IOException, InterruptedException {
        Path log = dir.resolve("npm.log");
        Process process = new ProcessBuilder(command).directory(cwd.toFile()).redirectErrorStream(true)
                .redirectOutput(log.toFile()).start();
        if (!process.waitFor(timeout.toSeconds(), TimeUnit.SECONDS)) {
            process.destroyForcibly();
            throw new IllegalStateException(String.join(" ", command) + " timed out: " + Files.readString(log));
        }
        assertThat(process.exitValue()).as(Files.readString(log)).isZero();
    }

    private static JsonNode awaitDone(HttpJson client, String jobId, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        JsonNode detail = client.get("/jobs/" + jobId).json();
        while (System.nanoTime() < deadline && !detail.get("order").get("status").asString().equals("done")) {
            Thread.sleep(500);
            detail = client.get("/jobs/" + jobId).json();
        }
        return detail;
    }
}
