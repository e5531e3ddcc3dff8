package com.maddatum.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * No Docker engine runs on our machines, but Compose can still validate the file offline. The test
 * uses Debian's docker-compose (v1), or `docker compose` (v2) where that is what the machine has.
 */
class ComposeFileTest {

    private static final Path REPO = Path.of(System.getProperty("repo.dir", "..")).toAbsolutePath().normalize();

    private record Result(int exit, String output) {}

    private static List<String> compose() throws Exception {
        if (run(List.of("docker-compose", "version"), Map.of()).exit() == 0) {
            return List.of("docker-compose");
        }
        if (run(List.of("docker", "compose", "version"), Map.of()).exit() == 0) {
            return List.of("docker", "compose");
        }
        throw new IllegalStateException("neither docker-compose nor `docker compose` is installed; "
                + ".ci/run installs Debian's docker-compose with --no-install-recommends");
    }

    private static Result run(List<String> command, Map<String, String> env) throws Exception {
        ProcessBuilder builder = new ProcessBuilder(command).directory(REPO.toFile()).redirectErrorStream(true);
        builder.environment().keySet().removeIf(k -> k.endsWith("_TOKEN"));
        builder.environment().putAll(env);
        try {
            Process process = builder.start();
            String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            process.waitFor(60, TimeUnit.SECONDS);
            return new Result(process.exitValue(), output);
        } catch (IOException notInstalled) {
            return new Result(127, notInstalled.getMessage());
        }
    }

    private static Result config(Map<String, String> env, String... extra) throws Exception {
        List<String> command = new ArrayList<>(compose());
        command.addAll(List.of(extra));
        command.addAll(List.of("config", "-q"));
        return run(command, env);
    }

    @Test
    void theComposeFileIsValidWithTokensAndWithTheGpuProfile() throws Exception {
        Map<String, String> tokens = Map.of("SUBMITTER_TOKEN", "s", "WORKER_TOKEN", "w");
        Result plain = config(tokens);
        assertThat(plain.exit()).as(plain.output()).isZero();
        Result gpu = config(tokens, "--profile", "gpu");
        assertThat(gpu.exit()).as(gpu.output()).isZero();
    }

    @Test
    void theComposeFileRefusesToStartWithoutTokens() throws Exception {
        Result missing = config(Map.of());
        assertThat(missing.exit()).isNotZero();
        assertThat(missing.output()).contains("SUBMITTER_TOKEN");
    }

    @Test
    void theEnvExampleNamesEveryVariableTheComposeFileNeeds() throws Exception {
        String example = Files.readString(REPO.resolve(".env.example"));
        for (String variable : List.of("SUBMITTER_TOKEN", "WORKER_TOKEN", "BOSS_PORT")) {
            assertThat(example).contains(variable + "=");
        }
    }

    /** The worker services as Compose resolves them, and the Worker's own defaults from its application.yml. */
    @Test
    @SuppressWarnings("unchecked")
    void workersRunUnderAnInitHandEveryOrderBackBeforeComposeKillsThemAndKeepTheirSpool() throws Exception {
        Result resolved = run(concat(compose(), "--profile", "gpu", "config"),
                Map.of("SUBMITTER_TOKEN", "s", "WORKER_TOKEN", "w"));
        assertThat(resolved.exit()).as(resolved.output()).isZero();
        Map<String, Object> file = new org.yaml.snakeyaml.Yaml().load(resolved.output());
        Map<String, Object> yml = new org.yaml.snakeyaml.Yaml()
                .load(Files.readString(REPO.resolve("worker-service/src/main/resources/application.yml")));
        Map<String, Object> worker = (Map<String, Object>) yml.get("worker");
        Map<String, Object> lifecycle = (Map<String, Object>) ((Map<String, Object>) yml.get("spring")).get("lifecycle");
        // The Worker's own bound from SIGTERM to exit, for its default settings (Docker's default is 10 s).
        java.time.Duration budget = shutdownBudget((String) worker.get("shutdown-grace"), (String) worker.get("kill-grace"),
                (String) lifecycle.get("timeout-per-shutdown-phase"));
        assertThat(budget).isGreaterThan(goDuration((String) worker.get("shutdown-grace")));
        Map<String, Object> services = (Map<String, Object>) file.get("services");
        for (String name : List.of("worker", "worker-gpu")) {
            Map<String, Object> service = (Map<String, Object>) services.get(name);
            assertThat(service.get("init")).as(name + " init").isEqualTo(true);
            java.time.Duration stop = goDuration(String.valueOf(service.get("stop_grace_period")));
            assertThat(stop).as(name + " stop_grace_period").isGreaterThanOrEqualTo(budget);
            assertThat((List<String>) service.get("volumes")).as(name + " volumes")
                    .anySatisfy(v -> assertThat(v).startsWith("worker-spool:/app/spool"));
        }
        assertThat((Map<String, Object>) file.get("volumes")).containsKey("worker-spool");
    }

