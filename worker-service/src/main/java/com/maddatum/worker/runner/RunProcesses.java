package com.maddatum.worker.runner;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Every process of one run, found again each time it is asked for, so that none escapes a kill.
 *
 * <p>{@code ProcessHandle.descendants()} follows parent links, and a child that double-forks or that
 * the script started with {@code start_new_session=True} is re-parented to init and drops out of that
 * tree. So membership is decided from {@code /proc} instead: a process belongs to the run if it is in
 * the script's session (the runner starts scripts with {@code setsid}, so children stay in it unless
 * they call {@code setsid} themselves), or if its environment carries the run's marker, which every
 * descendant inherits unless it is exec'd with a hand-made environment. Only processes started after
 * the run began are considered, which rules out an unrelated process that happens to reuse a number,
 * and keeps the scan cheap for short runs, where a millisecond per job counts: Linux hands out pids in
 * increasing order, wrapping at {@code pid_max} (32768 on many machines), so for a run younger than
 * {@link #SHORT_RUN} the pids handed out before the script started are not read: those up to the
 * script's, or after a wrap ({@code /proc/sys/kernel/ns_last_pid} below the script's pid) those between
 * the last one handed out and the script's. Wrapping twice within that time would take thousands of
 * forks a second. A longer run reads them all. Zombies are dead already and are skipped.
 *
 * <p>Reading another process's {@code environ} takes that process's memory-map lock in the kernel, so
 * it blocks for as long as the process is stuck in the kernel holding it (a hung NFS mount, a GPU
 * driver), and the scan reads every recent process of this user, other slots' scripts included. So a
 * process in uninterruptible sleep ({@code D} in its {@code stat}) is judged by its session alone, and
 * each scan runs on a helper thread for at most {@link #SCAN_TIMEOUT}: a scan that takes longer (a
 * process entered {@code D} between the two reads) counts as a run whose processes cannot be told
 * apart, which the runner reports as stuck, so the slot goes out of service and its lease lapses
 * instead of being kept alive by heartbeats forever.
 *
 * <p>Not caught: a descendant that both leaves the session and drops the marker from its environment,
 * or that changes its user, or that has left the session and is in uninterruptible sleep when looked
 * at. A cgroup would catch those too, but unprivileged workers (and our containers) have no writable
 * delegated cgroup. Without {@code /proc} (not Linux) this falls back to the main process's descendants.
 */
final class RunProcesses {

    private static final Logger log = LoggerFactory.getLogger(RunProcesses.class);
    private static final Path PROC = Path.of("/proc");
    static final boolean HAVE_PROC = Files.isRegularFile(PROC.resolve("self/stat"));
    /** Linux reports process start times in USER_HZ ticks, which the kernel ABI fixes at 100 a second. */
    private static final long TICKS_PER_SECOND = 100;
    private static final long POLL_MILLIS = 20;
    /** A scan of /proc takes milliseconds; one that takes this long is stuck on a process in the kernel. */
    static final Duration SCAN_TIMEOUT = Duration.ofSeconds(2);

    static final long SHORT_RUN = TimeUnit.SECONDS.toNanos(10);
    /** Scans run here, so that one stuck in the kernel holds up a thread of its own, never a slot. */
    private static final ExecutorService SCANS = Executors.newCachedThreadPool(runnable -> {
        Thread thread = new Thread(runnable, "proc-scan");
        thread.setDaemon(true);
        return thread;
    });

    /** What is read of /proc; tests stand in one whose reads hang as they do on a process stuck in the kernel. */
    interface Proc {
        /** The numeric entries of /proc. */
        List<Long> pids() throws IOException;

        /** {@code /proc/<pid>/stat}. */
        String stat(long pid) throws IOException;

        /** {@code /proc/<pid>/environ}: blocks while the process holds its memory-map lock in the kernel. */
        byte[] environ(long pid) throws IOException;

        /** {@code /proc/sys/kernel/ns_last_pid}: the last pid handed out. */
        long lastPid() throws IOException;
    }

    static final Proc LINUX = new Proc() {
        @Override
        public List<Long> pids() throws IOException {
            List<Long> pids = new ArrayList<>();
            try (DirectoryStream<Path> entries = Files.newDirectoryStream(PROC)) {
                for (Path entry : entries) {
                    long pid = pid(entry.getFileName().toString());
                    if (pid > 0) {
                        pids.add(pid);
                    }
                }
            }
            return pids;
        }

        @Override
        public String stat(long pid) throws IOException {
            return Files.readString(PROC.resolve(pid + "/stat"), StandardCharsets.ISO_8859_1);
        }

        @Override
        public byte[] environ(long pid) throws IOException {
            return Files.readAllBytes(PROC.resolve(pid + "/environ"));
        }

        @Override
        public long lastPid() throws IOException {
            return Long.parseLong(Files.readString(PROC.resolve("sys/kernel/ns_last_pid")).trim());
        }
    };

