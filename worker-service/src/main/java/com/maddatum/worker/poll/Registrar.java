package com.maddatum.worker.poll;

import com.maddatum.worker.client.Backoff;
import com.maddatum.worker.client.BossClient;
import com.maddatum.worker.client.BossUnavailableException;
import com.maddatum.worker.client.Registration;
import com.maddatum.worker.config.WorkerSettings;
import com.maddatum.worker.gpu.GpuReport;
import com.maddatum.worker.gpu.GpuRoster;
import com.maddatum.worker.runner.Scripts;
import java.io.IOException;
import java.net.InetAddress;
import java.time.Clock;
import java.time.Duration;
import java.util.UUID;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.stereotype.Component;

/**
 * Registers this node with the Boss ({@code POST /worker-node/create}): name, labels, slots, host,
 * GPUs and the scripts a job can name (not the libraries they import). A Boss that is down at
 * start-up is not fatal: the Worker says so plainly and tries again with back-off (1 s doubling to a
 * minute) instead of crash-looping. When a GPU check changes which GPUs are healthy
 * ({@link GpuRoster#generation()}) it registers again, and until the Boss has the new picture the slots
 * claim nothing: a Worker that lost its last GPU must not take GPU work on its old labels.
 */
@Component
class Registrar {

    private static final Logger log = LoggerFactory.getLogger(Registrar.class);

    private final BossClient boss;
    private final WorkerSettings settings;
    private final GpuRoster gpus;
    private final Clock clock;
    private final Backoff backoff = new Backoff(Duration.ofSeconds(1), Duration.ofMinutes(1));
    /**
     * Made once per process start (the Registrar is a singleton): every registration of this process sends
     * it, and a restarted Worker sends a new one ({@link Registration#bootId()}).
     */
    private final String bootId = UUID.randomUUID().toString();
    /** The {@link GpuRoster#generation()} the Boss has; -1 before the first registration. */
    private volatile int registered = -1;

    Registrar(BossClient boss, WorkerSettings settings, GpuRoster gpus, Clock clock) {
        this.boss = boss;
        this.settings = settings;
        this.gpus = gpus;
        this.clock = clock;
    }

    /**
     * Registers unless the Boss has the current GPU picture already, or backing off; true when it has
     * (the current one: a registration of older GPU health does not count).
     */
    synchronized boolean ensureRegistered() {
        int generation = gpus.generation();
        if (registered == generation || !backoff.ready(clock.instant())) {
            return registered == generation;
        }
        try {
            Registration registration = registration();
            boss.register(registration);
            registered = generation;
            backoff.succeeded();
            log.info("registered with the Boss boss={} node={} bootId={} labels={} slots={} gpus={} failedGpus={} cpuOnlyBecause={}",
                    settings.bossUrl(), settings.nodeName(), bootId, registration.labels(), registration.slots(),
                    registration.gpus().size(), registration.failedGpus().size(), registration.cpuOnlyBecause());
        } catch (BossUnavailableException e) {
            Duration wait = backoff.failed(clock.instant());
            log.warn("the Boss is not reachable boss={} retryIn={}s error={}", settings.bossUrl(), wait.toSeconds(),
                    e.getMessage());
        }
        return registered == generation;
    }

    Registration registration() {
        GpuReport report = gpus.report();
        return new Registration(settings.nodeName(), gpus.labels(), gpus.usableSlots(), host(), report.healthy(),
                Scripts.advertised(settings.scriptsDir()), report.failed(), report.cpuOnlyBecause(), bootId);
    }

    private static String host() {
        try {
            return InetAddress.getLocalHost().getHostName();
        } catch (IOException e) {
            return null;
        }
    }
}
