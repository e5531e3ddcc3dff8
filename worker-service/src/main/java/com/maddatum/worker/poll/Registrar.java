package com.maddatum.worker.poll;

import com.maddatum.worker.client.BossClient;
import com.maddatum.worker.client.BossUnavailableException;
import com.maddatum.worker.client.Registration;
import com.maddatum.worker.config.WorkerSettings;
import java.io.IOException;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.stereotype.Component;

/**
 * Registers this node with the Boss ({@code POST /worker-node/create}): name, labels, slots, host,
 * GPUs and the scripts it can run. A Boss that is down at start-up is not fatal: the Worker says so
 * plainly and tries again with back-off (1 s doubling to a minute) instead of crash-looping.
 */
@Component
class Registrar {

    private static final Logger log = LoggerFactory.getLogger(Registrar.class);

    private final BossClient boss;
    private final WorkerSettings settings;
    private final Clock clock;
    private volatile boolean registered;
    private int failures;
    private Instant nextAttempt = Instant.MIN;

    Registrar(BossClient boss, WorkerSettings settings, Clock clock) {
        this.boss = boss;
        this.settings = settings;
        this.clock = clock;
    }

    /** Registers unless done already or backing off; true once registered. */
    synchronized boolean ensureRegistered() {
        if (registered || clock.instant().isBefore(nextAttempt)) {
            return registered;
        }
        try {
            boss.register(registration());
            registered = true;
            failures = 0;
            log.info("registered with the Boss boss={} node={} labels={} slots={}", settings.bossUrl(),
                    settings.nodeName(), settings.labels(), settings.slots());
        } catch (BossUnavailableException e) {
            failures++;
            Duration wait = Duration.ofSeconds(Math.min(60, 1L << Math.min(failures - 1, 6)));
            nextAttempt = clock.instant().plus(wait);
            log.warn("the Boss at {} is not reachable ({}); retrying in {}s", settings.bossUrl(), e.getMessage(),
                    wait.toSeconds());
        }
        return registered;
    }

    Registration registration() {
        return new Registration(settings.nodeName(), settings.labels(), settings.slots(), host(), settings.gpus(),
                scripts(settings.scriptsDir()));
    }

    private static List<String> scripts(Path dir) {
        try (Stream<Path> files = Files.list(dir)) {
            return files.map(f -> f.getFileName().toString())
                    .filter(name -> name.matches("[A-Za-z0-9][A-Za-z0-9_.-]*\\.py")).sorted().toList();
        } catch (IOException e) {
            return List.of();
        }
    }

    private static String host() {
        try {
            return InetAddress.getLocalHost().getHostName();
        } catch (IOException e) {
            return null;
        }
    }
}
