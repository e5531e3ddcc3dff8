package com.maddatum.worker.runner;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.stereotype.Component;

/**
 * The one class that runs an external process: command list, work directory, environment, stdin,
 * stdout and stderr drained to capped files with a bounded tail in memory, a timeout, and a kill of
 * every process of the run (SIGTERM, then SIGKILL after a grace period), whether the run ends by
 * itself, by a stop or by its timeout (see {@link RunProcesses} for how they are found).
 *
 * <p>Each process starts in its own session through {@code setsid} (util-linux), which execs the
 * command in place (it forks only when the caller leads a process group, and a JVM's child does not),
 * so that it costs one extra {@code exec} and the pid stays the script's. Each also carries
 * {@code WORKER_RUN_ID} in its environment, which its children inherit.
 */
@Component
public class ProcessRunner {

    private static final Logger log = LoggerFactory.getLogger(ProcessRunner.class);
    /** The variable that marks every process of a run, inherited by its children. */
    public static final String RUN_MARKER = "WORKER_RUN_ID";
    /** A script that has ended by itself is done: what it left running gets this long to stop. */
    static final Duration LEFTOVER_GRACE = Duration.ofMillis(500);
    /**
     * Before what a script left running is signalled, its output is given this long to be read in (the
     * pump quiet for {@link #CAUGHT_UP}), so that the script's own last line is known: a leftover that
     * shares stdout and prints when stopped must not take the Outcome's place.
     */
    static final Duration CATCH_UP = Duration.ofMillis(200);
    static final Duration CAUGHT_UP = Duration.ofMillis(10);
    /** Once the run's processes are gone its pipes are closed; the pumps need only drain what is buffered. */
    static final Duration DRAIN = Duration.ofSeconds(1);

    /**
     * The longest a run takes to end once stopped: SIGTERM, {@code killGrace}, SIGKILL, as long again,
     * the /proc scan under way when that passes, the output's drain, and a second for the polls between.
     */
    public static Duration killBound(Duration killGrace) {
        return killGrace.multipliedBy(2).plus(RunProcesses.SCAN_TIMEOUT).plus(DRAIN).plusSeconds(1);
    }
    private static final String SETSID = firstExecutable("/usr/bin/setsid", "/bin/setsid");

    /** Starts a configured {@link ProcessBuilder}; tests stand in a process that will not die. */
    @FunctionalInterface
    interface Launcher {
        Process start(ProcessBuilder builder) throws IOException;
    }

    private final Clock clock;
    private final Launcher launcher;
    private final RunProcesses.Proc proc;

    @Autowired
    public ProcessRunner(Clock clock) {
        this(clock, ProcessBuilder::start);
    }

    ProcessRunner(Clock clock, Launcher launcher) {
        this(clock, launcher, RunProcesses.LINUX);
    }

    ProcessRunner(Clock clock, Launcher launcher, RunProcesses.Proc proc) {
        this.clock = clock;
        this.launcher = launcher;
        this.proc = proc;
    }

    /** Starts the process; a process that cannot start still yields a handle whose result says why. */
    public Running start(ProcessSpec spec) {
        Instant started = clock.instant();
        Launch launch;
        try {
            launch = launch(spec.command(), spec.workDir(), spec.environment(), spec.inheritEnvironment(),
                    spec.workDir().getFileName().toString());
        } catch (IOException e) {
            return new Running(spec, null, started, e.getMessage(), null, false, new byte[0]);
        }
        return new Running(spec, launch.process, started, null, launch.processes, false, new byte[0]);
    }

    /**
     * Starts a process ahead of its job (a warm interpreter, {@link WarmInterpreters}) as {@link #start}
     * would, in its own session and with its own run marker, with only {@code environment}; nothing reads
     * its output until {@link #handOver}. Its run's processes are those started from now on.
     */
    Prestarted prestart(List<String> command, Path dir, Map<String, String> environment) throws IOException {
        Launch launch = launch(command, dir, environment, false, "warm");
        return new Prestarted(launch.process, launch.runId, launch.processes);
    }

