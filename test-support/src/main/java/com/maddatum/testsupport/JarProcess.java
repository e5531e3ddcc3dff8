package com.maddatum.testsupport;

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
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * A packaged Spring Boot jar as a separate OS process, on a free port, with its output appended to a
 * log file. It can be stopped politely (SIGTERM), or killed like a crash or a lost machine (SIGKILL to
 * the JVM and every process it started). Close it in a finally block or try-with-resources.
 */
public final class JarProcess implements AutoCloseable {

    private final Path jar;
    private final Path log;
    private final Map<String, String> env;
    private final int port;
    private final List<String> jvmFlags;
    private Process process;

    private JarProcess(Path jar, Path log, Map<String, String> env, int port, List<String> jvmFlags) {
        this.jar = jar;
        this.log = log;
        this.env = env;
        this.port = port;
        this.jvmFlags = jvmFlags;
    }

    /** The jar named by a system property (set by failsafe), failing clearly when it was not built. */
    public static Path jar(String property) {
        String value = System.getProperty(property);
        if (value == null || !Files.isRegularFile(Path.of(value))) {
            throw new IllegalStateException("system property " + property + " (" + value
                    + ") does not name a built jar: run `mvn verify` from the repository root");
        }
        return Path.of(value);
    }

    /**
     * The JVM flags tests start the jars with: a small heap, and the client compiler only (C1), which starts
     * a short-lived service fastest. Not how the images run them (see {@link #DEPLOYED}).
     */
    public static final List<String> TEST_FLAGS = List.of("-Xmx384m", "-XX:TieredStopAtLevel=1");
    /**
     * As the Dockerfiles run them, but for the heap, kept at the tests' size: both compilers (C1, then C2 for
     * what runs hot), which is what a throughput or latency figure is about.
     */
    public static final List<String> DEPLOYED = List.of("-Xmx384m");

    /** Starts the jar with SERVER_PORT set to a free port plus {@code env}, and waits for its health. */
    public static JarProcess start(Path jar, Path log, Map<String, String> env) throws IOException, InterruptedException {
        return start(jar, log, env, TEST_FLAGS);
    }

    /** As {@link #start(Path, Path, Map)}, with these JVM flags. */
    public static JarProcess start(Path jar, Path log, Map<String, String> env, List<String> jvmFlags)
            throws IOException, InterruptedException {
        JarProcess started = new JarProcess(jar, log, new LinkedHashMap<>(env), freePort(), List.copyOf(jvmFlags));
        started.launch();
        return started;
    }

    /** Starts it again on the same port, with the same settings (after a kill, say). */
    public JarProcess restart() throws IOException, InterruptedException {
        close();
        launch();
        return this;
    }

    private void launch() throws IOException, InterruptedException {
        List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString()));
        command.addAll(jvmFlags);
        command.addAll(List.of("-jar", jar.toString()));
        ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
        builder.environment().putAll(env);
        builder.environment().put("SERVER_PORT", Integer.toString(port));
        if (!env.containsKey("MANAGEMENT_SERVER_PORT")) {
            // A service with a management port of its own (the Worker's) serves health and metrics on
            // the one port tests know, unless the caller asks for it apart.
            builder.environment().put("MANAGEMENT_SERVER_PORT", Integer.toString(port));
        }
        process = builder.start();
        awaitHealthy(Duration.ofSeconds(120));
    }

    public String url() {
        return "http://127.0.0.1:" + port;
    }

    public long pid() {
        return process.pid();
    }

    public boolean isAlive() {
        return process != null && process.isAlive();
    }

    public String log() throws IOException {
        return Files.readString(log);
    }

    /** SIGKILL to the JVM and everything it started: a crash, the OOM killer, a machine that died. */
    public void kill9() throws InterruptedException {
        List<ProcessHandle> tree = process.descendants().toList();
        process.destroyForcibly();
        tree.forEach(ProcessHandle::destroyForcibly);
        process.waitFor();
        for (ProcessHandle child : tree) {
            child.onExit().orTimeout(10, TimeUnit.SECONDS).exceptionally(t -> child).join();
        }
    }

    /** SIGTERM, and wait for the JVM's shutdown to finish. */
    public int sigterm(Duration patience) throws InterruptedException {
        process.destroy();
        if (!process.waitFor(patience.toMillis(), TimeUnit.MILLISECONDS)) {
            throw new IllegalStateException("still running " + patience + " after SIGTERM");
        }
        return process.exitValue();
    }

    @Override
    public void close() throws InterruptedException {
        if (process != null && process.isAlive()) {
            List<ProcessHandle> tree = process.descendants().toList();
            process.destroy();
            if (!process.waitFor(30, TimeUnit.SECONDS)) {
                process.destroyForcibly().waitFor();
            }
            tree.forEach(ProcessHandle::destroyForcibly);
        }
    }

    private void awaitHealthy(Duration timeout) throws InterruptedException, IOException {
        HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(1)).build();
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            if (!process.isAlive()) {
                throw new IllegalStateException(jar.getFileName() + " exited with " + process.exitValue() + "; log:\n" + log());
            }
            try {
                HttpResponse<Void> health = http.send(HttpRequest.newBuilder(URI.create(url() + "/actuator/health"))
                        .timeout(Duration.ofSeconds(2)).build(), HttpResponse.BodyHandlers.discarding());
                if (health.statusCode() == 200) {
                    return;
                }
            } catch (IOException notYet) {
                // still starting
            }
            Thread.sleep(200);
        }
        throw new IllegalStateException(jar.getFileName() + " was not healthy within " + timeout + "; log:\n" + log());
    }

    private static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0)) {
            return socket.getLocalPort();
        }
    }
}
