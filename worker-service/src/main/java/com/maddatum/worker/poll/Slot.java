package com.maddatum.worker.poll;

import com.maddatum.worker.client.Backoff;
import java.time.Duration;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadFactory;

/**
 * One concurrent job's place on this Worker; which GPU it runs on is {@code gpu/GpuRoster}'s to say,
 * claim by claim. It has its own
 * heartbeat thread and its own log-shipping thread, so that one slot's slow Boss call or kill never
 * delays another slot's heartbeat past its lease.
 */
final class Slot {

    final int index;
    final ScheduledExecutorService beats;
    final ScheduledExecutorService logs;
    final Backoff backoff;
    volatile boolean busy;
    /** A process of its last run outlived SIGKILL: it may still hold the GPU, so the slot takes no more work. */
    volatile boolean broken;
    /** Set while the slot waits in a long poll, so that shutdown can cut the wait short. */
    volatile Thread polling;

    Slot(int index, Duration firstBackoff) {
        this.index = index;
        this.beats = Executors.newSingleThreadScheduledExecutor(daemon("slot-" + index + "-heartbeat"));
        this.logs = Executors.newSingleThreadScheduledExecutor(daemon("slot-" + index + "-logs"));
        this.backoff = new Backoff(firstBackoff, Duration.ofMinutes(1));
    }

    void close() {
        beats.shutdownNow();
        logs.shutdownNow();
    }

    static ThreadFactory daemon(String name) {
        return runnable -> {
            Thread thread = new Thread(runnable, name);
            thread.setDaemon(true);
            return thread;
        };
    }
}
