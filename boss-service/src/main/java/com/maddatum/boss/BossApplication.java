package com.maddatum.boss;

import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.boot.context.properties.ConfigurationPropertiesScan;
import org.springframework.scheduling.annotation.EnableScheduling;

/**
 * The Boss: stores Jobs, hands the best unassigned Order to a bored Worker, and records Outcomes.
 *
 * <p>Packages are features: {@code job} (submission and reads), {@code order} (the state machine,
 * claims, leases), {@code outcome} (callbacks, leaderboard), {@code worker} (node registry),
 * {@code store} (MongoDB or the embedded default), {@code web} (problem details, limits).
 */
@SpringBootApplication
@ConfigurationPropertiesScan
@EnableScheduling
public class BossApplication {

    public static void main(String[] args) {
        SpringApplication.run(BossApplication.class, args);
    }
}
