package com.maddatum.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.yaml.snakeyaml.Yaml;

/**
 * The Worker's longest way from SIGTERM to exit for its default settings, as the packaged Worker's own
 * {@code run/ShutdownBudget} computes it: what compose's stop_grace_period and a pod's
 * terminationGracePeriodSeconds must cover.
 */
final class WorkerShutdownBudget {

    private WorkerShutdownBudget() {
    }

    /** The settings in worker-service's application.yml: shutdown-grace, kill-grace, the web server's phase. */
    @SuppressWarnings("unchecked")
    static Duration forDefaults(Path repo) throws Exception {
        Map<String, Object> yml = new Yaml()
                .load(Files.readString(repo.resolve("worker-service/src/main/resources/application.yml")));
        Map<String, Object> worker = (Map<String, Object>) yml.get("worker");
        Map<String, Object> lifecycle = (Map<String, Object>) ((Map<String, Object>) yml.get("spring")).get("lifecycle");
        Duration budget = of((String) worker.get("shutdown-grace"), (String) worker.get("kill-grace"),
                (String) lifecycle.get("timeout-per-shutdown-phase"));
        assertThat(budget).isGreaterThan(goDuration((String) worker.get("shutdown-grace")));
        return budget;
    }

    /** ShutdownBudget.total, computed by the packaged Worker's own code for these settings. */
    static Duration of(String grace, String kill, String webShutdown) throws Exception {
        String jvm = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Process process = new ProcessBuilder(List.of(jvm, "-Dloader.main=com.maddatum.worker.run.ShutdownBudget", "-cp",
                com.maddatum.testsupport.JarProcess.jar("worker.jar").toString(),
                "org.springframework.boot.loader.launch.PropertiesLauncher", grace, kill, webShutdown))
                .redirectErrorStream(true).start();
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(process.waitFor(60, TimeUnit.SECONDS)).as(output).isTrue();
        assertThat(process.exitValue()).as(output).isZero();
        String[] lines = output.strip().split("\\R");
        return Duration.ofSeconds(Long.parseLong(lines[lines.length - 1].strip()));
    }

    /** "90s", "1m30s", "2h", as Compose and the Worker's yml write durations. */
    static Duration goDuration(String text) {
        Matcher part = Pattern.compile("(\\d+)(h|ms|m|s)").matcher(text);
        Duration total = Duration.ZERO;
        int end = 0;
        while (part.find()) {
            long n = Long.parseLong(part.group(1));
            total = total.plus(switch (part.group(2)) {
                case "h" -> Duration.ofHours(n);
                case "m" -> Duration.ofMinutes(n);
                case "ms" -> Duration.ofMillis(n);
                default -> Duration.ofSeconds(n);
            });
            end = part.end();
        }
        if (end != text.length() || text.isEmpty()) {
            throw new IllegalArgumentException("not a duration: " + text);
        }
        return total;
    }
}
