package com.maddatum.worker.runner;

import java.io.IOException;
import java.io.OutputStream;
import java.time.Clock;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.stereotype.Component;

/**
 * The one class that runs an external process: command list, work directory, environment, stdin,
 * stdout and stderr drained to capped files with a bounded tail in memory, a timeout, and a kill
 * of the whole process tree (SIGTERM, then SIGKILL after a grace period).
 */
@Component
public class ProcessRunner {

    private static final Logger log = LoggerFactory.getLogger(ProcessRunner.class);

    private final Clock clock;

    public ProcessRunner(Clock clock) {
        this.clock = clock;
    }

    /** Starts the process; a process that cannot start still yields a handle whose result says why. */
    public Running start(ProcessSpec spec) {
        Instant started = clock.instant();
        ProcessBuilder builder = new ProcessBuilder(spec.command()).directory(spec.workDir().toFile());
        builder.environment().putAll(spec.environment());
        Process process;
        try {
            process = builder.start();
        } catch (IOException e) {
            return new Running(spec, null, started, e.getMessage());
        }
        return new Running(spec, process, started, null);
    }

    /** A started process. {@link #await} blocks until it ends; {@link #kill} may be called from any thread. */
    public final class Running {
        private final ProcessSpec spec;
        private final Process process;
        private final Instant startedAt;
        private final String startError;
        private final OutputCapture stdout;
        private final OutputCapture stderr;
        private final Thread[] pumps;
        private final AtomicReference<String> killedBecause = new AtomicReference<>();

        private Running(ProcessSpec spec, Process process, Instant startedAt, String startError) {
            this.spec = spec;
            this.process = process;
            this.startedAt = startedAt;
            this.startError = startError;
            if (process == null) {
                this.stdout = null;
                this.stderr = null;
                this.pumps = new Thread[0];
                return;
            }
            this.stdout = new OutputCapture(process.getInputStream(), spec.stdoutFile(), spec.maxLogBytes(),
                    spec.tailBytes(), spec.listener());
            this.stderr = new OutputCapture(process.getErrorStream(), spec.stderrFile(), spec.maxLogBytes(),
                    spec.tailBytes(), spec.listener());
            this.pumps = new Thread[] {daemon(stdout, "stdout"), daemon(stderr, "stderr"), daemon(this::feedStdin, "stdin")};
        }

        public long pid() {
            return process == null ? -1 : process.pid();
        }

        public ProcessResult await() throws InterruptedException {
            if (process == null) {
                Instant now = clock.instant();
                return new ProcessResult(null, startError, null, false, null, "", "", 0, 0, false, startedAt, now);
            }
            boolean timedOut = false;
            if (!process.waitFor(spec.timeout().toMillis(), TimeUnit.MILLISECONDS)) {
                timedOut = true;
                kill("timeout after " + spec.timeout());
                process.waitFor();
            }
            for (Thread pump : pumps) {
                // A grandchild that escaped the kill could hold the pipes open: do not wait forever.
                pump.join(spec.killGrace().toMillis() + 1000);
            }
            return new ProcessResult(process.exitValue(), null, killedBecause.get(), timedOut,
                    stdout.lastNonEmptyLine(), stdout.tail(), stderr.tail(), stdout.total(), stderr.total(),
                    stdout.truncated() || stderr.truncated(), startedAt, clock.instant());
        }

        /** Stops the process and every descendant: SIGTERM first, SIGKILL to whatever is left after the grace. */
        public void kill(String reason) {
            if (process == null || !killedBecause.compareAndSet(null, reason)) {
                return;
            }
            List<ProcessHandle> tree = process.descendants().toList();
            log.info("killing process tree pid={} descendants={} reason={}", process.pid(), tree.size(), reason);
            tree.forEach(ProcessHandle::destroy);
            process.destroy();
            long deadline = System.nanoTime() + spec.killGrace().toNanos();
            for (ProcessHandle handle : concat(tree)) {
                long left = deadline - System.nanoTime();
                try {
                    handle.onExit().get(Math.max(0, left), TimeUnit.NANOSECONDS);
                } catch (Exception stillAlive) {
                    handle.destroyForcibly();
                }
            }
        }

        private List<ProcessHandle> concat(List<ProcessHandle> tree) {
            List<ProcessHandle> all = new java.util.ArrayList<>(tree);
            all.add(process.toHandle());
            return all;
        }

        private void feedStdin() {
            try (OutputStream in = process.getOutputStream()) {
                in.write(spec.stdin());
            } catch (IOException e) {
                // The script does not read stdin, or has ended: that is its right.
            }
        }

        private Thread daemon(Runnable body, String stream) {
            Thread thread = new Thread(body, "proc-" + process.pid() + "-" + stream);
            thread.setDaemon(true);
            thread.start();
            return thread;
        }
    }
}
