package com.maddatum.worker.spool;

import com.maddatum.worker.client.Backoff;
import com.maddatum.worker.client.BossClient;
import com.maddatum.worker.client.BossClient.Answer;
import com.maddatum.worker.client.BossClient.Delivery;
import com.maddatum.worker.config.WorkerSettings;
import com.maddatum.worker.outcome.OutcomeBuilder;
import com.maddatum.worker.outcome.OutcomeContract;
import com.maddatum.worker.run.ShutdownBudget;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import jakarta.annotation.PreDestroy;
import java.io.FileOutputStream;
import java.io.IOException;
import java.net.URI;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Function;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.scheduling.annotation.Scheduled;
import org.springframework.stereotype.Component;
import tools.jackson.core.type.TypeReference;
import tools.jackson.databind.json.JsonMapper;

/**
 * Every Outcome is conformed to what the Boss accepts ({@link OutcomeContract}) and written to the
 * spool directory before it is sent, and deleted only once its callback has it (or has said it will
 * never want it). A file is written whole or not at all: to a {@code .partial} file, fsync'd, renamed,
 * and the directory fsync'd, so an Outcome the Worker has kept survives a crash or a power cut; on
 * restart it is sent. When the disk refuses the write (full, read-only) the Outcome is held in memory
 * and sent at once instead. An Outcome the Boss refuses as malformed is replaced by a Worker-built
 * one for the same order and attempt ({@link OutcomeBuilder#replacement}), never just dropped.
 *
 * <p>Outcomes of local runs go to their job's {@code callbackAddress}; each address backs off on its
 * own (1 s doubling to a minute), so a dead one holds up nothing else. The Boss makes repeats harmless,
 * so several Workers may share one spool directory.
 *
 * <p>Once shutdown has begun ({@link ShutdownBudget}) the Boss's outcomes go first, each request waits
 * at most {@link ShutdownBudget#REQUEST}, and nothing is sent after the report phase ends: a dead local
 * callback costs one short timeout a round, and what is not delivered stays in the spool for the next
 * start. The last delivery, when the Worker closes, is bounded the same way. A spool write cannot be
 * broken by an interrupt (the slots' threads are interrupted at the very end).
 */
@Component
public class OutcomeSpool {

    private static final Logger log = LoggerFactory.getLogger(OutcomeSpool.class);
    private static final TypeReference<LinkedHashMap<String, Object>> MAP = new TypeReference<>() {};
    static final Duration FIRST_BACKOFF = Duration.ofSeconds(1);
    static final Duration MAX_BACKOFF = Duration.ofMinutes(1);
    /** How {@link #keep(Map)} names a Boss order's outcome: its order id and attempt. */
    private static final Pattern BOSS_FILE = Pattern.compile("[0-9a-f]{24}-\\d+\\.json");
    /** No write takes this long: a .partial file older than that was left by a crash. */
    static final Duration STALE_PARTIAL = Duration.ofMinutes(1);

    private final Path dir;
    private final URI bossCallback;
    private final BossClient boss;
    private final OutcomeContract contract;
    private final JsonMapper json;
    private final Clock clock;
    private final ShutdownBudget budget;
    private final ReentrantLock delivering = new ReentrantLock();
    private final Counter retries;
    private final Map<URI, Backoff> backoffs = new HashMap<>();
    /** The longest the background flush leaves an outcome to the slot that kept it ({@link #keepToSendFirst}). */
    static final Duration HELD_FOR_FIRST = Duration.ofMinutes(1);
    /** Outcomes a slot is about to send itself, by name, with when they were kept. */
    private final Map<String, Instant> heldForFirst = new ConcurrentHashMap<>();
    /** Outcomes the disk would not take, oldest first. */
    private final List<Entry> unwritten = new CopyOnWriteArrayList<>();

    /** An outcome waiting for its callback; {@code file} is null for one held in memory only. */
    private record Entry(String name, URI callback, Map<String, Object> outcome, Path file) {}

    public OutcomeSpool(WorkerSettings settings, BossClient boss, OutcomeContract contract, JsonMapper json, Clock clock,
            MeterRegistry meters, ShutdownBudget budget) {
        this.dir = settings.spoolDir();
        this.budget = budget;
        this.bossCallback = URI.create(settings.bossUrl() + "/callback");
        this.boss = boss;
        this.contract = contract;
        this.json = json;
        this.clock = clock;
        this.retries = Counter.builder("worker.callback.retries").description("outcome deliveries to retry")
                .register(meters);
        Gauge.builder("worker.spool.size", this, OutcomeSpool::size).description("outcomes not yet delivered")
                .register(meters);
        removeStalePartials();
    }

