package com.maddatum.worker.runner;

import com.maddatum.worker.config.WorkerProperties;
import com.maddatum.worker.config.WorkerSettings;
import jakarta.annotation.PreDestroy;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Deque;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.stereotype.Component;

/**
 * A warm interpreter per slot: while a slot runs a job or waits for one, the Python process for its
 * next job is already started ({@code python -u -c <runner/warm_launcher.py>}) and blocks reading its
 * job from stdin. Handed a job, it sets {@code sys.argv}, {@code os.environ}, the working directory and
 * {@code sys.path[0]} as {@code python -u <script> <job JSON>} would have had them, and runs the script
 * compiled into a module {@code __main__} that stays so through shutdown, as a cold start does; what follows the job header on its stdin is the Job JSON and
 * end of file, as a cold start gets. The ~20 ms of interpreter start-up then overlaps the previous job's
 * reporting instead of following the claim, and so does the loading of the standard modules the scripts
 * import ({@code worker.warm-interpreter.preload}), handed over only when the script's import would have
 * found the same files (the launcher's header says how). One process per job, never reused; the run is a
 * {@link ProcessRunner.Running} like any other (session, marker, log caps, kill, exit code).
 *
 * <p>Waiting interpreters are kept per lane (the slot's GPU, or none), at most one per slot that can
 * use the lane. One fits a job when it was started with the same interpreter, flags and script
 * directory, and with the job's environment but for {@link #PER_RUN} (variables no interpreter reads at
 * start-up). A job that finds none that fits runs cold; a waiting one in its lane that does not fit
 * (another GPU binding, other variables, another interpreter) is discarded, and each job leaves a fresh
 * one started for the next. One that died while waiting is dropped and the job runs cold. A job opts
 * out with {@code "warm": false}; {@code worker.warm-interpreter.enabled=false} turns it all off. One that
 * has waited {@link #MAX_WAIT} is discarded rather than used: it would not see what changed since it
 * started (packages installed, a {@code .pth} file, a new virtual environment behind the same path). A
 * waiting interpreter holds no job, so killing it costs nothing, and if the Worker itself dies its
 * stdin reaches end of file and it exits by itself.
 */
@Component
public class WarmInterpreters {

    private static final Logger log = LoggerFactory.getLogger(WarmInterpreters.class);
    /**
     * Variables that differ from run to run and that Python does not read as it starts: a waiting
     * interpreter is started without them and given them with its job. Any other variable is part of what
     * an interpreter was started with, so a job that differs in it gets a fresh one.
     */
    static final Set<String> PER_RUN = Set.of("JOB_FILE", "OUTPUT_DIR", "DATA_DIR", "DATA_FILE", "INPUT_DIR",
            "BOSS_ORDER_ID", "BOSS_ATTEMPT", "LOCAL_RUN_ID");
    static final String LAUNCHER = loadLauncher();
    /** A waiting interpreter is discarded with SIGTERM; SIGKILL follows after this. */
    static final Duration DISCARD_GRACE = Duration.ofMillis(500);
    /** The longest an interpreter waits for a job before it is discarded as too old to stand for a cold start. */
    static final Duration MAX_WAIT = Duration.ofMinutes(10);
    /**
     * A run's lane gets its next interpreter when the run's script exits, or this long after the run started
     * if that comes first: a long job does not keep its lane's other users (a local run) cold throughout.
     */
    static final Duration REPLENISH_AT_THE_LATEST = Duration.ofSeconds(1);
    /**
     * A waiting interpreter preloads its modules when its slot goes idle ({@link #slotIdle}), or once it has
     * waited this long. Not as it starts: jobs back to back hand each interpreter its job within tens of ms,
     * and a preload then (about 25 ms of a core) only ran beside the previous job's reporting on two cores
     * and made every job slower (bench/ANALYSIS.md, 2026-12-04: per job 93 -> 108 ms).
     */
    static final Duration PRELOAD_WHEN_UNUSED = Duration.ofSeconds(1);
    /**
     * How long after its slot went idle an interpreter is told: a long poll that finds a job at once hands it
     * over within this, to an interpreter that then has not begun a preload the job would wait for.
     */
    static final Duration PRELOAD_WHEN_IDLE = Duration.ofMillis(100);
    /** What the launcher reads, before a job's header, as "preload now". */
    static final byte[] PRELOAD = "preload\n".getBytes(StandardCharsets.US_ASCII);

