package com.maddatum.boss.security;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.maddatum.boss.BossApplication;
import com.maddatum.testsupport.HttpJson;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.boot.web.server.autoconfigure.ServerProperties;
import org.springframework.boot.web.server.context.WebServerApplicationContext;
import org.springframework.context.ConfigurableApplicationContext;

/** A Boss without tokens listens on loopback only, refuses to be exposed by accident, and refuses weak tokens. */
class StartupSafetyTest {

    static final String SUBMITTER = "s".repeat(8) + "0123456789abcdef0123456789abcdef";
    static final String WORKER = "w".repeat(8) + "0123456789abcdef0123456789abcdef";

    private static ConfigurableApplicationContext boss(String... args) throws Exception {
        List<String> all = new ArrayList<>(List.of("--server.port=0", "--logging.level.root=WARN",
                "--boss.store.data-dir=" + Files.createTempDirectory("boss-safety-")));
        all.addAll(List.of(args));
        return new SpringApplicationBuilder(BossApplication.class).run(all.toArray(String[]::new));
    }

    @Test
    void withoutTokensItBindsToLoopback() throws Exception {
        try (ConfigurableApplicationContext context = boss()) {
            assertThat(context.getEnvironment().getProperty("server.address")).isEqualTo("127.0.0.1");
        }
    }

    @Test
    void anEmptyServerAddressDoesNotBypassTheLoopbackRule() throws Exception {
        // SERVER_ADDRESS= in a compose file or a shell: no address, which would mean every interface.
        try (ConfigurableApplicationContext context = boss("--server.address=")) {
            assertThat(context.getBean(ServerProperties.class).getAddress().isLoopbackAddress()).isTrue();
        }
    }

    @Test
    void withoutTokensItRefusesAPublicAddress() {
        assertThatThrownBy(() -> boss("--server.address=0.0.0.0"))
                .hasStackTraceContaining("Refusing to listen on 0.0.0.0 with no tokens configured");
    }

    @Test
    void anonymousOnAPublicAddressMustBeAskedForExplicitly() throws Exception {
        try (ConfigurableApplicationContext context = boss("--server.address=0.0.0.0",
                "--boss.security.allow-anonymous=true")) {
            assertThat(context.isRunning()).isTrue();
        }
    }

    @Test
    void withTokensTheAddressIsLeftToTheOperator() throws Exception {
        try (ConfigurableApplicationContext context = boss("--boss.security.submitter-tokens=" + SUBMITTER,
                "--boss.security.worker-tokens=" + WORKER)) {
            assertThat(context.getEnvironment().getProperty("server.address")).isNull();
        }
    }

    @Test
    void aShortTokenIsRefusedWithHowToMakeAGoodOne() {
        assertThatThrownBy(() -> boss("--boss.security.submitter-tokens=" + SUBMITTER,
                "--boss.security.worker-tokens=" + WORKER + ",short-one"))
                .hasStackTraceContaining("boss.security.worker-tokens[1] is 9 characters long")
                .hasStackTraceContaining("openssl rand -hex 32")
                .satisfies(e -> assertThat(stackTrace(e)).doesNotContain("short-one"));
    }

    @Test
    void everyTokenInEnvExampleIsRefused() throws Exception {
        // Copying .env.example and starting compose must not give a Boss anyone can use.
        String example = Files.readString(Path.of("..", ".env.example"));
        Matcher tokens = Pattern.compile("(?m)^(\\w+_TOKEN)=(.*)$").matcher(example);
        int found = 0;
        while (tokens.find()) {
            String value = tokens.group(2).trim();
            if (value.isEmpty()) {
                continue; // an optional role left empty: no token at all, nothing anyone could use
            }
            found++;
            String padded = value + "-".repeat(Math.max(0, 40 - value.length()));
            for (String candidate : List.of(value, padded)) {
                assertThatThrownBy(() -> boss("--boss.security.submitter-tokens=" + candidate,
                        "--boss.security.worker-tokens=" + WORKER))
                        .as(tokens.group(1)).hasStackTraceContaining("boss.security.submitter-tokens[0]");
            }
        }
        assertThat(found).as("submitter, worker and operator samples").isEqualTo(3);
    }

    @Test
    void oneTokenForTwoRolesIsRefused() {
        assertThatThrownBy(() -> boss("--boss.security.submitter-tokens=" + SUBMITTER,
                "--boss.security.worker-tokens=" + SUBMITTER))
                .hasStackTraceContaining("the same token is configured twice");
    }

    @Test
    void behindAContextPathTheTableStillApplies() throws Exception {
        try (ConfigurableApplicationContext context = boss("--server.servlet.context-path=/api",
                "--boss.security.submitter-tokens=" + SUBMITTER, "--boss.security.worker-tokens=" + WORKER,
                "--server.address=127.0.0.1")) {
            int port = ((WebServerApplicationContext) context).getWebServer().getPort();
            HttpJson asWorker = new HttpJson("http://127.0.0.1:" + port, WORKER);
            HttpJson asSubmitter = new HttpJson("http://127.0.0.1:" + port, SUBMITTER);
            assertThat(asWorker.post("/api/job/create", Map.of("scriptName", "noop.py")).status()).isEqualTo(403);
            assertThat(asWorker.request("HEAD", "/api/jobs", null, null).status()).isEqualTo(403);
            String jobId = asSubmitter.post("/api/job/create", Map.of("scriptName", "noop.py")).json()
                    .get("jobId").asString();
            assertThat(asWorker.post("/api/jobs/" + jobId + "/cancel", "").status()).isEqualTo(403);
            assertThat(asSubmitter.get("/api/jobs/" + jobId).status()).isEqualTo(200);
            assertThat(new HttpJson("http://127.0.0.1:" + port).get("/api/actuator/health").status()).isEqualTo(200);
        }
    }

    @Test
    void aWildcardCorsOriginIsRefused() {
        assertThatThrownBy(() -> boss("--boss.security.cors-allowed-origins=*"))
                .hasStackTraceContaining("not wildcards");
    }

    private static String stackTrace(Throwable e) {
        java.io.StringWriter out = new java.io.StringWriter();
        e.printStackTrace(new java.io.PrintWriter(out));
        return out.toString();
    }
}
