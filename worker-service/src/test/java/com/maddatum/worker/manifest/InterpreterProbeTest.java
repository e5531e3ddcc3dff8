package com.maddatum.worker.manifest;

import static org.assertj.core.api.Assertions.assertThat;

import com.maddatum.worker.runner.ProcessRunner;
import com.maddatum.worker.support.TestSettings;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The interpreter's versions: asked once, read from the probe's JSON, null for whatever it lacks. */
class InterpreterProbeTest {

    private static final Duration WAIT = Duration.ofSeconds(30);
    private final ProcessRunner runner = new ProcessRunner(Clock.systemUTC());

    @TempDir
    Path dir;

    /** An executable standing in for Python: it counts its calls and prints {@code output}. */
    private Path fakeInterpreter(String output, int exit) throws Exception {
        Path calls = dir.resolve("calls");
        Path fake = dir.resolve("fake-python");
        Files.writeString(fake, "#!/bin/sh\necho call >> " + calls + "\necho 'warming up'\necho '" + output + "'\nexit "
                + exit + "\n");
        Files.setPosixFilePermissions(fake, PosixFilePermissions.fromString("rwx------"));
        return fake;
    }

    private int calls() throws Exception {
        Path calls = dir.resolve("calls");
        return Files.exists(calls) ? Files.readAllLines(calls).size() : 0;
    }

    private InterpreterProbe probe(Path interpreter) {
        return new InterpreterProbe(runner, List.of(interpreter.toString(), "-c", InterpreterProbe.SCRIPT),
                Map.of("PATH", System.getenv("PATH")), TestSettings.JSON);
    }

    @Test
    void readsTheVersionsFromTheLastLineAndAsksOnlyOnce() throws Exception {
        InterpreterProbe probe = probe(fakeInterpreter("{\"python\": \"3.12.1\", \"torch\": \"2.4.0+cu124\", "
                + "\"sklearn\": \"1.5.0\", \"numpy\": \"2.0.1\", \"cuda\": \"12.4\", \"extra\": \"ignored\"}", 0));
        Map<String, Object> versions = probe.versions(WAIT);
        assertThat(versions).containsExactly(Map.entry("python", "3.12.1"), Map.entry("torch", "2.4.0+cu124"),
                Map.entry("sklearn", "1.5.0"), Map.entry("numpy", "2.0.1"), Map.entry("cuda", "12.4"));
        assertThat(probe.versions(WAIT)).isEqualTo(versions);
        probe.start();
        assertThat(calls()).isEqualTo(1);
    }

    @Test
    void aMissingPackageOrAVersionThatIsNotTextIsNull() throws Exception {
        InterpreterProbe probe = probe(fakeInterpreter(
                "{\"python\": \"3.11.2\", \"torch\": null, \"sklearn\": 1.2, \"numpy\": \"1.24.2\"}", 0));
        Map<String, Object> versions = probe.versions(WAIT);
        assertThat(versions).containsEntry("python", "3.11.2").containsEntry("numpy", "1.24.2")
                .containsEntry("torch", null).containsEntry("sklearn", null).containsEntry("cuda", null);
    }

    @Test
    void anInterpreterThatFailsOrPrintsSomethingElseLeavesEveryVersionNullAndIsNotAskedAgainAtOnce() throws Exception {
        for (String[] bad : new String[][] {{"{\"python\": \"3.11.2\"}", "1"}, {"not json", "0"}, {"[1, 2]", "0"},
                {"{\"torch\": \"1.13\"}", "0"}}) {
            Files.deleteIfExists(dir.resolve("calls"));
            InterpreterProbe probe = probe(fakeInterpreter(bad[0], Integer.parseInt(bad[1])));
            assertThat(probe.versions(WAIT)).as(bad[0]).isEqualTo(InterpreterProbe.unknown());
            probe.versions(WAIT);
            assertThat(calls()).isEqualTo(1);
        }
        InterpreterProbe missing = probe(dir.resolve("no-such-python"));
        assertThat(missing.versions(WAIT)).isEqualTo(InterpreterProbe.unknown());
    }

    /** A probe that fails (a crash, its timeout on a loaded machine) is asked again a minute later; an answer is kept. */
    @Test
    void aFailedProbeIsAskedAgainAfterItsBackOffAndAnAnswerIsKept() throws Exception {
        Path calls = dir.resolve("calls");
        Path failedOnce = dir.resolve("failed-once");
        Path fake = dir.resolve("flaky-python");
        Files.writeString(fake, "#!/bin/sh\necho call >> " + calls + "\nif [ ! -e " + failedOnce + " ]; then touch "
                + failedOnce + "; exit 1; fi\necho '{\"python\": \"3.12.1\"}'\n");
        Files.setPosixFilePermissions(fake, PosixFilePermissions.fromString("rwx------"));
        AtomicLong now = new AtomicLong();
        InterpreterProbe probe = new InterpreterProbe(runner, List.of(fake.toString()), Map.of("PATH", System.getenv("PATH")),
                TestSettings.JSON, now::get);

        assertThat(probe.versions(WAIT)).isEqualTo(InterpreterProbe.unknown());
        now.addAndGet(InterpreterProbe.RETRY_AFTER.toNanos() - 1);
        probe.start(); // the next job's begin, within the back-off
        assertThat(probe.versions(WAIT)).isEqualTo(InterpreterProbe.unknown());
        assertThat(calls()).isEqualTo(1);

        now.addAndGet(1);
        probe.start();
        assertThat(probe.versions(WAIT)).containsEntry("python", "3.12.1");
        assertThat(calls()).isEqualTo(2);

        now.addAndGet(InterpreterProbe.RETRY_AFTER.toNanos() * 10);
        probe.start();
        assertThat(probe.versions(WAIT)).containsEntry("python", "3.12.1");
        assertThat(calls()).isEqualTo(2);
    }

    /** A run that must not wait (cancelled, shut down) takes what is known and starts no probe. */
    @Test
    void versionsWithoutWaitingAnswerAtOnceAndStartNothing() throws Exception {
        InterpreterProbe probe = probe(fakeInterpreter("{\"python\": \"3.12.1\"}", 0));
        assertThat(probe.versions(Duration.ZERO)).isEqualTo(InterpreterProbe.unknown());
        assertThat(calls()).isZero();
        assertThat(probe.versions(WAIT)).containsEntry("python", "3.12.1");
        assertThat(probe.versions(Duration.ZERO)).containsEntry("python", "3.12.1");
    }

    @Test
    void theRealProbeNamesThisMachinesPythonAndToleratesAnInterpreterWithoutPackages() throws Exception {
        Map<String, Object> real = probe(Path.of(TestSettings.python())).versions(Duration.ofSeconds(60));
        assertThat((String) real.get("python")).matches("3\\.\\d+\\.\\d+.*");
        assertThat(real).containsKeys("torch", "sklearn", "numpy", "cuda");
        // -S: no site-packages, so none of the packages import; the probe still answers.
        InterpreterProbe bare = new InterpreterProbe(runner, List.of(TestSettings.python(), "-S", "-c",
                InterpreterProbe.SCRIPT), Map.of("PATH", System.getenv("PATH")), TestSettings.JSON);
        Map<String, Object> versions = bare.versions(Duration.ofSeconds(60));
        assertThat(versions.get("python")).isEqualTo(real.get("python"));
        assertThat(versions).containsEntry("torch", null).containsEntry("numpy", null).containsEntry("sklearn", null)
                .containsEntry("cuda", null);
    }
}