    private final ProcessRunner runner;
    private final boolean enabled;
    private final Path home;
    private final int perLane;
    private final Duration maxWait;
    /** The standard modules a waiting interpreter loads ahead, given to the launcher after {@code -c}. */
    private final List<String> preload;
    private final Duration preloadWhenUnused;
    /** Guarded by {@code this}: the waiting interpreters of each lane, oldest first. */
    private final Map<Object, Deque<Waiting>> lanes = new HashMap<>();
    /** Starts and discards interpreters off the slots' threads, one at a time. */
    private final ScheduledThreadPoolExecutor background = new ScheduledThreadPoolExecutor(1, runnable -> {
        Thread thread = new Thread(runnable, "warm-interpreters");
        thread.setDaemon(true);
        return thread;
    });

    {
        background.setExecuteExistingDelayedTasksAfterShutdownPolicy(false);
    }
    private boolean closed;

    @Autowired
    public WarmInterpreters(WorkerSettings settings, ProcessRunner runner) {
        this(runner, settings.warmInterpreter().enabled(), settings.workDir(), settings.slots() + 1, MAX_WAIT,
                settings.warmInterpreter().preload(), PRELOAD_WHEN_UNUSED);
    }

    /** {@code perLane}: the most waiting interpreters a lane keeps (its slots, plus the local runs' one). */
    WarmInterpreters(ProcessRunner runner, boolean enabled, Path home, int perLane) {
        this(runner, enabled, home, perLane, MAX_WAIT, WorkerProperties.WarmInterpreter.DEFAULT_PRELOAD,
                PRELOAD_WHEN_UNUSED);
    }

    WarmInterpreters(ProcessRunner runner, boolean enabled, Path home, int perLane, Duration maxWait,
            List<String> preload, Duration preloadWhenUnused) {
        this.runner = runner;
        this.enabled = enabled;
        this.home = home;
        this.perLane = perLane;
        this.maxWait = maxWait;
        this.preload = List.copyOf(preload);
        this.preloadWhenUnused = preloadWhenUnused;
    }

    /** What an interpreter was started with, which a job must share to be handed to it. */
    record Key(String python, String flag, Path scriptDir, Map<String, String> environment) {

        /** The key of a cold {@code [python, -u, script, args...]} spec; null for any other (it runs cold). */
        static Key of(ProcessSpec spec) {
            List<String> command = spec.command();
            if (spec.inheritEnvironment() || command.size() < 3 || !command.get(1).equals("-u")
                    || !command.get(2).endsWith(".py")) {
                return null;
            }
            if (startsWithRelativePaths(spec.environment())) {
                return null;
            }
            Map<String, String> environment = new HashMap<>(spec.environment());
            environment.keySet().removeAll(PER_RUN);
            Path script = Path.of(command.get(2));
            return new Key(command.get(0), command.get(1), script.getParent(), Map.copyOf(environment));
        }
    }

    /** Variables Python reads as it starts that name paths, PYTHONPATH's entries separated by ':'. */
    static final Set<String> START_UP_PATHS = Set.of("PYTHONPATH", "PYTHONHOME", "PYTHONUSERBASE",
            "PYTHONPYCACHEPREFIX");

    /**
     * True when such a variable has an empty or relative entry: Python resolves it against the directory it
     * starts in, which for a cold start is the run's own and for a waiting interpreter the Worker's work
     * directory, where an earlier job could leave a module for the next ones to import. Such a job runs cold.
     */
    static boolean startsWithRelativePaths(Map<String, String> environment) {
        for (String name : START_UP_PATHS) {
            String value = environment.get(name);
            if (value != null && Arrays.stream(value.split(":", -1)).anyMatch(entry -> !entry.startsWith("/"))) {
                return true;
            }
        }
        return false;
    }

    /**
     * {@code since}: {@link System#nanoTime} when it was started; {@code preload}: 0 not told to preload, 1 a
     * tell scheduled, 2 told.
     */
    private record Waiting(Key key, ProcessRunner.Prestarted process, long since, AtomicInteger preload) {

        boolean tooOld(Duration maxWait) {
            return System.nanoTime() - since > maxWait.toNanos();
        }
    }

