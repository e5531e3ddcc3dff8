package com.maddatum.boss.security;

import java.util.List;
import java.util.Map;
import org.springframework.boot.EnvironmentPostProcessor;
import org.springframework.boot.SpringApplication;
import org.springframework.boot.context.properties.bind.Bindable;
import org.springframework.boot.context.properties.bind.Binder;
import org.springframework.core.Ordered;
import org.springframework.core.env.ConfigurableEnvironment;
import org.springframework.core.env.MapPropertySource;

/**
 * The safe default: a Boss given no tokens and no {@code server.address} listens on 127.0.0.1 only,
 * so the seed's worker and local curl keep working while nobody else can reach it. Runs after the
 * configuration files are read; an explicit address always wins (and is then checked by
 * {@link SecurityStartupCheck}).
 */
public class LoopbackDefault implements EnvironmentPostProcessor, Ordered {

    @Override
    public void postProcessEnvironment(ConfigurableEnvironment environment, SpringApplication application) {
        // An empty SERVER_ADDRESS= is no address at all (every interface), not an explicit choice.
        if (!environment.getProperty("server.address", "").isBlank()) {
            return;
        }
        Binder binder = Binder.get(environment);
        boolean tokens = java.util.stream.Stream.of("submitter", "worker", "operator", "metrics")
                .anyMatch(role -> !binder.bind("boss.security." + role + "-tokens", Bindable.listOf(String.class))
                        .orElse(List.of()).isEmpty());
        if (!tokens) {
            // First, not last: a blank value from any source must not win over the default.
            environment.getPropertySources().addFirst(
                    new MapPropertySource("bossLoopbackDefault", Map.of("server.address", "127.0.0.1")));
        }
    }

    @Override
    public int getOrder() {
        return Ordered.LOWEST_PRECEDENCE;
    }
}