    /**
     * Gives {@code waiting} its job: writes {@code header} (which must hand it {@code spec}'s environment
     * with {@link Prestarted#runId} as {@link #RUN_MARKER}) to its stdin, then, as {@link #start} does,
     * {@code spec}'s stdin, with {@code spec}'s output files, limits and kill. Null when the process is
     * gone or cannot read its job: the caller discards it and starts the job another way.
     */
    Running handOver(Prestarted waiting, ProcessSpec spec, byte[] header) {
        Instant started = clock.instant();
        if (!waiting.process.isAlive()) {
            return null;
        }
        // The first bytes go here, into a pipe that holds at most a preload line (Prestarted.tell), so this
        // never blocks: a launcher that died since the look above fails the write (EPIPE), not the job. The
        // rest, which a launcher stuck in its start-up would never read, goes with the stdin, on the run's own
        // thread, under the run's timeout.
        int now = Math.min(header.length, HEADER_AT_ONCE);
        if (!waiting.write(header, now)) { // after anything Prestarted.tell wrote, never inside it
            return null;
        }
        return new Running(spec, waiting.process, started, null, waiting.processes, true,
                java.util.Arrays.copyOfRange(header, now, header.length));
    }

    /**
     * Within a pipe's buffer (4 KiB at the least, 64 KiB on Linux by default) beside a preload line the launcher
     * may not have read yet.
     */
    static final int HEADER_AT_ONCE = 4096 - 16;

    /**
     * Ends a process that waits for a job it will not get: its stdin closed (a launcher then exits by
     * itself), SIGTERM to it and anything of its run, SIGKILL after {@code grace}; its pipes closed. The
     * JDK reaps it, so it leaves no zombie and no descriptor behind.
     */
    void discard(Prestarted waiting, Duration grace) {
        closeQuietly(waiting.process.getOutputStream());
        try {
            if (waiting.process.isAlive() && !waiting.processes.kill(waiting.process, grace, grace)) {
                log.error("a waiting interpreter outlived SIGKILL pid={}", waiting.process.pid());
            }
        } catch (InterruptedException e) {
            waiting.process.destroyForcibly();
            Thread.currentThread().interrupt();
        } finally {
            closeQuietly(waiting.process.getInputStream());
            closeQuietly(waiting.process.getErrorStream());
        }
    }

    private static void closeQuietly(java.io.Closeable stream) {
        try {
            stream.close();
        } catch (IOException e) {
            // Closing a pipe whose other end is gone: nothing is lost.
        }
    }

    private record Launch(Process process, String runId, RunProcesses processes) {}

    private Launch launch(List<String> given, Path dir, Map<String, String> extra, boolean inherit, String runName)
            throws IOException {
        List<String> command = new ArrayList<>(given);
        if (SETSID != null) {
            // setsid would start and then fail to exec a missing program: find it first, as exec would
            // on the Worker's PATH, and say so the way ProcessBuilder would have.
            String program = resolve(command.get(0));
            if (program == null) {
                throw new IOException("Cannot run program \"" + command.get(0) + "\": not found or not executable");
            }
            command.set(0, program);
            command.add(0, SETSID);
        }
        ProcessBuilder builder = new ProcessBuilder(command).directory(dir.toFile());
        Map<String, String> environment = builder.environment();
        if (!inherit) {
            environment.clear();
        }
        environment.putAll(extra);
        String runId = runName + "-" + Long.toHexString(ThreadLocalRandom.current().nextLong());
        environment.put(RUN_MARKER, runId);
        RunProcesses processes = new RunProcesses(RUN_MARKER + "=" + runId, RunProcesses.ticksBefore(), proc,
                RunProcesses.SCAN_TIMEOUT);
        Process process = launcher.start(builder);
        processes.started(process.pid(), SETSID != null);
        return new Launch(process, runId, processes);
    }

    /**
     * A process started ahead of its job ({@link #prestart}). Whoever {@link #claim}s it first (the job it
     * is handed to, a discard, the note that it died) is its only owner.
     */
    static final class Prestarted {
        private final Process process;
        private final String runId;
        private final RunProcesses processes;
        private final java.util.concurrent.atomic.AtomicBoolean claimed = new java.util.concurrent.atomic.AtomicBoolean();

        private Prestarted(Process process, String runId, RunProcesses processes) {
            this.process = process;
            this.runId = runId;
            this.processes = processes;
        }

