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
}
