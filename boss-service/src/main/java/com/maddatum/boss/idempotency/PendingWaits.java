package com.maddatum.boss.idempotency;

import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.springframework.stereotype.Component;

/**
 * Where a repeat waits for the first request with its key to finish in this Boss: the first request
 * wakes every waiter the moment it stores its answer or lets the key go. (A first request running on
 * another replica wakes nobody here; waiters then look again after each slice of their wait.)
 *
 * <p>A waiter takes its ticket before it reads the key, and the runner writes before it wakes, so a
 * wake-up can never fall between the read and the wait.
 */
@Component
class PendingWaits {

    private static final class Entry {
        final CompletableFuture<Void> finished = new CompletableFuture<>();
        int holders; // changed only inside the map's compute, which serialises it per key
    }

    final class Ticket implements AutoCloseable {
        private final String id;
        private final Entry entry;

        private Ticket(String id, Entry entry) {
            this.id = id;
            this.entry = entry;
        }

        @Override
        public void close() {
            entries.computeIfPresent(id, (k, current) -> current == entry && --current.holders == 0 ? null : current);
        }
    }

    private final Map<String, Entry> entries = new ConcurrentHashMap<>();

    Ticket ticket(String id) {
        Entry entry = entries.compute(id, (k, current) -> {
            Entry held = current == null ? new Entry() : current;
            held.holders++;
            return held;
        });
        return new Ticket(id, entry);
    }

    /** Waits until the key's runner wakes this ticket, or {@code max} passes; false when the time ran out. */
    boolean await(Ticket ticket, Duration max) {
        try {
            ticket.entry.finished.get(max.toNanos(), TimeUnit.NANOSECONDS);
            return true;
        } catch (TimeoutException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        } catch (ExecutionException e) {
            throw new IllegalStateException("never completed exceptionally", e);
        }
    }

    /** Wakes everyone waiting on the key; called after the key's new state is written. */
    void wake(String id) {
        Entry entry = entries.remove(id);
        if (entry != null) {
            entry.finished.complete(null);
        }
    }
}
