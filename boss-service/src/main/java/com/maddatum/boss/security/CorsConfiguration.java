package com.maddatum.boss.security;

import com.maddatum.boss.config.BossProperties;
import java.util.List;
import org.springframework.context.annotation.Configuration;
import org.springframework.web.servlet.config.annotation.CorsRegistry;
import org.springframework.web.servlet.config.annotation.WebMvcConfigurer;

/**
 * CORS for the origins in {@code boss.security.cors-allowed-origins}, and none by default (the
 * seed sent {@code Access-Control-Allow-Origin: *}). A wildcard is refused at start-up.
 */
@Configuration(proxyBeanMethods = false)
class CorsConfiguration implements WebMvcConfigurer {

    private final List<String> origins;

    CorsConfiguration(BossProperties properties) {
        this.origins = properties.security().corsAllowedOrigins();
        if (origins.stream().anyMatch(origin -> origin.contains("*"))) {
            throw new IllegalStateException("boss.security.cors-allowed-origins takes exact origins, not wildcards");
        }
    }

    @Override
    public void addCorsMappings(CorsRegistry registry) {
        if (!origins.isEmpty()) {
            registry.addMapping("/**").allowedOrigins(origins.toArray(String[]::new))
                    .allowedMethods("GET", "POST").allowedHeaders("Authorization", "Content-Type", "Idempotency-Key")
                    .exposedHeaders("Location", "Idempotent-Replayed").maxAge(600);
        }
    }
}
