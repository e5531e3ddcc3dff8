package com.maddatum.worker.poll;

import com.maddatum.worker.client.Backoff;
import com.maddatum.worker.client.BossClient;
import com.maddatum.worker.client.BossUnavailableException;
import com.maddatum.worker.client.Registration;
import com.maddatum.worker.config.WorkerSettings;
import com.maddatum.worker.runner.Scripts;
import java.io.IOException;
import java.net.InetAddress;
import java.time.Clock;
import java.time.Duration;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.stereotype.Component;

/**
 * Registers this node with the Boss ({@code POST /worker-node/create}): name, labels, slots, host,
 * GPUs and the scripts a job can name (not the libraries they import). A Boss that is down at
 * start-up is not fatal: the Worker says so plainly and tries again with back-off (1 s doubling to a
 * minute) instead of crash-looping.
 */
@Component
class Registrar {

    private static final Logger log = LoggerFactory.getLogger(Registrar.class);

    private final BossClient boss;
    private final WorkerSettings settings;
    private final Clock clock;
    private final Backoff backoff = new Backoff(Duration.ofSeconds(1), Duration.ofMinutes(1));
    private volatile boolean registered;

    Registrar(BossClient boss, WorkerSettings settings, Clock clock) {
        this.boss = boss;
        this.settings = settings;
        this.clock = clock;
    }

    /** Registers unless done already or backing off; true once registered. */
    synchronized boolean ensureRegistered() {
        if (registered || !backoff.ready(clock.instant())) {
            return registered;
        }
        try {
            boss.register(registration());
            registered = true;
            backoff.succeeded();
            log.info("registered with the Boss boss={} node={} labels={} slots={}", settings.bossUrl(),
                    settings.nodeName(), settings.labels(), settings.slots());
        } catch (BossUnavailableException e) {
            Duration wait = backoff.failed(clock.instant());
            log.warn("the Boss is not reachable boss={} retryIn={}s error={}", settings.bossUrl(), wait.toSeconds(),
                    e.getMessage());
        }
        return registered;
    }

    Registration registration() {
        return new Registration(settings.nodeName(), settings.labels(), settings.slots(), host(), settings.gpus(),
                Scripts.advertised(settings.scriptsDir()));
    }

    private static String host() {
        try {
            return InetAddress.getLocalHost().getHostName();
        } catch (IOException e) {
            return null;
        }
    }
}
