package com.maddatum.worker.runner;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

/**
 * Drains one output stream of a child process: into a log file up to a byte cap, and into a
 * fixed-size ring of its last bytes. However much the script prints, the Worker holds at most
 * {@code tailBytes} of it in memory and writes at most {@code maxFileBytes} of it to disk; the rest
 * is read and dropped so the script never blocks on a full pipe.
 */
final class OutputCapture implements Runnable {

    private final InputStream in;
    private final Path file;
    private final long maxFileBytes;
    private final byte[] ring;
    private final ProcessSpec.OutputListener listener;
    /** Finds progress lines in stdout; null for stderr, or when nobody wants them. */
    private final ProgressLines progressLines;
    private long total;
    private int next;
    private boolean wrapped;
    /** Reads done, and whether the pump is in a read now (blocked, when the pipe is empty) or has ended. */
    private volatile long reads;
    private volatile boolean inRead;
    private volatile boolean ended;

    OutputCapture(InputStream in, Path file, long maxFileBytes, int tailBytes, ProcessSpec.OutputListener listener) {
        this(in, file, maxFileBytes, tailBytes, listener, null);
    }

    OutputCapture(InputStream in, Path file, long maxFileBytes, int tailBytes, ProcessSpec.OutputListener listener,
            ProgressLines progressLines) {
        this.in = in;
        this.listener = listener;
        this.progressLines = progressLines;
        this.file = file;
        this.maxFileBytes = maxFileBytes;
        this.ring = new byte[tailBytes];
    }

    @Override
    public void run() {
        byte[] buffer = new byte[64 * 1024];
        try (OutputStream out = Files.newOutputStream(file)) {
            long written = 0;
            boolean marked = false;
            int n;
            while ((n = read(buffer)) >= 0) {
                if (written < maxFileBytes) {
                    int keep = (int) Math.min(n, maxFileBytes - written);
                    out.write(buffer, 0, keep);
                    written += keep;
                } else if (!marked) {
                    out.write(("\n[worker: log cut at " + maxFileBytes + " bytes; the rest was dropped]\n")
                            .getBytes(StandardCharsets.UTF_8));
                    marked = true;
                }
                remember(buffer, n);
                if (progressLines != null) {
                    progressLines.accept(buffer, n);
                }
                if (listener != null) {
                    listener.onOutput(buffer, n);
                }
            }
            if (progressLines != null) {
                progressLines.finish();
            }
        } catch (IOException e) {
            // The process was killed or the pipe closed: what was captured so far stands.
        } finally {
            ended = true;
        }
    }

    private int read(byte[] buffer) throws IOException {
        inRead = true;
        try {
            return in.read(buffer);
        } finally {
            inRead = false;
            reads++;
        }
    }

    /**
     * Waits, for at most {@code max}, until the pump has taken in what the pipe held: it is in a read
     * and no read has returned for {@code quiet}. A writer that never pauses runs the wait out.
     */
    void awaitQuiet(Duration quiet, Duration max) throws InterruptedException {
        long deadline = System.nanoTime() + max.toNanos();
        while (!ended && System.nanoTime() < deadline) {
            long before = reads;
            boolean waiting = inRead;
            Thread.sleep(quiet.toMillis());
            if (waiting && inRead && reads == before) {
                return;
            }
        }
    }

    private synchronized void remember(byte[] buffer, int n) {
        total += n;
        int from = Math.max(0, n - ring.length);
        for (int i = from; i < n; i++) {
            ring[next] = buffer[i];
            next = (next + 1) % ring.length;
            if (next == 0) {
                wrapped = true;
            }
        }
    }

    synchronized long total() {
        return total;
    }

    synchronized boolean truncated() {
        return total > maxFileBytes;
    }

    /** The last bytes, decoded; a character cut at the start of the ring becomes U+FFFD. */
    synchronized String tail() {
        if (!wrapped) {
            return new String(ring, 0, next, StandardCharsets.UTF_8);
        }
        byte[] ordered = new byte[ring.length];
        System.arraycopy(ring, next, ordered, 0, ring.length - next);
        System.arraycopy(ring, 0, ordered, ring.length - next, next);
        return new String(ordered, StandardCharsets.UTF_8);
    }

    /**
     * The last non-empty line that is not a progress line ({@link ProgressLines#PREFIX}), or null; a line
     * longer than the tail cannot be recovered whole, and neither can one followed by more than the tail
     * of progress lines.
     */
    String lastNonEmptyLine() {
        String tail = tail();
        String[] lines = tail.split("\r?\n");
        for (int i = lines.length - 1; i >= 0; i--) {
            if (!lines[i].isBlank() && !lines[i].startsWith(ProgressLines.PREFIX)) {
                boolean whole = i > 0 || !wrapped();
                return whole ? lines[i].strip() : null;
            }
        }
        return null;
    }

    private synchronized boolean wrapped() {
        return wrapped;
    }
}