    /** Keeps a Boss order's outcome and tries to deliver everything pending at once. */
    public void submit(Map<String, Object> outcome) {
        keep(outcome);
        flushNow();
    }

    /** Keeps a Boss order's outcome (named after its order and attempt) without sending it yet. */
    public void keep(Map<String, Object> outcome) {
        keep(outcome.get("orderId") + "-" + outcome.get("attempt"), null, outcome);
    }

    /**
     * Keeps a Boss order's outcome that its slot is about to send itself ({@link #deliverFirst}), with what only
     * that request carries (the run's last lines, a claim of the next order): the background flush leaves it
     * alone until then, or for {@link #HELD_FOR_FIRST} at most (a slot that never sends it, say an Error on its
     * way, does not keep it from the Boss).
     */
    public void keepToSendFirst(Map<String, Object> outcome) {
        String name = outcome.get("orderId") + "-" + outcome.get("attempt");
        heldForFirst.put(name, clock.instant());
        keep(name, null, outcome);
    }

    /** Keeps an outcome for {@code callback} (null: the Boss) under {@code name}, without sending it yet. */
    public void keep(String name, URI callback, Map<String, Object> outcome) {
        store(name, callback == null ? bossCallback : callback, contract.conform(outcome));
    }

    private Entry store(String name, URI callback, Map<String, Object> outcome) {
        Entry entry = new Entry(name, callback, outcome, dir.resolve(name + ".json"));
        try {
            write(entry);
            return entry;
        } catch (IOException | RuntimeException e) {
            log.error("cannot spool the outcome, it will be sent from memory order={} file={} error={}",
                    outcome.get("orderId"), entry.file(), e.toString());
            Entry held = new Entry(name, callback, outcome, null);
            unwritten.add(held);
            return held;
        }
    }

    /** Delivers what is pending now, whatever the back-off (something new is worth a try). */
    public void flushNow() {
        delivering.lock();
        try {
            backoffs.values().forEach(Backoff::tryNow);
            deliver();
        } finally {
            delivering.unlock();
        }
    }

    /**
     * Delivers one Boss order's outcome (kept already) now, ahead of the rest, through {@code send}, which may
     * add to its request what travels with this delivery only: the run's last log lines, a claim of the slot's
     * next order. What it answers is handled as any delivery's (kept for a retry, replaced when refused,
     * removed otherwise); then whatever else is pending goes too. Null when the outcome is not in the spool
     * any more (a Worker sharing the directory delivered it). Only this outcome is sent: the rest is left to the
 * background flush, under its back-offs, so the slot's next order does not wait on them.
     */
    public Answer deliverFirst(String orderId, int attempt, Function<Map<String, Object>, Answer> send) {
        String name = orderId + "-" + attempt;
        delivering.lock();
        try {
            heldForFirst.remove(name);
            Entry entry = unwritten.stream().filter(e -> e.name().equals(name)).findFirst()
                    .orElseGet(() -> read(dir.resolve(name + ".json")));
            if (entry == null) {
                return null;
            }
            Answer answer = send.apply(entry.outcome());
            log.info("outcome delivery order={} attempt={} status={} result={} next={}", orderId, attempt,
                    entry.outcome().get("status"), answer.delivery(), answer.next() == null ? null : answer.next().id());
            try {
                settle(entry, answer, new HashSet<>());
            } catch (RuntimeException e) {
                // The answer stands (its next order is the slot's now); the entry is settled by a later flush.
                log.error("outcome delivered, its spool entry not settled order={} attempt={}", orderId, attempt, e);
            }
            // Nothing else is sent now: the slot's next order waits on this return, and the rest is the
            // background flush's, under its back-offs.
            return answer;
        } finally {
            heldForFirst.remove(name);
            delivering.unlock();
        }
    }

    /** Delivers pending outcomes, oldest first, to each callback whose back-off allows it. */
    @Scheduled(fixedDelayString = "${worker.spool-interval:1s}")
    public void flush() {
        delivering.lock();
        try {
            deliver();
        } finally {
            delivering.unlock();
        }
    }

