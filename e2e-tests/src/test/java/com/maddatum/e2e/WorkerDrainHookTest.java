package com.maddatum.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.IntFunction;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * deploy/k8s/worker-drain.sh, the Worker pods' preStop, run with sh and curl against a stand-in Boss:
 * what it asks for, with which token, and that every way it ends is bounded and ends in exit 0 (the
 * Worker's own shutdown follows it either way).
 */
class WorkerDrainHookTest {

    private static final Path SCRIPT = Path.of(System.getProperty("repo.dir", "..")).toAbsolutePath().normalize()
            .resolve("deploy/k8s/worker-drain.sh");
    private static final String NODE = "worker-gpu-5d8f7c9b4-x2x7q";
    private static final String TOKEN = "0123456789abcdef0123456789abcdef-worker";

    private final List<String> requests = new CopyOnWriteArrayList<>();
    private final List<String> authorizations = new CopyOnWriteArrayList<>();
    private final List<String> bodies = new CopyOnWriteArrayList<>();
    private HttpServer boss;

    private record Ran(int exit, String output, Duration took) {}

    @BeforeAll
    static void curlIsInstalled() throws Exception {
        boolean found;
        try {
            found = new ProcessBuilder("curl", "--version").start().waitFor() == 0;
        } catch (IOException missing) {
            found = false;
        }
        if (!found) {
            if ("true".equals(System.getenv("CI"))) {
                fail("no curl on PATH; test.sh installs it");
            }
            Assumptions.abort("no curl on PATH");
        }
    }

    @AfterEach
    void stop() {
        if (boss != null) {
            boss.stop(0);
        }
    }

    @Test
    void drainsItsOwnNodeWithItsTokenThenWaitsUntilTheBossSaysDrained(@TempDir Path dir) throws Exception {
        AtomicInteger reads = new AtomicInteger();
        start(200, n -> reads.incrementAndGet() < 3
                ? "{\"name\":\"" + NODE + "\",\"state\":\"draining\",\"slots\":[{\"state\":\"drained\"}]}"
                : "{\"name\":\"" + NODE + "\",\"state\":\"drained\"}");

        Ran ran = drain(dir, Map.of());

        assertThat(ran.exit()).as(ran.output()).isZero();
        assertThat(ran.output()).contains(NODE + " is drained");
        assertThat(requests).containsExactly("POST /workers/" + NODE + "/drain", "GET /workers/" + NODE,
                "GET /workers/" + NODE, "GET /workers/" + NODE);
        assertThat(authorizations).containsOnly("Bearer " + TOKEN);
        assertThat(bodies.get(0)).contains("\"reason\"");
    }

    /** Quarantine outranks drained in the node's state: for it, nothing left running is what drained means. */
    @Test
    void aQuarantinedNodeIsDoneOnceItRunsNothing(@TempDir Path dir) throws Exception {
        AtomicInteger reads = new AtomicInteger();
        start(200, n -> reads.incrementAndGet() < 2
                ? "{\"state\":\"quarantined\",\"currentOrders\":[\"o1\"]}"
                : "{\"state\":\"quarantined\",\"currentOrders\":[]}");

        Ran ran = drain(dir, Map.of("DRAIN_POLL_SECONDS", "0"));

        assertThat(ran.exit()).as(ran.output()).isZero();
        assertThat(ran.output()).contains(NODE + " is drained");
        assertThat(requests).filteredOn(r -> r.startsWith("GET")).hasSize(2);
    }

    @Test
    void givesUpAfterItsWaitWhileAJobStillRuns(@TempDir Path dir) throws Exception {
        start(200, n -> "{\"state\":\"draining\"}");

        Ran ran = drain(dir, Map.of("DRAIN_WAIT_SECONDS", "2"));

        assertThat(ran.exit()).as(ran.output()).isZero();
        assertThat(ran.output()).contains("still draining after 2s");
        assertThat(ran.took()).isGreaterThanOrEqualTo(Duration.ofSeconds(1)).isLessThan(Duration.ofSeconds(10));
        assertThat(requests).filteredOn(r -> r.startsWith("GET")).hasSizeGreaterThan(1);
    }

    @Test
    void stopsAtOnceWhenTheBossRefusesTheTokenOrDoesNotKnowTheNode(@TempDir Path dir) throws Exception {
        start(403, n -> "{}");
        Ran refused = drain(dir, Map.of());
        assertThat(refused.exit()).isZero();
        assertThat(refused.output()).contains("refused the token (HTTP 403)");
        stop();
        requests.clear();

        start(404, n -> "{}");
        Ran unknown = drain(dir, Map.of());
        assertThat(unknown.exit()).isZero();
        assertThat(unknown.output()).contains("does not know " + NODE);
        assertThat(requests).containsExactly("POST /workers/" + NODE + "/drain");
    }

    @Test
    void leavesItToTheWorkersShutdownWhenNoBossAnswers(@TempDir Path dir) throws Exception {
        start(200, n -> "{}");
        int port = boss.getAddress().getPort();
        stop();
        boss = null;

        Ran ran = drain(dir, Map.of("WORKER_BOSS_URL", "http://127.0.0.1:" + port, "DRAIN_ASK_SECONDS", "1"));

        assertThat(ran.exit()).isZero();
        assertThat(ran.output()).contains("no answer from the Boss (last HTTP 000)");
        assertThat(ran.took()).isLessThan(Duration.ofSeconds(10));
    }

    /** A Boss answering the drain with {@code drainStatus} and each read of the node with {@code node}. */
    private void start(int drainStatus, IntFunction<String> node) throws IOException {
        AtomicInteger count = new AtomicInteger();
        boss = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        boss.createContext("/workers/", exchange -> {
            requests.add(exchange.getRequestMethod() + " " + exchange.getRequestURI().getPath());
            authorizations.add(exchange.getRequestHeaders().getFirst("Authorization"));
            bodies.add(new String(exchange.getRequestBody().readAllBytes(), StandardCharsets.UTF_8));
            if ("POST".equals(exchange.getRequestMethod())) {
                reply(exchange, drainStatus, "{\"state\":\"draining\"}");
            } else {
                reply(exchange, 200, node.apply(count.incrementAndGet()));
            }
        });
        boss.start();
    }

    private static void reply(HttpExchange exchange, int status, String body) throws IOException {
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        exchange.getResponseHeaders().set("Content-Type", "application/json");
        exchange.sendResponseHeaders(status, bytes.length);
        exchange.getResponseBody().write(bytes);
        exchange.close();
    }

    private Ran drain(Path dir, Map<String, String> extra) throws Exception {
        Path tokenFile = Files.writeString(dir.resolve("token"), TOKEN);
        ProcessBuilder builder = new ProcessBuilder("sh", SCRIPT.toString()).redirectErrorStream(true);
        Map<String, String> env = builder.environment();
        env.keySet().removeIf(k -> k.startsWith("WORKER_") || k.startsWith("DRAIN_"));
        if (boss != null) {
            env.put("WORKER_BOSS_URL", "http://127.0.0.1:" + boss.getAddress().getPort() + "/");
        }
        env.put("WORKER_NODE_NAME", NODE);
        env.put("WORKER_TOKEN_FILE", tokenFile.toString());
        env.put("DRAIN_POLL_SECONDS", "0.2");
        if (Files.isExecutable(Path.of("/usr/bin/python3"))) {
            env.put("WORKER_PYTHON", "/usr/bin/python3");
        }
        env.putAll(extra);
        long began = System.nanoTime();
        Process process = builder.start();
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(process.waitFor(30, TimeUnit.SECONDS)).as(output).isTrue();
        return new Ran(process.exitValue(), output, Duration.ofNanos(System.nanoTime() - began));
    }
}