    /** A scan did not finish within {@link #SCAN_TIMEOUT}: which processes belong to the run cannot be told. */
    static final class ScanStuck extends Exception {
        ScanStuck(String message) {
            super(message, null, false, false);
        }
    }

    private final long self = ProcessHandle.current().pid();
    private final byte[] marker;
    private final long sinceTicks;
    private final Proc proc;
    private final Duration scanTimeout;
    private volatile long mainPid = Long.MAX_VALUE;
    private volatile long startedNanos;
    private volatile long session = -1;
    /** The pid whose /proc files a scan is reading, for the log when it hangs. */
    private volatile long reading;

    /** {@code markerEntry} is the {@code NAME=value} the run's processes carry in their environment. */
    RunProcesses(String markerEntry, long sinceTicks) {
        this(markerEntry, sinceTicks, LINUX, SCAN_TIMEOUT);
    }

    RunProcesses(String markerEntry, long sinceTicks, Proc proc, Duration scanTimeout) {
        this.marker = markerEntry.getBytes(StandardCharsets.UTF_8);
        this.sinceTicks = sinceTicks;
        this.proc = proc;
        this.scanTimeout = scanTimeout;
    }

    /** Clock ticks since boot now, less a second of margin: a lower bound for any process started from here on. */
    static long ticksBefore() {
        if (!HAVE_PROC) {
            return 0;
        }
        try {
            String uptime = Files.readString(PROC.resolve("uptime"));
            double seconds = Double.parseDouble(uptime.substring(0, uptime.indexOf(' ')));
            return Math.max(0, (long) (seconds * TICKS_PER_SECOND) - TICKS_PER_SECOND);
        } catch (IOException | RuntimeException e) {
            return 0;
        }
    }

    /** The script's own pid, which is also its session id when it was started with {@code setsid}. */
    void started(long pid, boolean ownSession) {
        this.startedNanos = System.nanoTime();
        this.mainPid = pid;
        this.session = ownSession ? pid : -1;
    }

    /**
     * The live processes of the run other than the main process (whose pid, once the main process has
     * gone, no other process can be a member under: the kernel does not reuse the number of a live
     * session).
     */
    List<ProcessHandle> members(Process main) throws ScanStuck {
        if (!HAVE_PROC && proc == LINUX) {
            return main != null && main.isAlive() ? main.descendants().toList() : List.of();
        }
        List<ProcessHandle> found = new ArrayList<>();
        for (long pid : memberPids(main == null ? -1 : main.pid())) {
            ProcessHandle.of(pid).ifPresent(found::add);
        }
        return found;
    }

