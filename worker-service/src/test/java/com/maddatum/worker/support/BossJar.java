package com.maddatum.worker.support;

import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import tools.jackson.databind.JsonNode;

/**
 * The Boss's packaged jar (built earlier in the reactor) as an OS process on a free port with its
 * own data directory, plus the few calls the Worker's end-to-end tests make as a person would.
 * The Worker does not depend on the Boss's code; this is how it meets the real thing.
 */
public final class BossJar implements AutoCloseable {

    private final Process process;
    private final Path log;
    private final String url;
    private final HttpClient http = HttpClient.newHttpClient();

    private BossJar(Process process, Path log, String url) {
        this.process = process;
        this.log = log;
        this.url = url;
    }

    public static BossJar start(Path dir, Map<String, String> env) throws IOException, InterruptedException {
        Path jar = Path.of(System.getProperty("boss.jar", "../boss-service/target/boss-service.jar"));
        if (!Files.isRegularFile(jar)) {
            throw new IllegalStateException(jar.toAbsolutePath() + " is missing: build boss-service first (mvn verify from the root)");
        }
        int port;
        try (ServerSocket socket = new ServerSocket(0)) {
            port = socket.getLocalPort();
        }
        Path log = dir.resolve("boss.log");
        ProcessBuilder builder = new ProcessBuilder(List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-Xmx512m", "-jar", jar.toString()))
                .redirectErrorStream(true).redirectOutput(log.toFile());
        builder.environment().put("SERVER_PORT", Integer.toString(port));
        builder.environment().put("BOSS_STORE_DATA_DIR", dir.resolve("boss-data").toString());
        builder.environment().putAll(env);
        BossJar boss = new BossJar(builder.start(), log, "http://127.0.0.1:" + port);
        boss.awaitHealthy();
        return boss;
    }

    public String url() {
        return url;
    }

    public JsonNode post(String path, Object body) {
        return send(HttpRequest.newBuilder(URI.create(url + path)).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(TestSettings.JSON.writeValueAsString(body))).build());
    }

    public JsonNode get(String path) {
        return send(HttpRequest.newBuilder(URI.create(url + path)).GET().build());
    }

    private JsonNode send(HttpRequest request) {
        try {
            String body = http.send(request, HttpResponse.BodyHandlers.ofString()).body();
            return TestSettings.JSON.readTree(body.isEmpty() ? "{}" : body);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /** Polls (bounded) until the job's order reaches {@code status}; returns the job detail. */
    public JsonNode awaitStatus(String jobId, String status, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        JsonNode detail = get("/jobs/" + jobId);
        while (!status.equals(detail.path("order").path("status").asString()) && System.nanoTime() < deadline) {
            Thread.sleep(100);
            detail = get("/jobs/" + jobId);
        }
        return detail;
    }

    private void awaitHealthy() throws InterruptedException, IOException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
        while (System.nanoTime() < deadline) {
            if (!process.isAlive()) {
                throw new IllegalStateException("the Boss exited: " + Files.readString(log));
            }
            try {
                if (http.send(HttpRequest.newBuilder(URI.create(url + "/actuator/health")).build(),
                        HttpResponse.BodyHandlers.discarding()).statusCode() == 200) {
                    return;
                }
            } catch (IOException starting) {
                // not listening yet
            }
            Thread.sleep(200);
        }
        throw new IllegalStateException("the Boss did not start: " + Files.readString(log));
    }

    @Override
    public void close() throws InterruptedException {
        process.destroy();
        if (!process.waitFor(20, TimeUnit.SECONDS)) {
            process.destroyForcibly().waitFor();
        }
    }
}
