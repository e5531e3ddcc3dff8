package com.maddatum.worker.poll;

import com.maddatum.worker.common.FileNames;
import com.maddatum.worker.client.Backoff;
import com.maddatum.worker.client.BossClient;
import com.maddatum.worker.client.BossUnavailableException;
import com.maddatum.worker.client.Registration;
import com.maddatum.worker.config.WorkerSettings;
import com.maddatum.worker.gpu.GpuReport;
import com.maddatum.worker.gpu.GpuRoster;
import com.maddatum.worker.runner.Scripts;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.UUID;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.stereotype.Component;

/**
 * Registers this node with the Boss ({@code POST /worker-node/create}): name, labels, slots, host,
 * GPUs, the scripts a job can name (not the libraries they import) and the files in its data directory. A Boss that is down at
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
    /** How often the data directory is listed again, to tell the Boss of files added or removed. */
    static final Duration DATA_RECHECK = Duration.ofSeconds(30);
    /** The data files the Boss was last told of; when the next look at the directory is due. */
    private List<String> sentDataFiles = List.of();
    private Instant nextDataCheck = Instant.MIN;

    Registrar(BossClient boss, WorkerSettings settings, GpuRoster gpus, Clock clock) {
        this.boss = boss;
        this.settings = settings;
        this.gpus = gpus;
        this.clock = clock;
    }

    /**
     * Registers unless the Boss has the current GPU picture already, or backing off; true when it has
     * (the current one: a registration of older GPU health does not count). A change in the data directory
     * (looked at every {@link #DATA_RECHECK}) registers again too, but the slots need not wait for it.
     */
    synchronized boolean ensureRegistered() {
        int generation = gpus.generation();
        boolean current = registered == generation;
        if (current && !dataFilesChanged() || !backoff.ready(clock.instant())) {
            return current;
        }
        try {
            Registration registration = registration();
            boss.register(registration);
            registered = generation;
            sentDataFiles = registration.dataFiles();
            nextDataCheck = clock.instant().plus(DATA_RECHECK);
            backoff.succeeded();
            log.info("registered with the Boss boss={} node={} bootId={} labels={} slots={} gpus={} failedGpus={} cpuOnlyBecause={} dataFiles={}",
                    settings.bossUrl(), settings.nodeName(), bootId, registration.labels(), registration.slots(),
                    registration.gpus().size(), registration.failedGpus().size(), registration.cpuOnlyBecause(),
                    registration.dataFiles().size());
        } catch (BossUnavailableException e) {
            Duration wait = backoff.failed(clock.instant());
            log.warn("the Boss is not reachable boss={} retryIn={}s error={}", settings.bossUrl(), wait.toSeconds(),
                    e.getMessage());
        }
        return registered == generation;
    }

    private boolean dataFilesChanged() {
        Instant now = clock.instant();
        if (now.isBefore(nextDataCheck)) {
            return false;
        }
        nextDataCheck = now.plus(DATA_RECHECK);
        return !dataFiles(settings.dataDir()).equals(sentDataFiles);
    }

    Registration registration() {
        GpuReport report = gpus.report();
        return new Registration(settings.nodeName(), gpus.labels(), gpus.usableSlots(), host(), report.healthy(),
                Scripts.advertised(settings.scriptsDir()), report.failed(), report.cpuOnlyBecause(), bootId,
                dataFiles(settings.dataDir()));
    }

    /**
     * The files a job can name as {@code dataFileName} here: plain names (the rule the Boss applies) of
     * regular files in the data directory, sorted, the first {@link Registration#MAX_DATA_FILES}. A data
     * directory that is missing or unreadable offers none.
     */
    static List<String> dataFiles(Path dataDir) {
        try (Stream<Path> files = Files.list(dataDir)) {
            return files.filter(Files::isRegularFile).map(file -> file.getFileName().toString())
                    .filter(FileNames::isPlain).sorted()
                    .limit(Registration.MAX_DATA_FILES).toList();
        } catch (IOException | UncheckedIOException e) {
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
