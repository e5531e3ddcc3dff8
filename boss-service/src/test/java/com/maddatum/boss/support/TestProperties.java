package com.maddatum.boss.support;

import com.maddatum.boss.config.BossProperties;
import java.util.Map;
import org.springframework.boot.context.properties.bind.Binder;
import org.springframework.boot.context.properties.source.MapConfigurationPropertySource;

/** {@link BossProperties} as Boot binds them: every default, plus the settings a test names. */
public final class TestProperties {

    private TestProperties() {}

    public static BossProperties with(Map<String, String> settings) {
        return new Binder(new MapConfigurationPropertySource(settings)).bindOrCreate("boss", BossProperties.class);
    }

    public static BossProperties defaults() {
        return with(Map.of());
    }
}