    /**
     * Starts {@code spec} on a waiting interpreter of {@code gpu}'s lane when one fits and {@code warm}
     * allows, else cold as {@link ProcessRunner#start} does; either way the lane's next interpreter is
     * started, off this thread, once this script's process has exited (or {@link #REPLENISH_AT_THE_LATEST}
     * after it started). Not at once: on a machine with few cores the next interpreter's start-up (30-60 ms
     * of a core) then ran beside the script's own start and delayed its first line by about 11 ms
     * (bench/ANALYSIS.md, 2026-12-04); started at the script's end it overlaps the run's reporting and the
     * next claim instead, which is what it was for.
     */
    public ProcessRunner.Running start(ProcessSpec spec, Integer gpu, boolean warm) {
        Key key = enabled && warm ? Key.of(spec) : null;
        if (key == null) {
            return runner.start(spec);
        }
        Object lane = gpu == null ? "cpu" : gpu;
        ProcessRunner.Prestarted waiting = take(lane, key);
        ProcessRunner.Running running = null;
        if (waiting != null) {
            Map<String, String> environment = new LinkedHashMap<>(spec.environment());
            environment.put(ProcessRunner.RUN_MARKER, waiting.runId());
            running = runner.handOver(waiting, spec, header(spec.workDir(),
                    spec.command().subList(2, spec.command().size()), environment));
            if (running == null) {
                log.info("warm interpreter gone before its job, starting the script cold pid={} lane={}",
                        waiting.process().pid(), lane);
                discardLater(waiting);
            }
        }
        if (running == null) {
            running = runner.start(spec);
        }
        AtomicBoolean replenished = new AtomicBoolean();
        Runnable next = () -> {
            if (replenished.compareAndSet(false, true)) {
                replenish(lane, key);
            }
        };
        running.exited().whenComplete((done, failed) -> next.run());
        later(next, REPLENISH_AT_THE_LATEST);
        return running;
    }

    /** The number of interpreters waiting, all lanes together. */
    public synchronized int waiting() {
        return lanes.values().stream().mapToInt(Deque::size).sum();
    }

    /** The pids of the interpreters waiting, for tests. */
    synchronized List<Long> waitingPids() {
        return lanes.values().stream().flatMap(Deque::stream).map(w -> w.process().process().pid()).toList();
    }

    /** A fitting, live interpreter of the lane, claimed; the lane's ones that do not fit are discarded. */
    private ProcessRunner.Prestarted take(Object lane, Key key) {
        ProcessRunner.Prestarted found = null;
        List<ProcessRunner.Prestarted> stale = new ArrayList<>();
        synchronized (this) {
            Deque<Waiting> waiting = lanes.getOrDefault(lane, new ArrayDeque<>());
            for (Iterator<Waiting> it = waiting.iterator(); it.hasNext(); ) {
                Waiting next = it.next();
                if (!next.key().equals(key) || next.tooOld(maxWait)) {
                    it.remove();
                    if (next.process().claim()) { // else it died and its own note tidies it up
                        stale.add(next.process());
                    }
                } else if (found == null && next.process().claim()) {
                    it.remove();
                    found = next.process();
                }
            }
        }
        for (ProcessRunner.Prestarted old : stale) {
            log.info("discarding a warm interpreter whose start no longer fits its lane, or too old pid={} lane={}",
                    old.process().pid(), lane);
            discardLater(old);
        }
        return found;
    }

    private void replenish(Object lane, Key key) {
        later(() -> prestart(lane, key), Duration.ZERO);
    }

    /** Runs {@code task} on the background thread after {@code delay}; nothing once closing (no more is needed). */
    private void later(Runnable task, Duration delay) {
        try {
            background.schedule(task, delay.toMillis(), TimeUnit.MILLISECONDS);
        } catch (RejectedExecutionException closing) {
            // Shutting down: no more interpreters, and the waiting ones are discarded.
        }
    }

    private void prestart(Object lane, Key key) {
        synchronized (this) {
            if (closed || lanes.getOrDefault(lane, new ArrayDeque<>()).size() >= perLane) {
                return;
            }
        }
        ProcessRunner.Prestarted started;
        try {
            List<String> command = new ArrayList<>(List.of(key.python(), key.flag(), "-c", LAUNCHER));
            command.addAll(preload);
            started = runner.prestart(command, home, key.environment());
        } catch (IOException | RuntimeException e) {
            log.warn("cannot start a warm interpreter; jobs start cold python={} error={}", key.python(), e.toString());
            return;
        }
        Waiting waiting = new Waiting(key, started, System.nanoTime(), new AtomicInteger());
        boolean kept;
        synchronized (this) {
            Deque<Waiting> queue = lanes.computeIfAbsent(lane, any -> new ArrayDeque<>());
            kept = !closed && queue.size() < perLane;
            if (kept) {
                queue.add(waiting);
            }
        }
        if (!kept) {
            started.claim();
            runner.discard(started, DISCARD_GRACE);
            return;
        }
        started.process().onExit().thenRun(() -> diedWhileWaiting(lane, waiting));
        later(() -> schedulePreload(waiting, Duration.ZERO), preloadWhenUnused);
    }

