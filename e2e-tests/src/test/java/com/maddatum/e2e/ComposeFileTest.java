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

    /** The variables compose requires; METRICS_TOKEN may be left out. */
    private static final Map<String, String> TOKENS = Map.of("SUBMITTER_TOKEN", "s", "WORKER_TOKEN", "w",
            "OPERATOR_TOKEN", "o");

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
        return runIn(REPO, command, env);
    }

    private static Result runIn(Path dir, List<String> command) throws Exception {
        return runIn(dir, command, Map.of());
    }

    private static Result runIn(Path dir, List<String> command, Map<String, String> env) throws Exception {
        ProcessBuilder builder = new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true);
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
        Map<String, String> tokens = TOKENS;
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
        Map<String, String> noOperator = new java.util.HashMap<>(TOKENS);
        noOperator.remove("OPERATOR_TOKEN");
        Result withoutOperator = config(noOperator);
        assertThat(withoutOperator.exit()).isNotZero();
        assertThat(withoutOperator.output()).contains("OPERATOR_TOKEN");
    }

    /** Every token in the sample is one the Boss's TokenPolicy refuses ("change-me"), or empty. */
    @Test
    void theEnvExampleNamesEveryVariableTheComposeFileNeedsWithValuesTheBossRefuses() throws Exception {
        Map<String, String> example = envFile(Files.readString(REPO.resolve(".env.example")));
        assertThat(example).containsKeys("SUBMITTER_TOKEN", "WORKER_TOKEN", "OPERATOR_TOKEN", "METRICS_TOKEN", "BOSS_PORT");
        example.forEach((key, value) -> {
            if (key.endsWith("_TOKEN")) {
                assertThat(value).as(key).matches("|change-me.*");
            }
        });
    }

    /** The Boss gets every role's tokens, reports ready through Actuator, and Workers start after that. */
    @Test
    @SuppressWarnings("unchecked")
    void theBossHasAHealthCheckAndWorkersStartOnceItIsHealthy() throws Exception {
        Result resolved = run(concat(compose(), "--profile", "gpu", "config"), TOKENS);
        assertThat(resolved.exit()).as(resolved.output()).isZero();
        Map<String, Object> services = (Map<String, Object>) ((Map<String, Object>)
                new org.yaml.snakeyaml.Yaml().load(resolved.output())).get("services");
        Map<String, Object> boss = (Map<String, Object>) services.get("boss");
        assertThat((Map<String, Object>) boss.get("environment"))
                .containsEntry("BOSS_SECURITY_SUBMITTER_TOKENS", "s")
                .containsEntry("BOSS_SECURITY_WORKER_TOKENS", "w")
                .containsEntry("BOSS_SECURITY_OPERATOR_TOKENS", "o")
                .containsKey("BOSS_SECURITY_METRICS_TOKENS");
        Map<String, Object> health = (Map<String, Object>) boss.get("healthcheck");
        assertThat(health).as("boss healthcheck").isNotNull();
        assertThat(String.join(" ", (List<String>) health.get("test")))
                .startsWith("CMD wget").contains("http://127.0.0.1:8080/actuator/health/readiness");
        // The Boss image (eclipse-temurin) has the wget the check runs.
        assertThat(Files.readString(REPO.resolve("boss-service/Dockerfile"))).contains("FROM eclipse-temurin:17-jre");
        for (String name : List.of("worker", "worker-gpu")) {
            Map<String, Object> dependsOn = (Map<String, Object>) ((Map<String, Object>) services.get(name)).get("depends_on");
            assertThat((Map<String, Object>) dependsOn.get("boss")).as(name + " depends_on boss")
                    .containsEntry("condition", "service_healthy");
        }
    }

    /**
     * compose-env.sh, run on a copy so the repository's own .env is untouched: random tokens long enough
     * for the Boss, all different, a file only its owner reads, that compose accepts, and never replaced
     * by accident.
     */
    @Test
    void composeEnvWritesRandomTokensOnceAndOnlyReplacesThemWithForce(@org.junit.jupiter.api.io.TempDir Path dir)
            throws Exception {
        Path script = Files.copy(REPO.resolve("compose-env.sh"), dir.resolve("compose-env.sh"));
        Result first = runIn(dir, List.of("sh", script.toString()));
        assertThat(first.exit()).as(first.output()).isZero();
        Path env = dir.resolve(".env");
        Map<String, String> written = envFile(Files.readString(env));
        List<String> tokens = List.of("SUBMITTER_TOKEN", "WORKER_TOKEN", "OPERATOR_TOKEN", "METRICS_TOKEN");
        for (String key : tokens) {
            assertThat(written.get(key)).as(key).matches("[0-9a-f]{64}");
        }
        assertThat(tokens.stream().map(written::get).distinct()).hasSize(tokens.size());
        assertThat(java.nio.file.Files.getPosixFilePermissions(env))
                .isEqualTo(java.nio.file.attribute.PosixFilePermissions.fromString("rw-------"));
        assertThat(Files.readString(dir.resolve("worker_token"))).isEqualTo(written.get("WORKER_TOKEN"));
        try (var left = Files.list(dir)) {
            assertThat(left.map(p -> p.getFileName().toString())).containsExactlyInAnyOrder(
                    "compose-env.sh", ".env", "worker_token");
        }

        Map<String, String> forCompose = new java.util.HashMap<>(written);
        forCompose.remove("BOSS_PORT");
        Result valid = config(forCompose);
        assertThat(valid.exit()).as(valid.output()).isZero();

        Result again = runIn(dir, List.of("sh", script.toString()));
        assertThat(again.exit()).isNotZero();
        assertThat(again.output()).contains("--force");
        assertThat(envFile(Files.readString(env))).isEqualTo(written);

        Result forced = runIn(dir, List.of("sh", script.toString(), "--force"));
        assertThat(forced.exit()).as(forced.output()).isZero();
        Map<String, String> replaced = envFile(Files.readString(env));
        for (String key : tokens) {
            assertThat(replaced.get(key)).as(key).matches("[0-9a-f]{64}").isNotEqualTo(written.get(key));
        }
    }

    /** The worker services as Compose resolves them, and the Worker's own defaults from its application.yml. */
    @Test
    @SuppressWarnings("unchecked")
    void workersRunUnderAnInitHandEveryOrderBackBeforeComposeKillsThemAndKeepTheirSpool() throws Exception {
        Result resolved = run(concat(compose(), "--profile", "gpu", "config"),
                TOKENS);
        assertThat(resolved.exit()).as(resolved.output()).isZero();
        Map<String, Object> file = new org.yaml.snakeyaml.Yaml().load(resolved.output());
        // The Worker's own bound from SIGTERM to exit, for its default settings (Docker's default is 10 s).
        java.time.Duration budget = WorkerShutdownBudget.forDefaults(REPO);
        Map<String, Object> services = (Map<String, Object>) file.get("services");
        for (String name : List.of("worker", "worker-gpu")) {
            Map<String, Object> service = (Map<String, Object>) services.get(name);
            assertThat(service.get("init")).as(name + " init").isEqualTo(true);
            java.time.Duration stop = WorkerShutdownBudget.goDuration(String.valueOf(service.get("stop_grace_period")));
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
                "--profile", "gpu", "config"), TOKENS);
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
        Result resolved = run(concat(compose(), "config"), TOKENS);
        assertThat(resolved.exit()).as(resolved.output()).isZero();
        Map<String, Object> boss = (Map<String, Object>) ((Map<String, Object>) ((Map<String, Object>)
                new org.yaml.snakeyaml.Yaml().load(resolved.output())).get("services")).get("boss");
        String uri = String.valueOf(((Map<String, Object>) boss.get("environment")).get("SPRING_MONGODB_URI"));
        com.mongodb.ConnectionString parsed = new com.mongodb.ConnectionString(uri);
        assertThat(parsed.getWriteConcern()).isNotNull();
        assertThat(parsed.getWriteConcern().getWString()).isEqualTo("majority");
        assertThat(parsed.getWriteConcern().getJournal()).isTrue();
    }

    /** KEY=value lines; comments and blank lines skipped. */
    private static Map<String, String> envFile(String text) {
        Map<String, String> entries = new java.util.LinkedHashMap<>();
        for (String line : text.split("\\R")) {
            int eq = line.indexOf('=');
            if (!line.isBlank() && !line.startsWith("#") && eq > 0) {
                entries.put(line.substring(0, eq).strip(), line.substring(eq + 1).strip());
            }
        }
        return entries;
    }

    private static List<String> concat(List<String> head, String... tail) {
        List<String> all = new ArrayList<>(head);
        all.addAll(List.of(tail));
        return all;
    }
}