    /** With the token-file override the workers' token is a secret file, and their environment holds none. */
    @Test
    @SuppressWarnings("unchecked")
    void withTheTokenFileOverrideWorkersReadTheirTokenFromASecretNotTheirEnvironment() throws Exception {
        Result resolved = run(concat(compose(), "-f", "docker-compose.yml", "-f", "docker-compose.token-file.yml",
                "--profile", "gpu", "config"), Map.of("SUBMITTER_TOKEN", "s", "WORKER_TOKEN", "w"));
        assertThat(resolved.exit()).as(resolved.output()).isZero();
        Map<String, Object> file = new org.yaml.snakeyaml.Yaml().load(resolved.output());
        Map<String, Object> services = (Map<String, Object>) file.get("services");
        for (String name : List.of("worker", "worker-gpu")) {
            Map<String, Object> service = (Map<String, Object>) services.get(name);
            Map<String, Object> env = (Map<String, Object>) service.get("environment");
            assertThat(env).as(name).containsEntry("WORKER_TOKEN_FILE", "/run/secrets/worker_token");
            assertThat(String.valueOf(env.get("WORKER_TOKEN"))).as(name + " WORKER_TOKEN").isIn("", "null");
            assertThat(String.valueOf(service.get("secrets"))).as(name + " secrets").contains("worker_token");
        }
        assertThat((Map<String, Object>) file.get("secrets")).containsKey("worker_token");
        // The Boss keeps the token it checks against.
        Map<String, Object> boss = (Map<String, Object>) ((Map<String, Object>) services.get("boss")).get("environment");
        assertThat(boss).containsEntry("BOSS_SECURITY_WORKER_TOKENS", "w");
    }

    /** The Boss's writes to MongoDB are acknowledged by a majority and journaled before it answers. */
    @Test
    @SuppressWarnings("unchecked")
    void theBossWritesWithMajorityAndJournal() throws Exception {
        Result resolved = run(concat(compose(), "config"), Map.of("SUBMITTER_TOKEN", "s", "WORKER_TOKEN", "w"));
        assertThat(resolved.exit()).as(resolved.output()).isZero();
        Map<String, Object> boss = (Map<String, Object>) ((Map<String, Object>) ((Map<String, Object>)
                new org.yaml.snakeyaml.Yaml().load(resolved.output())).get("services")).get("boss");
        String uri = String.valueOf(((Map<String, Object>) boss.get("environment")).get("SPRING_MONGODB_URI"));
        com.mongodb.ConnectionString parsed = new com.mongodb.ConnectionString(uri);
        assertThat(parsed.getWriteConcern()).isNotNull();
        assertThat(parsed.getWriteConcern().getWString()).isEqualTo("majority");
        assertThat(parsed.getWriteConcern().getJournal()).isTrue();
    }

    /** ShutdownBudget.total, computed by the packaged Worker's own code for these settings. */
    private static java.time.Duration shutdownBudget(String grace, String kill, String webShutdown) throws Exception {
        String jvm = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Result printed = run(List.of(jvm, "-Dloader.main=com.maddatum.worker.run.ShutdownBudget", "-cp",
                com.maddatum.testsupport.JarProcess.jar("worker.jar").toString(),
                "org.springframework.boot.loader.launch.PropertiesLauncher", grace, kill, webShutdown), Map.of());
        assertThat(printed.exit()).as(printed.output()).isZero();
        String[] lines = printed.output().strip().split("\\R");
        return java.time.Duration.ofSeconds(Long.parseLong(lines[lines.length - 1].strip()));
    }

    private static List<String> concat(List<String> head, String... tail) {
        List<String> all = new ArrayList<>(head);
        all.addAll(List.of(tail));
        return all;
    }

    /** "90s", "1m30s", "2h", as Compose writes durations. */
    static java.time.Duration goDuration(String text) {
        java.util.regex.Matcher part = java.util.regex.Pattern.compile("(\\d+)(h|ms|m|s)").matcher(text);
        java.time.Duration total = java.time.Duration.ZERO;
        int end = 0;
        while (part.find()) {
            long n = Long.parseLong(part.group(1));
            total = total.plus(switch (part.group(2)) {
                case "h" -> java.time.Duration.ofHours(n);
                case "m" -> java.time.Duration.ofMinutes(n);
                case "ms" -> java.time.Duration.ofMillis(n);
                default -> java.time.Duration.ofSeconds(n);
            });
            end = part.end();
        }
        if (end != text.length() || text.isEmpty()) {
            throw new IllegalArgumentException("not a duration: " + text);
        }
        return total;
    }
}
