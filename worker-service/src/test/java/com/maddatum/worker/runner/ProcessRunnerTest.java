package com.maddatum.worker.runner;

import static org.assertj.core.api.Assertions.assertThat;

import com.maddatum.worker.outcome.OutcomeBuilder;
import com.maddatum.worker.outcome.OutcomeContract;
import com.maddatum.worker.support.TestSettings;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import com.maddatum.worker.runner.StopReason;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Real processes running small standard-library Python fixtures. */
class ProcessRunnerTest {

    @TempDir
    Path work;

    private final ProcessRunner runner = new ProcessRunner(Clock.systemUTC());

    private ProcessResult run(String script, Duration timeout, String... args) throws InterruptedException {
        List<String> command = new java.util.ArrayList<>(List.of(TestSettings.python(), "-u",
                TestSettings.fixtureScripts().resolve(script).toString()));
        command.addAll(List.of(args));
        return runner.start(new ProcessSpec(command, work, Map.of(), null, timeout, 1 << 20, 64 * 1024,
                Duration.ofSeconds(2))).await();
    }

    /** The outcome as the Boss would receive it: built from the result, then conformed to the Boss's rules. */
    private Map<String, Object> outcome(ProcessResult result) {
        return new OutcomeContract(TestSettings.JSON).conform(
                new OutcomeBuilder(TestSettings.JSON).fromResult(result, "job-1"));
    }

    @Test
    void successReportsTheLastStdoutLineAsTheOutcome() throws Exception {
        ProcessResult result = run("ok.py", Duration.ofSeconds(30), "{\"_id\":\"job-1\"}");
        assertThat(result.exitCode()).isZero();
        Map<String, Object> outcome = outcome(result);
        assertThat(outcome).containsEntry("status", 200).containsEntry("jobId", "job-1").containsEntry("loss", 1.5);
        assertThat((String) outcome.get("logTail")).contains("epoch 1").contains("--- stderr ---").contains("epoch 2");
        assertThat(Files.readString(work.resolve("stdout.log"))).startsWith("epoch 1");
        assertThat(Files.readString(work.resolve("stderr.log"))).contains("epoch 2");
    }

    @Test
    void exitOneWithoutAnOutcomeBecomesAFailureNamingTheStderr() throws Exception {
        ProcessResult result = run("exit1.py", Duration.ofSeconds(30));
        assertThat(result.exitCode()).isEqualTo(1);
        Map<String, Object> outcome = outcome(result);
        assertThat(outcome).containsEntry("status", 500).containsEntry("exitCode", 1);
        assertThat(error(outcome)).containsEntry("type", "NoOutcome");
        assertThat((String) error(outcome).get("message")).contains("exit code 1").contains("something broke");
    }

    @Test
    void aGarbageLastLineIsNotTakenForAnOutcome() throws Exception {
        Map<String, Object> outcome = outcome(run("garbage.py", Duration.ofSeconds(30)));
        assertThat(outcome).containsEntry("status", 500);
        assertThat((String) error(outcome).get("message")).contains("not a JSON Outcome");
    }

    @Test
    void noOutputAtAllIsAFailure() throws Exception {
        Map<String, Object> outcome = outcome(run("silent.py", Duration.ofSeconds(30)));
        assertThat(outcome).containsEntry("status", 500).containsEntry("exitCode", 0);
        assertThat((String) error(outcome).get("message")).contains("printed no Outcome");
    }

    @Test
    void nonFiniteNumbersOrACrashAfterPrintingAreFailuresToo() throws Exception {
        assertThat(outcome(run("bad_outcome.py", Duration.ofSeconds(30)))).containsEntry("status", 500);
        Map<String, Object> crashed = outcome(run("crash_after.py", Duration.ofSeconds(30)));
        assertThat(crashed).containsEntry("status", 500).containsEntry("exitCode", 3).containsEntry("loss", 1.0);
        assertThat(error(crashed)).containsEntry("type", "NonZeroExit");
    }

