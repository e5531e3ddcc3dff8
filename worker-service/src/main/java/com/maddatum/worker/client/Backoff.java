package com.maddatum.worker.client;

import java.time.Duration;
import java.time.Instant;

/**
 * Exponential back-off for calls to the Boss: after the n-th failure in a row, wait
 * {@code first × 2^(n-1)}, at most {@code max}; a success starts over. Not thread-safe: each user
 * holds its own under its own lock.
 */
public final class Backoff {

    private final Duration first;
    private final Duration max;
    private int failures;
    private Instant next = Instant.MIN;

    public Backoff(Duration first, Duration max) {
        this.first = first;
        this.max = max;
    }

    /** Whether the wait after the last failure is over at {@code now}. */
    public boolean ready(Instant now) {
        return !now.isBefore(next);
    }

    /** Records a failure at {@code now}; returns how long to wait before the next try. */
    public Duration failed(Instant now) {
        failures++;
        long millis = Math.min(max.toMillis(), first.toMillis() << Math.min(failures - 1, 20));
        next = now.plusMillis(millis);
        return Duration.ofMillis(millis);
    }

    public void succeeded() {
        failures = 0;
        next = Instant.MIN;
    }

    /** Lets the next call go now without forgetting the failures (something new is worth a try). */
    public void tryNow() {
        next = Instant.MIN;
    }

    public int failures() {
        return failures;
    }
}
