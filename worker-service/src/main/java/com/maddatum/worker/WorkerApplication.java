package com.maddatum.worker;

import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.boot.context.properties.ConfigurationPropertiesScan;
import org.springframework.scheduling.annotation.EnableScheduling;

/**
 * The Worker: one per GPU machine. Packages: {@code config} (settings, GPU detection), {@code client}
 * (the Boss's HTTP API), {@code poll} (asking for work, running it, heartbeats, shutdown),
 * {@code runner} (the Python process), {@code spool} (outcomes kept until the Boss has them),
 * {@code local} (the seed's local {@code /scripts/run}).
 */
@SpringBootApplication
@ConfigurationPropertiesScan
@EnableScheduling
public class WorkerApplication {

    public static void main(String[] args) {
        SpringApplication.run(WorkerApplication.class, args);
    }
}
