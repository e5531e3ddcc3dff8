package com.maddatum.boss.artifact;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.maddatum.boss.config.BossProperties;
import com.maddatum.boss.support.TestProperties;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ArtifactSettingsTest {

    @Test
    void keepsTheBestTenAndTheLatestTwentyByDefault() {
        BossProperties.Artifacts artifacts = TestProperties.defaults().artifacts();
        assertThat(artifacts.keep().enabled()).isTrue();
        assertThat(artifacts.keep().best()).isEqualTo(10);
        assertThat(artifacts.keep().latest()).isEqualTo(20);
        assertThat(artifacts.pruneInterval()).isEqualTo(Duration.ofMinutes(10));
    }

    @Test
    void keepingNothingIsRefusedUnlessPruningIsOff() {
        assertThatThrownBy(() -> TestProperties.with(Map.of("boss.artifacts.keep.best", "0",
                "boss.artifacts.keep.latest", "0"))).hasStackTraceContaining("boss.artifacts.keep.enabled=false");
        BossProperties.Artifacts off = TestProperties.with(Map.of("boss.artifacts.keep.best", "0",
                "boss.artifacts.keep.latest", "0", "boss.artifacts.keep.enabled", "false")).artifacts();
        assertThat(off.keep().enabled()).isFalse();
    }
}