    /**
     * The last delivery, as the Worker closes (after the slots, which depend on the spool): what the Boss
     * can take within the report phase. A delivery under way holds it up no longer than that either.
     */
    @PreDestroy
    public void flushBeforeExit() throws InterruptedException {
        budget.begin();
        if (delivering.tryLock(budget.untilReportEnds().toMillis(), TimeUnit.MILLISECONDS)) {
            try {
                backoffs.values().forEach(Backoff::tryNow);
                deliver();
            } finally {
                delivering.unlock();
            }
        }
        int left = size();
        if (left > 0) {
            log.warn("outcomes left in the spool for the next start count={} dir={}", left, dir);
        }
    }

    private void deliver() {
        Set<URI> failing = new HashSet<>();
        List<Entry> pending = new ArrayList<>(unwritten); // held in memory: the ones at risk go first
        for (Path file : files()) {
            // A Boss order's file is not even read while the Boss backs off: it may be large, and many.
            if (!(BOSS_FILE.matcher(file.getFileName().toString()).matches() && !ready(bossCallback, failing))) {
                Entry entry = read(file);
                if (entry != null) {
                    pending.add(entry);
                }
            }
        }
        if (budget.begun()) { // the Boss's first: the orders they end are waiting, and time is short
            pending.sort(Comparator.comparing(entry -> !entry.callback().equals(bossCallback)));
        }
        Instant now = clock.instant();
        heldForFirst.values().removeIf(since -> !since.plus(HELD_FOR_FIRST).isAfter(now));
        for (Entry entry : pending) {
            if (!ready(entry.callback(), failing) || heldForFirst.containsKey(entry.name()) && !budget.begun()) {
                continue;
            }
            Answer answer = send(entry);
            log.info("outcome delivery order={} attempt={} status={} result={}", entry.outcome().get("orderId"),
                    entry.outcome().get("attempt"), entry.outcome().get("status"), answer.delivery());
            settle(entry, answer, failing);
        }
    }

    /** What a delivery's answer means for its entry: kept for a retry, replaced when refused, else removed. */
    private void settle(Entry entry, Answer answer, Set<URI> failing) {
        Backoff backoff = backoff(entry.callback());
        if (answer.delivery() == Delivery.RETRY) {
            retries.increment();
            failing.add(entry.callback());
            Duration wait = backoff.failed(clock.instant());
            log.warn("outcome not delivered, callback unreachable callback={} retryIn={}ms reason={}",
                    entry.callback(), wait.toMillis(), answer.reason());
            return;
        }
        backoff.succeeded();
        if (answer.delivery() == Delivery.REJECTED) {
            replace(entry, answer.reason());
        } else {
            remove(entry);
        }
    }

    public int size() {
        return unwritten.size() + files().size();
    }

    /** A refused outcome gives way to the Worker's own for the same order and attempt, sent at once. */
    private void replace(Entry refused, String reason) {
        Map<String, Object> instead = OutcomeBuilder.replacement(refused.outcome(), reason);
        if (instead == null) {
            log.error("the Boss refused even the smallest replacement outcome, dropping it order={} attempt={} reason={}",
                    refused.outcome().get("orderId"), refused.outcome().get("attempt"), reason);
            remove(refused);
            return;
        }
        // Written over the refused one's file, so that a crash leaves one or the other, never neither.
        Entry replacement = store(refused.name(), refused.callback(), contract.conform(instead));
        if (refused.file() == null || replacement.file() == null) {
            remove(refused);
        }
        log.warn("replaced a refused outcome order={} attempt={} reason={}", refused.outcome().get("orderId"),
                refused.outcome().get("attempt"), reason);
        Answer answer = send(replacement);
        if (answer.delivery() == Delivery.REJECTED) {
            replace(replacement, answer.reason());
        } else if (answer.delivery() != Delivery.RETRY) {
            remove(replacement);
        }
    }