    /**
     * A slot of {@code gpu}'s lane (null: a CPU slot) has no job and is about to wait for one: its lane's
     * waiting interpreters preload their modules (each at most once), {@link #PRELOAD_WHEN_IDLE} later and off
     * the caller's thread, unless a job took them by then. The Worker's poller calls it before each long poll.
     */
    public void slotIdle(Integer gpu) {
        if (preload.isEmpty()) {
            return;
        }
        List<Waiting> lane;
        synchronized (this) {
            lane = List.copyOf(lanes.getOrDefault(gpu == null ? "cpu" : gpu, new ArrayDeque<>()));
        }
        for (Waiting waiting : lane) {
            schedulePreload(waiting, PRELOAD_WHEN_IDLE);
        }
    }

    /** At most one preload is ever scheduled for an interpreter, whoever asks and how often. */
    private void schedulePreload(Waiting waiting, Duration after) {
        if (!preload.isEmpty() && waiting.preload().compareAndSet(0, 1)) {
            later(() -> {
                if (waiting.process().tell(PRELOAD)) {
                    waiting.preload().set(2);
                }
            }, after);
        }
    }

    /** How many waiting interpreters were told to preload, for tests. */
    synchronized long preloading() {
        return lanes.values().stream().flatMap(Deque::stream).filter(w -> w.preload().get() == 2).count();
    }

    /** Its exit was noticed: unless its job or a discard has it, it is dropped and its pipes closed. */
    private void diedWhileWaiting(Object lane, Waiting waiting) {
        if (!waiting.process().claim()) {
            return;
        }
        synchronized (this) {
            Deque<Waiting> queue = lanes.get(lane);
            if (queue != null) {
                queue.remove(waiting);
            }
        }
        log.warn("a warm interpreter died while waiting for its job pid={} exit={} lane={}",
                waiting.process().process().pid(), waiting.process().process().exitValue(), lane);
        runner.discard(waiting.process(), DISCARD_GRACE);
    }

    private void discardLater(ProcessRunner.Prestarted process) {
        try {
            background.execute(() -> runner.discard(process, DISCARD_GRACE));
        } catch (RejectedExecutionException closing) {
            runner.discard(process, DISCARD_GRACE);
        }
    }

    /** Stops starting interpreters and discards every waiting one. Idempotent. */
    @PreDestroy
    public void close() throws InterruptedException {
        List<ProcessRunner.Prestarted> left = new ArrayList<>();
        synchronized (this) {
            closed = true;
            lanes.values().forEach(queue -> queue.forEach(w -> {
                if (w.process().claim()) {
                    left.add(w.process());
                }
            }));
            lanes.clear();
        }
        background.shutdown();
        // A start under way sees the pool closed and discards its own; a discard under way finishes.
        background.awaitTermination(DISCARD_GRACE.multipliedBy(4).toMillis(), TimeUnit.MILLISECONDS);
        for (ProcessRunner.Prestarted process : left) {
            runner.discard(process, DISCARD_GRACE);
        }
        log.info("warm interpreters discarded count={}", left.size());
    }

    /** {@code b"<length>\n"} and the NUL-separated fields {@code runner/warm_launcher.py} reads. */
    static byte[] header(Path cwd, List<String> argv, Map<String, String> environment) {
        List<String> fields = new ArrayList<>();
        fields.add(cwd.toString());
        fields.add(Integer.toString(argv.size()));
        fields.addAll(argv);
        fields.add(Integer.toString(environment.size()));
        environment.forEach((name, value) -> fields.add(name + "=" + value));
        byte[] payload = String.join("\0", fields).getBytes(StandardCharsets.UTF_8);
        ByteArrayOutputStream header = new ByteArrayOutputStream(payload.length + 12);
        header.writeBytes((payload.length + "\n").getBytes(StandardCharsets.US_ASCII));
        header.writeBytes(payload);
        return header.toByteArray();
    }

    private static String loadLauncher() {
        try (InputStream in = WarmInterpreters.class.getResourceAsStream("/runner/warm_launcher.py")) {
            if (in == null) {
                throw new IllegalStateException("runner/warm_launcher.py is missing from the Worker's resources");
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
