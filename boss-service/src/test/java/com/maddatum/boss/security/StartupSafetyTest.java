package com.maddatum.boss.security;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.maddatum.boss.BossApplication;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;

/** A Boss without tokens listens on loopback only, and refuses to be exposed by accident. */
class StartupSafetyTest {

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
        try (ConfigurableApplicationContext context = boss("--boss.security.submitter-tokens=a",
                "--boss.security.worker-tokens=b")) {
            assertThat(context.getEnvironment().getProperty("server.address")).isNull();
        }
    }

    @Test
    void aWildcardCorsOriginIsRefused() {
        assertThatThrownBy(() -> boss("--boss.security.cors-allowed-origins=*"))
                .hasStackTraceContaining("not wildcards");
    }
}