        Process process() {
            return process;
        }

        /** The value of {@link #RUN_MARKER} it was started with, which its job's environment must carry on. */
        String runId() {
            return runId;
        }

        boolean claim() {
            return claimed.compareAndSet(false, true);
        }

        /**
         * Writes {@code line} to its stdin unless it was claimed for a job (whose header the claimer writes
         * under the same lock, so the two never interleave); false when not written. A few bytes into a pipe
         * nothing else writes to before the header: it does not block.
         */
        synchronized boolean tell(byte[] line) {
            return !claimed.get() && process.isAlive() && write(line, line.length);
        }

        /** The first {@code length} bytes to its stdin, flushed, under the lock {@link #tell} holds; false if it died. */
        private synchronized boolean write(byte[] bytes, int length) {
            try {
                OutputStream in = process.getOutputStream();
                in.write(bytes, 0, length);
                in.flush();
                return true;
            } catch (IOException e) {
                return false; // it died: its own note tidies it up
            }
        }
    }

    /** A started process. {@link #await} blocks until it ends; {@link #stop} may be called from any thread. */
    public final class Running {
        private final ProcessSpec spec;
        private final Process process;
        private final Instant startedAt;
        private final String startError;
        private final RunProcesses processes;
        private final OutputCapture stdout;
        private final OutputCapture stderr;
        private final Thread[] pumps;
        private final CompletableFuture<StopReason> stopRequest = new CompletableFuture<>();
        private final boolean warm;
        /** What goes to stdin before the spec's own: the rest of a warm interpreter's job header. */
        private final byte[] stdinFirst;

        private Running(ProcessSpec spec, Process process, Instant startedAt, String startError, RunProcesses processes,
                boolean warm, byte[] stdinFirst) {
            this.warm = warm;
            this.stdinFirst = stdinFirst;
            this.spec = spec;
            this.process = process;
            this.startedAt = startedAt;
            this.startError = startError;
            this.processes = processes;
            if (process == null) {
                this.stdout = null;
                this.stderr = null;
                this.pumps = new Thread[0];
                return;
            }
            this.stdout = new OutputCapture(process.getInputStream(), spec.stdoutFile(), spec.maxLogBytes(),
                    spec.tailBytes(), spec.listener(), spec.progress() == null ? null
                            : new ProgressLines(spec.progress(), spec.workDir().getFileName().toString()));
            this.stderr = new OutputCapture(process.getErrorStream(), spec.stderrFile(), spec.maxLogBytes(),
                    spec.tailBytes(), spec.listener());
            this.pumps = new Thread[] {daemon(stdout, "stdout"), daemon(stderr, "stderr"), daemon(this::feedStdin, "stdin")};
        }

        public long pid() {
            return process == null ? -1 : process.pid();
        }

        /** Completes once the script's own process has exited (at once when it never started). */
        CompletableFuture<Void> exited() {
            return process == null ? CompletableFuture.completedFuture(null) : process.onExit().thenApply(p -> null);
        }

        /** Whether the job went to an interpreter started ahead of it ({@link WarmInterpreters}). */
        public boolean warm() {
            return warm;
        }

        /**
         * Asks for the run to be stopped. It returns at once: the kill itself happens on the thread in
         * {@link #await}, so that a caller such as a heartbeat never waits out a kill grace. The first
         * reason given wins; a process that has already ended is not killed and keeps its own result.
         */
        public void stop(StopReason reason) {
            stopRequest.complete(reason);
        }

