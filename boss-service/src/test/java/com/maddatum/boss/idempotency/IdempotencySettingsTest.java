package com.maddatum.boss.idempotency;

import static org.assertj.core.api.Assertions.assertThat;

import com.maddatum.boss.config.BossProperties;
import com.maddatum.boss.support.TestProperties;
import jakarta.validation.ConstraintViolation;
import jakarta.validation.Validation;
import jakarta.validation.Validator;
import java.time.Duration;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The promise is "at least 24 h": a shorter keep-for fails the start, as does a wait that holds requests long. */
class IdempotencySettingsTest {

    private final Validator validator = Validation.buildDefaultValidatorFactory().getValidator();

    @Test
    void defaultsKeepKeysADay() {
        BossProperties.Idempotency defaults = TestProperties.defaults().idempotency();
        assertThat(defaults.keepFor()).isEqualTo(Duration.ofHours(24));
        assertThat(validator.validate(TestProperties.defaults())).isEmpty();
    }

    @Test
    void keepingKeysLessThanADayIsRefused() {
        assertThat(violations(Map.of("boss.idempotency.keep-for", "23h"))).containsExactly("idempotency.keepFor");
        assertThat(violations(Map.of("boss.idempotency.keep-for", "7d"))).isEmpty();
    }

    @Test
    void aRepeatWaitsAtMostAMinuteAndAKeyIsHeldAtLeastASecond() {
        assertThat(violations(Map.of("boss.idempotency.pending-wait", "2m"))).containsExactly("idempotency.pendingWait");
        assertThat(violations(Map.of("boss.idempotency.take-over-after", "0s")))
                .containsExactly("idempotency.takeOverAfter");
    }

    private Set<String> violations(Map<String, String> settings) {
        Set<ConstraintViolation<BossProperties>> found = validator.validate(TestProperties.with(settings));
        return found.stream().map(v -> v.getPropertyPath().toString()).collect(java.util.stream.Collectors.toSet());
    }
}
