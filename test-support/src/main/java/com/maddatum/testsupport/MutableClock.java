package com.maddatum.testsupport;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.concurrent.atomic.AtomicReference;

/**
 * A clock tests move forward by hand, so leases expire and back-offs pass without waiting for them.
 * {@link #ticking()} follows real time plus the offset; {@link #stopped()} stands still until moved.
 */
public final class MutableClock extends Clock {

    private final Instant stoppedAt;
    private final AtomicReference<Duration> offset = new AtomicReference<>(Duration.ZERO);

    private MutableClock(Instant stoppedAt) {
        this.stoppedAt = stoppedAt;
    }

    public static MutableClock ticking() {
        return new MutableClock(null);
    }

    public static MutableClock stopped() {
        return new MutableClock(Instant.parse("2026-01-01T00:00:00Z"));
    }

    public void advance(Duration by) {
        offset.accumulateAndGet(by, Duration::plus);
    }

    @Override
    public Instant instant() {
        return (stoppedAt == null ? Instant.now() : stoppedAt).plus(offset.get());
    }

    @Override
    public ZoneId getZone() {
        return ZoneOffset.UTC;
    }

    @Override
    public Clock withZone(ZoneId zone) {
        return this;
    }
}
