package com.maddatum.worker.spool;

import com.maddatum.worker.client.BossClient;
import com.maddatum.worker.client.BossClient.Delivery;
import com.maddatum.worker.config.WorkerSettings;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.scheduling.annotation.Scheduled;
import org.springframework.stereotype.Component;
import tools.jackson.core.type.TypeReference;
import tools.jackson.databind.json.JsonMapper;

/**
 * Every Outcome is written to the spool directory before it is sent, and deleted only once the
 * Boss has it (or has said it will never want it). An Outcome that could not be delivered survives a
 * Worker restart and is sent afterwards; the Boss makes repeats harmless. While the Boss is
 * unreachable, attempts back off exponentially from 1 s to a minute.
 */
@Component
public class OutcomeSpool {

    private static final Logger log = LoggerFactory.getLogger(OutcomeSpool.class);
    private static final TypeReference<LinkedHashMap<String, Object>> MAP = new TypeReference<>() {};
    static final Duration FIRST_BACKOFF = Duration.ofSeconds(1);
    static final Duration MAX_BACKOFF = Duration.ofMinutes(1);

    private final Path dir;
    private final BossClient boss;
    private final JsonMapper json;
    private final Clock clock;
    private int failures;
    private Instant nextAttempt = Instant.MIN;

    private final Counter retries;

    public OutcomeSpool(WorkerSettings settings, BossClient boss, JsonMapper json, Clock clock, MeterRegistry meters) {
        this.dir = settings.spoolDir();
        this.boss = boss;
        this.json = json;
        this.clock = clock;
        this.retries = Counter.builder("worker.callback.retries").description("outcome deliveries to retry")
                .register(meters);
        Gauge.builder("worker.spool.size", this, OutcomeSpool::size).description("outcomes not yet delivered")
                .register(meters);
    }

    /** Keeps the outcome on disk, then tries to deliver everything pending at once. */
    public void submit(Map<String, Object> outcome) {
        String name = outcome.get("orderId") + "-" + outcome.get("attempt") + ".json";
        Path file = dir.resolve(name);
        Path partial = dir.resolve(name + ".partial");
        try {
            Files.writeString(partial, json.writeValueAsString(outcome));
            Files.move(partial, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot spool the outcome of order " + outcome.get("orderId"), e);
        }
        synchronized (this) {
            nextAttempt = Instant.MIN; // a fresh outcome is worth a try now, whatever the back-off
        }
        flush();
    }

    /** Delivers pending outcomes, oldest first, unless the back-off says to wait. */
    @Scheduled(fixedDelayString = "${worker.spool-interval:1s}")
    public synchronized void flush() {
        if (clock.instant().isBefore(nextAttempt)) {
            return;
        }
        for (Path file : pending()) {
            Delivery delivery = deliver(file);
            if (delivery == Delivery.RETRY) {
                retries.increment();
                failures++;
                long millis = Math.min(MAX_BACKOFF.toMillis(), FIRST_BACKOFF.toMillis() << Math.min(failures - 1, 16));
                nextAttempt = clock.instant().plusMillis(millis);
                log.warn("outcome not delivered, Boss unreachable pending={} retryIn={}ms", pending().size(), millis);
                return;
            }
            failures = 0;
            delete(file);
        }
    }

    public int size() {
        return pending().size();
    }

    private Delivery deliver(Path file) {
        Map<String, Object> outcome;
        try {
            outcome = json.readValue(Files.readString(file), MAP);
        } catch (IOException | RuntimeException e) {
            log.error("dropping unreadable spool file={} error={}", file, e.toString());
            return Delivery.REJECTED;
        }
        Delivery delivery = boss.callback(outcome);
        log.info("outcome delivery order={} attempt={} status={} result={}", outcome.get("orderId"),
                outcome.get("attempt"), outcome.get("status"), delivery);
        return delivery;
    }

    private List<Path> pending() {
        try (Stream<Path> files = Files.list(dir)) {
            return files.filter(f -> f.getFileName().toString().endsWith(".json"))
                    .sorted(Comparator.comparing(OutcomeSpool::modified)).toList();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static long modified(Path file) {
        try {
            return Files.getLastModifiedTime(file).toMillis();
        } catch (IOException e) {
            return Long.MAX_VALUE;
        }
    }

    private static void delete(Path file) {
        try {
            Files.deleteIfExists(file);
        } catch (IOException e) {
            log.warn("cannot delete delivered spool file={}", file);
        }
    }
}
