package com.maddatum.boss.support;

import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** The packaged Boss jar as a separate OS process, for tests that kill it the hard way. */
public final class BossProcess implements AutoCloseable {

    private final Path jar;
    private final Path dataDir;
    private final Path log;
    private final Map<String, String> env;
    private Process process;
    private int port;

    public BossProcess(Path dataDir, Path log, Map<String, String> env) {
        String jarPath = System.getProperty("boss.jar");
        if (jarPath == null) {
            throw new IllegalStateException("system property boss.jar is unset; run through mvn verify");
        }
        this.jar = Path.of(jarPath);
        this.dataDir = dataDir;
        this.log = log;
        this.env = env;
    }

    /** Starts the Boss on a free port and waits until its health is UP. */
    public BossProcess start() throws IOException, InterruptedException {
        port = freePort();
        List<String> command = new ArrayList<>(List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-Xmx512m", "-jar", jar.toString()));
        ProcessBuilder builder = new ProcessBuilder(command)
                .redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
        builder.environment().put("SERVER_PORT", Integer.toString(port));
        builder.environment().put("BOSS_STORE_DATA_DIR", dataDir.toString());
        builder.environment().putAll(env);
        process = builder.start();
        awaitHealthy(Duration.ofSeconds(90));
        return this;
    }

    public String url() {
        return "http://127.0.0.1:" + port;
    }

    /** SIGKILL: no shutdown hooks, no flush, exactly like a crash or the OOM killer. */
    public void kill9() throws InterruptedException {
        process.destroyForcibly();
        process.waitFor();
    }

    @Override
    public void close() throws InterruptedException {
        if (process != null && process.isAlive()) {
            process.destroy();
            if (!process.waitFor(20, java.util.concurrent.TimeUnit.SECONDS)) {
                process.destroyForcibly().waitFor();
            }
        }
    }

    private void awaitHealthy(Duration timeout) throws InterruptedException, IOException {
        HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(1)).build();
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            if (!process.isAlive()) {
                throw new IllegalStateException("Boss exited with " + process.exitValue() + "; log:\n" + Files.readString(log));
            }
            try {
                HttpResponse<String> health = http.send(HttpRequest.newBuilder(URI.create(url() + "/actuator/health"))
                        .timeout(Duration.ofSeconds(2)).build(), HttpResponse.BodyHandlers.ofString());
                if (health.statusCode() == 200) {
                    return;
                }
            } catch (IOException notYet) {
                // still starting
            }
            Thread.sleep(200);
        }
        throw new IllegalStateException("Boss did not become healthy in " + timeout + "; log:\n" + Files.readString(log));
    }

    private static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0)) {
            return socket.getLocalPort();
        }
    }
}
