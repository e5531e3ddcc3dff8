package com.maddatum.boss.security;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.maddatum.boss.support.TestProperties;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The operator and metrics tokens are held to the same policy as the others, and never share a token. */
class TokenRolesTest {

    private static final String OPERATOR = "opr0123456789abcdef0123456789abcdef";
    private static final String METRICS = "met0123456789abcdef0123456789abcdef";
    private static final String SUBMITTER = "sub0123456789abcdef0123456789abcdef";

    private static TokenVerifier verifier(Map<String, String> settings) {
        return new TokenVerifier(TestProperties.with(settings));
    }

    @Test
    void eachTokenActsInItsOwnRole() {
        TokenVerifier tokens = verifier(Map.of("boss.security.operator-tokens", OPERATOR,
                "boss.security.metrics-tokens", METRICS));
        assertThat(tokens.enabled()).isTrue();
        assertThat(tokens.callerOf(OPERATOR).orElseThrow().role()).isEqualTo(Role.OPERATOR);
        assertThat(tokens.callerOf(METRICS).orElseThrow().role()).isEqualTo(Role.METRICS);
        assertThat(tokens.callerOf(SUBMITTER)).isEmpty();
    }

    @Test
    void aTokenInTwoRolesIsRefused() {
        assertThatThrownBy(() -> verifier(Map.of("boss.security.operator-tokens", OPERATOR,
                "boss.security.metrics-tokens", OPERATOR))).hasMessageContaining("configured twice");
        assertThatThrownBy(() -> verifier(Map.of("boss.security.operator-tokens", SUBMITTER,
                "boss.security.submitter-tokens", SUBMITTER))).hasMessageContaining("configured twice");
    }

    @Test
    void shortAndExampleTokensAreRefusedForTheNewRoles() {
        assertThatThrownBy(() -> verifier(Map.of("boss.security.operator-tokens", "short")))
                .hasMessageContaining("boss.security.operator-tokens[0] is 5 characters long");
        assertThatThrownBy(() -> verifier(Map.of("boss.security.metrics-tokens", "change-me-metrics-padded-to-be-long-enough")))
                .hasMessageContaining("boss.security.metrics-tokens[0] is the example value");
    }
}