    /** The pids of {@link #members}, found on a helper thread within the scan timeout. */
    List<Long> memberPids(long mainPid) throws ScanStuck {
        Future<List<Long>> scan = SCANS.submit(() -> scan(mainPid));
        try {
            return scan.get(scanTimeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            scan.cancel(true); // no use to a read stuck in the kernel, but the thread stops once it returns
            throw new ScanStuck("a scan of /proc took over " + scanTimeout + ", stuck reading pid " + reading);
        } catch (ExecutionException e) {
            throw new IllegalStateException("scanning /proc failed", e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            scan.cancel(true);
            throw new ScanStuck("interrupted while scanning /proc");
        }
    }

    private List<Long> scan(long mainPid) {
        List<Long> pids;
        try {
            pids = proc.pids();
        } catch (IOException | RuntimeException e) {
            return List.of(); // /proc vanished under us: nothing more can be found
        }
        // Read after the listing: every pid listed was handed out by then.
        long[] older = handedOutBefore();
        List<Long> found = new ArrayList<>();
        for (long pid : pids) {
            if (pid != self && pid != session && pid != mainPid && !(pid > older[0] && pid <= older[1])
                    && isMember(pid)) {
                found.add(pid);
            }
        }
        return found;
    }

    /** The pids {@code (from, to]} that were handed out before the script started and not since; empty if unsure. */
    private long[] handedOutBefore() {
        long script = mainPid;
        if (script == Long.MAX_VALUE || System.nanoTime() - startedNanos >= SHORT_RUN) {
            return new long[] {0, 0};
        }
        try {
            long last = proc.lastPid();
            return last >= script ? new long[] {0, script} : new long[] {last, script};
        } catch (IOException | RuntimeException cannotTell) {
            return new long[] {0, 0};
        }
    }

    /** Whether the kernel holds the process as ended: gone, or a zombie waiting to be reaped. */
    boolean ended(long pid) {
        if (!HAVE_PROC) {
            return false;
        }
        try {
            String stat = proc.stat(pid);
            char state = stat.charAt(stat.lastIndexOf(')') + 2);
            return state == 'Z' || state == 'X';
        } catch (IOException | RuntimeException gone) {
            return true;
        }
    }

    private boolean isMember(long pid) {
        reading = pid;
        String stat;
        try {
            stat = proc.stat(pid);
        } catch (IOException | RuntimeException gone) {
            return false;
        }
        // "pid (comm) S ppid pgrp session ... starttime(22nd) ...": comm may hold spaces and parentheses.
        String[] fields = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
        if (fields.length < 20 || fields[0].equals("Z") || fields[0].equals("X")) {
            return false;
        }
        long startTicks = Long.parseLong(fields[19]);
        if (startTicks < sinceTicks) {
            return false;
        }
        if (Long.parseLong(fields[3]) == session) {
            return true;
        }
        // In uninterruptible sleep its environ cannot be read without waiting on the kernel with it.
        return !fields[0].equals("D") && carriesMarker(pid);
    }

    private boolean carriesMarker(long pid) {
        byte[] environ;
        try {
            environ = proc.environ(pid);
        } catch (IOException | RuntimeException notOursOrGone) {
            return false;
        }
        int start = 0;
        for (int i = 0; i <= environ.length; i++) {
            if (i == environ.length || environ[i] == 0) {
                if (i - start == marker.length && java.util.Arrays.equals(environ, start, i, marker, 0, marker.length)) {
                    return true;
                }
                start = i + 1;
            }
        }
        return false;
    }

    /**
     * SIGTERM to the main process (when given and alive) and every member, again to members that
     * appear meanwhile, SIGKILL to whatever is left after {@code grace}, repeated for at most
     * {@code killBound} until nothing is left. True when everything is gone; false too when a scan got
     * stuck, as then it cannot be known.
     */
    boolean kill(Process main, Duration grace, Duration killBound) throws InterruptedException {
        try {
            return killMembers(main, grace, killBound);
        } catch (ScanStuck e) {
            if (main != null) {
                main.destroyForcibly();
            }
            log.error("cannot tell the run's processes apart, giving up on them pid={} error={}",
                    main == null ? mainPid : main.pid(), e.getMessage());
            return false;
        }
    }

    private boolean killMembers(Process main, Duration grace, Duration killBound) throws InterruptedException, ScanStuck {
        Set<Long> signalled = new HashSet<>();
        if (main != null) {
            signal(main, false);
        }
        long deadline = System.nanoTime() + grace.toNanos();
        while (true) {
            List<ProcessHandle> alive = members(main);
            boolean mainAlive = main != null && main.isAlive();
            if (!mainAlive && alive.isEmpty()) {
                return true;
            }
            if (System.nanoTime() >= deadline) {
                break;
            }
            alive.stream().filter(h -> signalled.add(h.pid())).forEach(ProcessHandle::destroy);
            pause(main);
        }
        long killDeadline = System.nanoTime() + killBound.toNanos();
        do {
            if (main != null) {
                signal(main, true);
            }
            members(main).forEach(ProcessHandle::destroyForcibly);
            pause(main);
            if ((main == null || !main.isAlive()) && members(main).isEmpty()) {
                return true;
            }
        } while (System.nanoTime() < killDeadline);
        return false;
    }

    /**
     * SIGTERM ({@code force}: SIGKILL) through the process's handle: {@link Process#destroy} would also close
     * the pipes the pumps read, and lose what the script prints once asked to stop (a pruned trial's own
     * Outcome) and what its last writes left unread. The pumps end at the pipes' end of file instead, within
     * the runner's bounded drain. A stand-in process without a handle (tests) is destroyed as such.
     */
    private static void signal(Process main, boolean force) {
        ProcessHandle handle;
        try {
            handle = main.toHandle();
        } catch (UnsupportedOperationException noHandle) {
            if (force) {
                main.destroyForcibly();
            } else {
                main.destroy();
            }
            return;
        }
        if (force) {
            handle.destroyForcibly();
        } else {
            handle.destroy();
        }
    }

    private static void pause(Process main) throws InterruptedException {
        if (main != null && main.isAlive()) {
            main.waitFor(POLL_MILLIS, TimeUnit.MILLISECONDS);
        } else {
            Thread.sleep(POLL_MILLIS);
        }
    }

    private static long pid(String name) {
        long pid = 0;
        for (int i = 0; i < name.length(); i++) {
            char c = name.charAt(i);
            if (c < '0' || c > '9') {
                return -1;
            }
            pid = pid * 10 + (c - '0');
        }
        return pid;
    }
}