        /**
         * Waits until the process ends by itself, its timeout passes, or a stop is asked for; kills every
         * process of the run that is still alive; and waits, boundedly, for the output to drain.
         */
        public ProcessResult await() throws InterruptedException {
            if (process == null) {
                Instant now = clock.instant();
                return new ProcessResult(null, startError, null, null, false, 0, null, "", "", 0, 0, false,
                        startedAt, now);
            }
            StopReason reason = waitForEndOrStop();
            StopReason stoppedBy = null;
            String killedBecause = null;
            boolean gone = true;
            if (reason != null && endedBeforeTheStop()) {
                reason = null;
            }
            if (reason != null && process.isAlive()) {
                // From here on this kill is what ends the run: a stop asked for meanwhile changes nothing.
                stoppedBy = reason;
                killedBecause = reason == StopReason.TIMEOUT ? "timeout after " + spec.timeout()
                        : reason.name().toLowerCase(Locale.ROOT);
                log.info("killing run pid={} reason={}", process.pid(), killedBecause);
                gone = processes.kill(process, spec.killGrace(), spec.killGrace());
            }
            int leftovers = 0;
            String lastLine = null; // the script's own, when what it left running may print more
            if (gone && killedBecause == null) { // after a kill, nothing of the run is left to find
                try {
                    List<ProcessHandle> left = processes.members(null);
                    leftovers = left.size();
                    if (leftovers > 0) {
                        stdout.awaitQuiet(CAUGHT_UP, CATCH_UP);
                        lastLine = stdout.lastNonEmptyLine();
                        log.warn("script left processes running; killing them pid={} count={} pids={}", process.pid(),
                                leftovers, left.stream().map(ProcessHandle::pid).toList());
                        gone = processes.kill(null, LEFTOVER_GRACE, spec.killGrace());
                    }
                } catch (RunProcesses.ScanStuck e) {
                    log.error("cannot tell whether the script left processes pid={} error={}", process.pid(), e.getMessage());
                    gone = false;
                }
            }
            if (!gone) {
                log.error("a process of the run outlived SIGKILL pid={} alive={}", process.pid(), process.isAlive());
            }
            drain();
            Integer exitCode = process.isAlive() ? null : process.exitValue();
            return new ProcessResult(exitCode, null, killedBecause, stoppedBy, !gone, leftovers,
                    lastLine != null ? lastLine : stdout.lastNonEmptyLine(), stdout.tail(), stderr.tail(),
                    stdout.total(), stderr.total(), stdout.truncated() || stderr.truncated(), startedAt, clock.instant());
        }

        /**
         * The JDK marks a process ended only after its reaper thread returns from {@code waitpid}: a
         * script that exited just before a stop can still look alive for a moment. The kernel knows
         * better (gone, or a zombie); such a run keeps its own result instead of being reported stopped.
         */
        private boolean endedBeforeTheStop() throws InterruptedException {
            return processes.ended(process.pid()) && process.waitFor(CATCH_UP.toMillis(), TimeUnit.MILLISECONDS);
        }

        /** Null when the process ended by itself; else the stop asked for first, or {@link StopReason#TIMEOUT}. */
        private StopReason waitForEndOrStop() throws InterruptedException {
            try {
                Object first = CompletableFuture.anyOf(process.onExit(), stopRequest)
                        .get(spec.timeout().toMillis(), TimeUnit.MILLISECONDS);
                return first instanceof StopReason reason ? reason : null;
            } catch (TimeoutException e) {
                return StopReason.TIMEOUT;
            } catch (ExecutionException e) {
                throw new IllegalStateException("waiting for the process failed", e);
            }
        }

        /** Joins the pumps within one {@link #DRAIN}: a holder of the pipes that escaped every kill must not hold the slot. */
        private void drain() throws InterruptedException {
            long deadline = System.nanoTime() + DRAIN.toNanos();
            for (Thread pump : pumps) {
                long left = TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime());
                if (left > 0) {
                    pump.join(left);
                }
            }
        }

        private void feedStdin() {
            try (OutputStream in = process.getOutputStream()) {
                in.write(stdinFirst);
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

    private static String firstExecutable(String... candidates) {
        for (String candidate : candidates) {
            if (Files.isExecutable(Path.of(candidate))) {
                return candidate;
            }
        }
        return null;
    }

    /** The executable {@code program} names, directly or on the Worker's PATH as exec would find it; else null. */
    private static String resolve(String program) {
        if (program.contains("/")) {
            return Files.isExecutable(Path.of(program)) ? program : null;
        }
        String path = System.getenv("PATH");
        for (String dir : (path == null ? "/usr/bin:/bin" : path).split(":")) {
            Path candidate = Path.of(dir.isEmpty() ? "." : dir, program);
            if (Files.isRegularFile(candidate) && Files.isExecutable(candidate)) {
                return candidate.toString();
            }
        }
        return null;
    }
}