    /**
     * Writes through a stream, which an interrupt cannot close (a FileChannel can: its write would fail
     * with ClosedByInterruptException, and the outcome would live only in memory until the exit).
     */
    private void write(Entry entry) throws IOException {
        byte[] bytes = envelope(entry);
        // Unique per write: another Worker may share the directory, and a name may be rewritten.
        Path partial = dir.resolve(entry.file().getFileName() + "." + Long.toHexString(ThreadLocalRandom.current().nextLong())
                + ".partial");
        boolean interrupted = Thread.interrupted(); // kept for the caller; the directory's fsync is a channel's
        try {
            try (FileOutputStream out = new FileOutputStream(partial.toFile())) {
                out.write(bytes);
                out.getFD().sync();
            }
            Files.move(partial, entry.file(), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            syncDirectory();
        } catch (IOException | RuntimeException e) {
            Files.deleteIfExists(partial);
            throw e;
        } finally {
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /** The Boss's outcomes are stored bare, as they are sent; others with their callback address. */
    private byte[] envelope(Entry entry) {
        Object stored = entry.callback().equals(bossCallback) ? entry.outcome()
                : Map.of("callback", entry.callback().toString(), "outcome", entry.outcome());
        return json.writeValueAsString(stored).getBytes(StandardCharsets.UTF_8);
    }

    /** Makes the rename itself durable. Some file systems cannot sync a directory; the rename then stands as it is. */
    private void syncDirectory() {
        try (FileChannel directory = FileChannel.open(dir, StandardOpenOption.READ)) {
            directory.force(true);
        } catch (IOException e) {
            log.debug("cannot fsync the spool directory dir={} error={}", dir, e.toString());
        }
    }

    private void remove(Entry entry) {
        if (entry.file() == null) {
            unwritten.remove(entry);
            return;
        }
        try {
            Files.deleteIfExists(entry.file());
        } catch (IOException e) {
            log.warn("cannot delete delivered spool file={}", entry.file());
        }
    }

    private Backoff backoff(URI callback) {
        return backoffs.computeIfAbsent(callback, c -> new Backoff(FIRST_BACKOFF, MAX_BACKOFF));
    }

    /** Whether the callback may be tried now: not failed in this round, its back-off over, the budget not spent. */
    private boolean ready(URI callback, Set<URI> failing) {
        if (budget.begun() && budget.untilReportEnds().isZero()) {
            return false;
        }
        return !failing.contains(callback) && backoff(callback).ready(clock.instant());
    }

    /** One delivery; during shutdown with the shutdown's short timeout. */
    private Answer send(Entry entry) {
        return budget.begun() ? boss.deliver(entry.callback(), entry.outcome(), budget.requestTimeout())
                : boss.deliver(entry.callback(), entry.outcome());
    }

    @SuppressWarnings("unchecked")
    private Entry read(Path file) {
        String name = file.getFileName().toString();
        name = name.substring(0, name.length() - ".json".length());
        try {
            Map<String, Object> stored = json.readValue(Files.readString(file), MAP);
            if (stored.get("callback") instanceof String callback && stored.get("outcome") instanceof Map<?, ?> outcome
                    && !stored.containsKey("status")) {
                return new Entry(name, URI.create(callback), (Map<String, Object>) outcome, file);
            }
            return new Entry(name, bossCallback, stored, file);
        } catch (NoSuchFileException delivered) {
            return null; // another Worker sharing the directory delivered it meanwhile
        } catch (IOException | RuntimeException e) {
            Path aside = file.resolveSibling(file.getFileName() + ".unreadable");
            log.error("moving an unreadable spool file aside file={} to={} error={}", file, aside, e.toString());
            try {
                Files.move(file, aside, StandardCopyOption.REPLACE_EXISTING);
            } catch (IOException ignored) {
                // it stays where it is and is tried again
            }
            return null;
        }
    }

    private List<Path> files() {
        try (Stream<Path> files = Files.list(dir)) {
            return files.filter(f -> f.getFileName().toString().endsWith(".json"))
                    .sorted(Comparator.comparing(OutcomeSpool::modified)).toList();
        } catch (IOException e) {
            log.warn("cannot list the spool dir={} error={}", dir, e.toString());
            return List.of();
        }
    }

    private void removeStalePartials() {
        long cutoff = System.currentTimeMillis() - STALE_PARTIAL.toMillis(); // file times are wall-clock times
        try (Stream<Path> files = Files.list(dir)) {
            for (Path partial : files.filter(f -> f.getFileName().toString().endsWith(".partial")).toList()) {
                if (modified(partial) < cutoff) {
                    Files.deleteIfExists(partial);
                    log.info("removed a partial spool file left by a crash file={}", partial);
                }
            }
        } catch (IOException e) {
            log.warn("cannot clean the spool dir={} error={}", dir, e.toString());
        }
    }

    private static long modified(Path file) {
        try {
            return Files.getLastModifiedTime(file).toMillis();
        } catch (IOException e) {
            return Long.MAX_VALUE;
        }
    }
}
