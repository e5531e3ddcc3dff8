package com.maddatum.worker.runner;

import java.time.Duration;
import java.time.Instant;

/**
 * How a process ended. {@code startError} is set when it never started (no such interpreter, no
 * permission); {@code killedBecause} when the Worker stopped it (timeout, cancellation, shutdown).
 */
public record ProcessResult(
        Integer exitCode,
        String startError,
        String killedBecause,
        boolean timedOut,
        String lastStdoutLine,
        String stdoutTail,
        String stderrTail,
        long stdoutBytes,
        long stderrBytes,
        boolean logsTruncated,
        Instant startedAt,
        Instant finishedAt) {

    public boolean started() {
        return startError == null;
    }

    public Duration duration() {
        return Duration.between(startedAt, finishedAt);
    }
}
