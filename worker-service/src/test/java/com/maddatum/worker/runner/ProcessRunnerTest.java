package com.maddatum.worker.runner;

import static org.assertj.core.api.Assertions.assertThat;

import com.maddatum.worker.support.TestSettings;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
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

    private Map<String, Object> outcome(ProcessResult result) {
        return OutcomeBuilder.fromResult(result, null, "job-1", TestSettings.JSON);
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
    void twoHundredMegabytesOfOutputAreDrainedWithinBoundedMemoryAndDisk() throws Exception {
        ProcessResult result = run("chatty.py", Duration.ofMinutes(2));
        assertThat(result.exitCode()).isZero();
        assertThat(result.stdoutBytes()).isGreaterThan(200L * 1024 * 1024);
        assertThat(result.stdoutTail().length()).isLessThanOrEqualTo(64 * 1024);
        assertThat(Files.size(work.resolve("stdout.log"))).isLessThan((1 << 20) + 1024);
        assertThat(result.logsTruncated()).isTrue();
        assertThat(outcome(result)).containsEntry("status", 200).containsEntry("jobId", "chatty");
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
}
