package com.maddatum.worker.config;

import java.util.Map;
import org.springframework.boot.EnvironmentPostProcessor;
import org.springframework.boot.SpringApplication;
import org.springframework.core.env.ConfigurableEnvironment;
import org.springframework.core.env.MapPropertySource;

/**
 * Health and metrics listen where the local server listens ({@code server.address}, loopback by
 * default) unless {@code management.server.address} says otherwise. Spring Boot would bind a separate
 * management port on every interface, and refuses {@code management.server.address} outright when the
 * management port is the server's own, so a fixed default in application.yml cannot serve both.
 */
class ManagementAddress implements EnvironmentPostProcessor {

    @Override
    public void postProcessEnvironment(ConfigurableEnvironment environment, SpringApplication application) {
        String management = environment.getProperty("management.server.port");
        String server = environment.getProperty("server.port", "8080");
        // Boot's own rule for a management server of its own: a port that is set, and 0 or not the server's.
        boolean separate = management != null && (management.equals("0") || !management.equals(server));
        String address = environment.getProperty("server.address");
        if (separate && address != null && !environment.containsProperty("management.server.address")) {
            environment.getPropertySources().addLast(new MapPropertySource("workerManagementAddress",
                    Map.of("management.server.address", address)));
        }
    }
}
