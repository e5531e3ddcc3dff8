package com.maddatum.worker.client;

import java.net.HttpURLConnection;
import java.time.Duration;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

/**
 * A watchdog for one upload. A socket write has no timeout: a Boss that stops reading (its store stuck, a
 * network that drops everything) would hold the writing thread, and its slot, forever. Every
 * {@link #TICK_MILLIS} one shared daemon thread looks at each watched transfer and disconnects it when no
 * byte has moved before its deadline ({@link #progress} pushes it {@code stall} ahead), when the run it
 * belongs to is stopped (a cancellation, a lost lease, a shutdown), or when the uploading thread is
 * interrupted. Disconnecting closes the socket, which ends a blocked write or read with an exception; the
 * uploader then asks {@link #cause} why.
 */
final class TransferWatch implements AutoCloseable {

    static final long TICK_MILLIS = 100;
    private static final ScheduledExecutorService WATCHDOG = Executors.newSingleThreadScheduledExecutor(task -> {
        Thread thread = new Thread(task, "blob-transfer-watchdog");
        thread.setDaemon(true);
        return thread;
    });

    /** Why the watchdog ended a transfer. */
    enum Cause {
        STALLED, STOPPED, INTERRUPTED
    }

    private final HttpURLConnection connection;
    private final long stallNanos;
    private final BooleanSupplier stopped;
    private final Thread worker = Thread.currentThread();
    private volatile ScheduledFuture<?> ticks;
    private volatile long deadline;
    private volatile Cause cause;

    /** Watches {@code connection} for the calling thread; the first deadline is {@code firstWait} from now. */
    TransferWatch(HttpURLConnection connection, Duration stall, Duration firstWait, BooleanSupplier stopped) {
        this.connection = connection;
        this.stallNanos = stall.toNanos();
        this.stopped = stopped;
        this.deadline = System.nanoTime() + Math.max(stallNanos, firstWait.toNanos());
        this.ticks = WATCHDOG.scheduleWithFixedDelay(this::look, TICK_MILLIS, TICK_MILLIS, TimeUnit.MILLISECONDS);
    }

    /** Bytes moved: the transfer may wait {@code stall} again. */
    void progress() {
        deadline = System.nanoTime() + stallNanos;
    }

    /** Why the watchdog disconnected the transfer; null when it did not. */
    Cause cause() {
        return cause;
    }

    private void look() {
        Cause why = null;
        try {
            why = worker.isInterrupted() ? Cause.INTERRUPTED
                    : stopped.getAsBoolean() ? Cause.STOPPED
                    : System.nanoTime() - deadline > 0 ? Cause.STALLED : null;
        } catch (RuntimeException e) {
            why = Cause.STOPPED; // a stop signal that fails is no reason to keep a slot
        }
        if (why != null && cause == null) {
            cause = why;
            close();
            connection.disconnect();
        }
    }

    @Override
    public void close() {
        ScheduledFuture<?> scheduled = ticks;
        if (scheduled != null) {
            scheduled.cancel(false);
        }
    }
}
