package com.maddatum.worker.poll;

import com.maddatum.worker.client.BossClient;
import com.maddatum.worker.runner.ProcessSpec;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;

/**
 * Sends a running script's output to the Boss in batches (one a second), so people can watch it
 * live. Best effort and bounded: at most {@link #MAX_BATCH} bytes wait in memory; if the script
 * prints faster than that, the older part of the batch is dropped with a marker. The full logs stay
 * in the work directory, and the tail goes with the Outcome. The last batch goes with the Outcome too
 * ({@link #takeRest}), to a Boss that takes it there, instead of in a request of its own just before.
 */
final class LogShipper implements ProcessSpec.OutputListener {

    static final int MAX_BATCH = 60 * 1024;

    private final BossClient boss;
    private final String orderId;
    private final String node;
    private final int attempt;
    private final ByteArrayOutputStream pending = new ByteArrayOutputStream();
    private long skipped;
    private final Object sending = new Object();
    private volatile boolean unwanted;

    LogShipper(BossClient boss, String orderId, String node, int attempt) {
        this.boss = boss;
        this.orderId = orderId;
        this.node = node;
        this.attempt = attempt;
    }

    @Override
    public synchronized void onOutput(byte[] bytes, int length) {
        if (unwanted) {
            return;
        }
        int from = Math.max(0, length - MAX_BATCH);
        skipped += from;
        pending.write(bytes, from, length - from);
        if (pending.size() > MAX_BATCH) {
            byte[] all = pending.toByteArray();
            int drop = all.length - MAX_BATCH;
            skipped += drop;
            pending.reset();
            pending.write(all, drop, MAX_BATCH);
        }
    }

    /** Sends what has accumulated since the last call; batches go out one at a time, in order. */
    void flush() {
        synchronized (sending) {
            send();
        }
    }

    /**
     * What has not been sent yet, to travel with the outcome instead of in a request of its own; null when
     * there is none, or the Boss no longer wants it. Nothing is sent after this.
     */
    String takeRest() {
        synchronized (sending) {
            synchronized (this) {
                String rest = pending.size() == 0 || unwanted ? null : text();
                unwanted = true;
                return rest;
            }
        }
    }

    private String text() {
        String text = (skipped > 0 ? "[worker: " + skipped + " bytes of output skipped]\n" : "")
                + pending.toString(StandardCharsets.UTF_8);
        pending.reset();
        skipped = 0;
        return text;
    }

    private void send() {
        String text;
        synchronized (this) {
            if (pending.size() == 0 || unwanted) {
                return;
            }
            text = text();
        }
        if (!boss.logs(orderId, node, attempt, text)) {
            unwanted = true;
        }
    }
}
