package com.maddatum.worker.runner;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Finding a run's processes through a stand-in /proc, where a read can hang as it does on a process stuck in the kernel. */
class RunProcessesTest {

    private static final String MARKER = ProcessRunner.RUN_MARKER + "=run-1";
    private static final long SCRIPT = 400;

    private final FakeProc proc = new FakeProc();

    @AfterEach
    void release() {
        proc.hung.countDown();
    }

    /** One process as /proc/<pid>/stat says it: its state, session and start time (22nd field). */
    private static String stat(long pid, char state, long session) {
        return pid + " (python3 x) " + state + " 1 " + session + " " + session + " 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 100 0 0";
    }

    private RunProcesses processes(Duration scanTimeout) {
        RunProcesses processes = new RunProcesses(MARKER, 0, proc, scanTimeout);
        processes.started(SCRIPT, true);
        return processes;
    }

    @Test
    void aProcessInUninterruptibleSleepIsJudgedByItsSessionAloneNeverByItsEnvironment() throws Exception {
        proc.add(501, stat(501, 'D', 77), MARKER);       // left the session, stuck in the kernel
        proc.add(502, stat(502, 'S', 77), MARKER);       // left the session, carries the marker
        proc.add(503, stat(503, 'D', SCRIPT), null);     // still in the run's session
        proc.add(504, stat(504, 'S', 88), "OTHER=1");    // another slot's script
        assertThat(processes(Duration.ofSeconds(5)).memberPids(-1)).containsExactlyInAnyOrder(502L, 503L);
        assertThat(proc.environRead).containsExactlyInAnyOrder(502L, 504L);
    }

    @Test
    void aScanStuckInTheKernelEndsWithinItsTimeoutAndTheProcessesCountAsNotGone() throws Exception {
        proc.add(502, stat(502, 'S', 77), MARKER);
        proc.hanging.add(502L); // entered D between its stat and its environ
        RunProcesses processes = processes(Duration.ofMillis(300));
        // Preemptive: without the timeout the scan would wait for the kernel, that is forever.
        assertTimeoutPreemptively(Duration.ofSeconds(3), () -> {
            assertThatThrownBy(() -> processes.memberPids(-1)).isInstanceOf(RunProcesses.ScanStuck.class)
                    .hasMessageContaining("pid 502");
            assertThat(processes.kill(null, Duration.ofMillis(50), Duration.ofMillis(50))).isFalse();
        });
    }

    /** A /proc of made-up processes; {@code environ} of a pid in {@code hanging} blocks until the test ends. */
    static final class FakeProc implements RunProcesses.Proc {
        final Map<Long, String> stats = new ConcurrentHashMap<>();
        final Map<Long, byte[]> environs = new ConcurrentHashMap<>();
        final Set<Long> hanging = ConcurrentHashMap.newKeySet();
        final Set<Long> environRead = ConcurrentHashMap.newKeySet();
        final CountDownLatch hung = new CountDownLatch(1);

        void add(long pid, String stat, String environEntry) {
            stats.put(pid, stat);
            environs.put(pid, ("PATH=/usr/bin\0" + (environEntry == null ? "" : environEntry + "\0"))
                    .getBytes(StandardCharsets.UTF_8));
        }

        @Override
        public List<Long> pids() {
            return new ArrayList<>(stats.keySet());
        }

        @Override
        public String stat(long pid) throws IOException {
            String stat = stats.get(pid);
            if (stat == null) {
                throw new java.nio.file.NoSuchFileException("/proc/" + pid + "/stat");
            }
            return stat;
        }

        @Override
        public byte[] environ(long pid) throws IOException {
            environRead.add(pid);
            if (hanging.contains(pid)) {
                try {
                    hung.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt(); // a real read in the kernel would not even see this
                }
            }
            return environs.getOrDefault(pid, new byte[0]);
        }

        @Override
        public long lastPid() {
            return 600;
        }
    }
}
