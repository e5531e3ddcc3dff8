package com.maddatum.worker.runner;

import java.time.Duration;
import java.time.Instant;

/**
 * How a process ended. {@code startError} is set when it never started (no such interpreter, no
 * permission); {@code stoppedBy} and {@code killedBecause} (the same in words) only when the Worker's
 * kill reached a process that was still running, and then they name what started that kill: its
 * timeout, or the first stop asked for. A stop asked for after the script had ended, or while a kill
 * for another reason was under way, changes nothing. {@code stuck}: some process
 * of the run was still alive after SIGKILL and the bounded wait that follows it (a process stuck in
 * the kernel); {@code exitCode} is then null. {@code leftovers}: processes the script left running
 * when it ended by itself, which the runner then killed.
 */
public record ProcessResult(
        Integer exitCode,
        String startError,
        String killedBecause,
        StopReason stoppedBy,
        boolean stuck,
        int leftovers,
        String lastStdoutLine,
        String stdoutTail,
        String stderrTail,
        long stdoutBytes,
        long stderrBytes,
        boolean logsTruncated,
        Instant startedAt,
        Instant finishedAt) {

    public boolean timedOut() {
        return stoppedBy == StopReason.TIMEOUT;
    }

    public boolean started() {
        return startError == null;
    }

    public Duration duration() {
        return Duration.between(startedAt, finishedAt);
    }
}