    @Test
    void aScriptThatSleepsPastItsTimeoutIsKilled() throws Exception {
        long start = System.nanoTime();
        ProcessResult result = run("sleeper.py", Duration.ofSeconds(1));
        assertThat(result.timedOut()).isTrue();
        assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(60));
        Map<String, Object> outcome = outcome(result);
        assertThat(outcome).containsEntry("status", 504);
        assertThat(error(outcome)).containsEntry("type", "Timeout");
    }

    @Test
    void killingAScriptKillsTheChildrenItSpawned() throws Exception {
        ProcessResult result = run("spawner.py", Duration.ofSeconds(2));
        assertThat(result.timedOut()).isTrue();
        long childPid = Long.parseLong(Files.readString(work.resolve("child.pid")).trim());
        Optional<ProcessHandle> child = ProcessHandle.of(childPid);
        if (child.isPresent()) {
            // Reaping can lag the kill by a moment; the kill itself has been sent.
            child.get().onExit().get(10, TimeUnit.SECONDS);
        }
        assertThat(ProcessHandle.of(childPid).map(ProcessHandle::isAlive)).isNotEqualTo(Optional.of(true));
    }

    @Test
    void aScriptLeavingAStartNewSessionGrandchildEndsWithinASecondAndTheGrandchildDies() throws Exception {
        ProcessResult result = run("escaper.py", Duration.ofSeconds(60));
        assertEndedWithinASecondOfItsScriptAndLeftNothing(result);
        assertThat(outcome(result)).containsEntry("status", 200);
        assertThat(result.leftovers()).isEqualTo(1);
    }

    @Test
    void aGrandchildThatIgnoresSigtermIsKilledAsWell() throws Exception {
        ProcessResult result = run("escaper.py", Duration.ofSeconds(60), "ignoreTerm");
        assertEndedWithinASecondOfItsScriptAndLeftNothing(result);
        assertThat(outcome(result)).containsEntry("status", 200);
    }

    /** The leftover's line comes after the script's Outcome, only because the Worker stopped it. */
    @Test
    void aLeftoverThatPrintsWhenStoppedDoesNotTakeTheScriptsOutcomeLine() throws Exception {
        ProcessResult result = run("child_prints_on_term.py", Duration.ofSeconds(60));
        assertThat(result.leftovers()).isEqualTo(1);
        assertThat(result.stdoutTail()).contains("child got SIGTERM");
        assertThat(outcome(result)).containsEntry("status", 200);
    }

    @Test
    void aDoubleForkedDaemonIsFoundAndKilledAfterTheScriptEnds() throws Exception {
        ProcessResult result = run("doublefork.py", Duration.ofSeconds(60));
        assertEndedWithinASecondOfItsScriptAndLeftNothing(result);
        assertThat(outcome(result)).containsEntry("status", 200);
    }

    @Test
    void eachScriptRunsInASessionOfItsOwnUnderItsOwnPid() throws Exception {
        ProcessRunner.Running running = runner.start(spec("environment.py", Duration.ofSeconds(30)));
        long pid = running.pid();
        Map<String, Object> outcome = outcome(running.await());
        assertThat(outcome).containsEntry("pid", (int) pid).containsEntry("session", (int) pid);
    }

    @Test
    void stoppingAScriptKillsTheGrandchildThatLeftItsSession() throws Exception {
        ProcessRunner.Running running = runner.start(spec("escaper_sleeps.py", Duration.ofSeconds(60)));
        Path pidFile = work.resolve("grandchild.pid");
        awaitCondition(() -> Files.exists(pidFile) && !Files.readString(pidFile).isBlank(), Duration.ofSeconds(20));
        long grandchild = Long.parseLong(Files.readString(pidFile).trim());
        running.stop(StopReason.CANCELLED);
        ProcessResult result = running.await();
        assertThat(result.killedBecause()).isEqualTo("cancelled");
        assertThat(result.stuck()).isFalse();
        // SIGKILL was sent before await() returned; on a loaded machine the kernel may take a moment to
        // schedule the victim's exit, so its death is awaited briefly rather than read at once.
        awaitCondition(() -> !alive(grandchild), Duration.ofSeconds(2));
    }

    @Test
    void aStopAskedForAfterTheScriptEndedKillsNothingAndKeepsItsResult() throws Exception {
        ProcessRunner.Running running = runner.start(spec("ok.py", Duration.ofSeconds(30), "{\"_id\":\"job-1\"}"));
        long pid = running.pid();
        awaitCondition(() -> !alive(pid), Duration.ofSeconds(20));
        running.stop(StopReason.SHUTDOWN);
        ProcessResult result = running.await();
        assertThat(result.killedBecause()).isNull();
        assertThat(result.stoppedBy()).isNull();
        assertThat(new OutcomeBuilder(TestSettings.JSON).fromResult(result, "job-1"))
                .containsEntry("status", 200).containsEntry("loss", 1.5);
    }

    /** The race the test above can lose under load, made certain: the kernel has reaped the script, the JDK not yet. */
    @Test
    void aStopAskedForBeforeTheJdkNoticedTheScriptEndedKeepsItsResult() throws Exception {
        ProcessRunner.Running running = TestRunners.noticedLate()
                .start(spec("ok.py", Duration.ofSeconds(30), "{\"_id\":\"job-1\"}"));
        long pid = running.pid();
        awaitCondition(() -> !alive(pid), Duration.ofSeconds(20));
        running.stop(StopReason.SHUTDOWN);
        ProcessResult result = running.await();
        assertThat(result.stoppedBy()).isNull();
        assertThat(result.exitCode()).isZero();
        assertThat(new OutcomeBuilder(TestSettings.JSON).fromResult(result, "job-1"))
                .containsEntry("status", 200).containsEntry("loss", 1.5);
    }

    @Test
    void aProcessThatOutlivesSigkillIsReportedStuckWithinTheBound() throws Exception {
        List<Process> real = new java.util.ArrayList<>();
        try {
            ProcessRunner stubborn = TestRunners.unkillable(real);
            ProcessRunner.Running running = stubborn.start(new ProcessSpec(List.of("sleep", "60"), work, Map.of(), null,
                    Duration.ofSeconds(60), 1024, 1024, Duration.ofMillis(300)));
            long start = System.nanoTime();
            running.stop(StopReason.CANCELLED);
            ProcessResult result = running.await();
            Duration took = Duration.ofNanos(System.nanoTime() - start);
            assertThat(result.stuck()).isTrue();
            assertThat(result.exitCode()).isNull();
            // SIGTERM, 300 ms, SIGKILL, 300 ms more, and at most a second for the output: never forever.
            assertThat(took).isLessThan(Duration.ofSeconds(5));
        } finally {
            TestRunners.destroy(real);
        }
    }

    /**
     * A process of this user entered uninterruptible sleep holding its memory-map lock (a hung NFS
     * mount, a GPU driver): reading its environ blocks. The run must still end, reported stuck, so the
     * slot goes out of service instead of heartbeating its lease forever.
     */
    @Test
    void aScanOfProcThatHangsInTheKernelEndsTheRunAsStuckInsteadOfNever() throws Exception {
        long other = Integer.MAX_VALUE; // above every real pid: a process started after the script
        CountDownLatch hung = new CountDownLatch(1);
        RunProcesses.Proc proc = new RunProcesses.Proc() {
            @Override
            public List<Long> pids() throws java.io.IOException {
                List<Long> pids = new java.util.ArrayList<>(RunProcesses.LINUX.pids());
                pids.add(other);
                return pids;
            }

            @Override
            public String stat(long pid) throws java.io.IOException {
                return pid == other ? other + " (python3) S 1 7 7 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 " + Long.MAX_VALUE / 2 + " 0"
                        : RunProcesses.LINUX.stat(pid);
            }

            @Override
            public byte[] environ(long pid) throws java.io.IOException {
                if (pid == other) {
                    try {
                        hung.await();
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                }
                return RunProcesses.LINUX.environ(pid);
            }

            @Override
            public long lastPid() throws java.io.IOException {
                return RunProcesses.LINUX.lastPid();
            }
        };
        try {
            ProcessRunner hanging = new ProcessRunner(Clock.systemUTC(), ProcessBuilder::start, proc);
            ProcessResult result = org.junit.jupiter.api.Assertions.assertTimeoutPreemptively(
                    RunProcesses.SCAN_TIMEOUT.plusSeconds(8),
                    () -> hanging.start(spec("ok.py", Duration.ofSeconds(30), "{\"_id\":\"job-1\"}")).await());
            assertThat(result.stuck()).isTrue();
        } finally {
            hung.countDown();
        }
    }

    private ProcessSpec spec(String script, Duration timeout, String... args) {
        List<String> command = new java.util.ArrayList<>(List.of(TestSettings.python(), "-u",
                TestSettings.fixtureScripts().resolve(script).toString()));
        command.addAll(List.of(args));
        return new ProcessSpec(command, work, Map.of(), null, timeout, 1 << 20, 64 * 1024, Duration.ofSeconds(2));
    }

    /** The goal: the run ends within a second of its script, and nothing of it lives a second later. */
    private void assertEndedWithinASecondOfItsScriptAndLeftNothing(ProcessResult result) throws Exception {
        double scriptEnded = Double.parseDouble(Files.readString(work.resolve("script.ended")));
        double runEnded = result.finishedAt().toEpochMilli() / 1000.0;
        assertThat(runEnded - scriptEnded).as("seconds between the script's end and the run's").isLessThan(1.0);
        long grandchild = Long.parseLong(Files.readString(work.resolve("grandchild.pid")).trim());
        awaitCondition(() -> !alive(grandchild), Duration.ofSeconds(1));
        assertThat(result.stuck()).isFalse();
    }

    /** Alive, and not a zombie waiting for init to reap it. */
    static boolean alive(long pid) {
        try {
            String stat = Files.readString(Path.of("/proc/" + pid + "/stat"));
            char state = stat.charAt(stat.lastIndexOf(')') + 2);
            return state != 'Z' && state != 'X';
        } catch (java.io.IOException gone) {
            return false;
        }
    }

    interface Condition {
        boolean holds() throws Exception;
    }

    static void awaitCondition(Condition condition, Duration within) throws Exception {
        long deadline = System.nanoTime() + within.toNanos();
        while (!condition.holds()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("condition not met within " + within);
            }
            Thread.sleep(10);
        }
    }

    @Test
    void twoHundredMegabytesOfOutputAreDrainedWithinBoundedMemoryAndDisk() throws Exception {
        ProcessResult result = run("chatty.py", Duration.ofMinutes(2));
        assertThat(result.exitCode()).isZero();
        assertThat(result.stdoutBytes()).isGreaterThan(200L * 1024 * 1024);
        assertThat(result.stdoutTail().length()).isLessThanOrEqualTo(64 * 1024);
        assertThat(Files.size(work.resolve("stdout.log"))).isLessThan((1 << 20) + 1024);
        assertThat(result.logsTruncated()).isTrue();
        // The job's own id wins over what the script printed, which is kept beside it.
        assertThat(outcome(result)).containsEntry("status", 200).containsEntry("jobId", "job-1")
                .containsEntry("scriptJobId", "chatty");
        assertThat((String) outcome(result).get("logTail")).startsWith("[worker: output exceeded the log cap");
    }

    @Test
    void aCommandThatCannotStartSaysWhy() throws Exception {
        ProcessResult result = runner.start(new ProcessSpec(List.of("/no/such/python"), work, Map.of(), null,
                Duration.ofSeconds(5), 1024, 1024, Duration.ofSeconds(1))).await();
        assertThat(result.started()).isFalse();
        Map<String, Object> outcome = outcome(result);
        assertThat(outcome).containsEntry("status", 503).containsEntry("retryable", true);
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> error(Map<String, Object> outcome) {
        return (Map<String, Object>) outcome.get("error");
    }

    private ProcessResult runWithProgress(Progress progress, String job) throws InterruptedException {
        List<String> command = List.of(TestSettings.python(), "-u", TestSettings.fixtureScripts().resolve("progress.py")
                .toString(), job);
        return runner.start(new ProcessSpec(command, work, Map.of(), true, null, Duration.ofSeconds(60), 1 << 20,
                64 * 1024, Duration.ofSeconds(2), null, progress)).await();
    }

    @Test
    void aProgressLineAfterTheOutcomeIsNotTheOutcome() throws Exception {
        Progress progress = new Progress();
        ProcessResult result = runWithProgress(progress, "{\"outcomeFirst\":true}");
        assertThat(result.lastStdoutLine()).isEqualTo("{\"status\": 200, \"jobId\": \"x\", \"loss\": 0.5}");
        assertThat(outcome(result)).containsEntry("status", 200).containsEntry("loss", 0.5);
        assertThat(progress.pending().points()).extracting(Progress.Point::step).containsExactly(0L, 1L, 2L, 99L);
        assertThat(progress.last()).isEqualTo(new Progress.Point(99, 0.01));
    }

    /** The leftover path reads the last line before its kill: a leftover's progress lines must not come last there either. */
    @Test
    void progressLinesALeftoverPrintsDoNotTakeTheOutcomesPlace() throws Exception {
        Progress progress = new Progress();
        ProcessResult result = runWithProgress(progress, "{\"leaveChild\":true,\"points\":0}");
        assertThat(result.leftovers()).isEqualTo(1);
        String tail = result.stdoutTail();
        assertThat(tail.substring(tail.indexOf("\"loss\": 0.5}"))).as("what came after the outcome").contains("##progress");
        assertThat(outcome(result)).containsEntry("status", 200).containsEntry("loss", 0.5);
        assertThat(progress.last().step()).isGreaterThanOrEqualTo(1000);
    }

    /** A stop sends SIGTERM without closing the pipes: what the script prints as it stops is read, not lost. */
    @Test
    void whatAScriptPrintsWhenAskedToStopIsKept() throws Exception {
        Progress progress = new Progress();
        List<String> command = List.of(TestSettings.python(), "-u", TestSettings.fixtureScripts().resolve("progress.py")
                .toString(), "{\"forever\":true,\"ownOutcomeOnTerm\":true}");
        ProcessRunner.Running running = runner.start(new ProcessSpec(command, work, Map.of(), true, null,
                Duration.ofSeconds(60), 1 << 20, 64 * 1024, Duration.ofSeconds(2), null, progress));
        awaitCondition(() -> progress.last() != null, Duration.ofSeconds(20));
        running.stop(StopReason.PRUNED);
        ProcessResult result = running.await();
        assertThat(result.stoppedBy()).isEqualTo(StopReason.PRUNED);
        assertThat(result.killedBecause()).isEqualTo("pruned");
        assertThat(result.exitCode()).isZero();
        assertThat(result.lastStdoutLine()).isEqualTo("{\"status\": 200, \"jobId\": \"x\", \"loss\": 0.3}");
        assertThat(Files.readString(work.resolve("stdout.log"))).endsWith("\"loss\": 0.3}\n");
    }
}
