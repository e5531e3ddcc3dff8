package com.maddatum.worker.runner;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A short command the Worker runs for itself: bounded, and killed when its caller gives up. */
class ShortCommandTest {

    @TempDir
    Path root;

    /**
     * The thread waiting for a CUDA check is interrupted (the Worker stops): the command is killed, not
     * left running in a temporary directory that is removed under it, and the interrupt is kept.
     */
    @Test
    void anInterruptedCallerKillsTheCommand() throws Exception {
        Path pidFile = root.resolve("pid");
        ProcessRunner runner = new ProcessRunner(Clock.systemUTC());
        AtomicReference<Throwable> thrown = new AtomicReference<>();
        AtomicReference<Boolean> stillInterrupted = new AtomicReference<>();
        Thread caller = new Thread(() -> {
            try {
                ShortCommand.run(runner, List.of("sh", "-c", "echo $$ > \"$0.tmp\"; mv \"$0.tmp\" \"$0\"; exec sleep 60",
                        pidFile.toString()), Map.of("PATH", System.getenv("PATH")), false, Duration.ofSeconds(60));
            } catch (Throwable e) {
                thrown.set(e);
                stillInterrupted.set(Thread.currentThread().isInterrupted());
            }
        });
        caller.start();
        long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        while (!Files.exists(pidFile)) {
            assertThat(System.nanoTime() - deadline).as("the command starts").isNegative();
            Thread.onSpinWait();
        }
        long pid = Long.parseLong(Files.readString(pidFile).strip());
        caller.interrupt();
        caller.join(Duration.ofSeconds(20).toMillis());
        assertThat(caller.isAlive()).isFalse();
        assertThat(thrown.get()).isInstanceOf(InterruptedException.class);
        assertThat(stillInterrupted.get()).isTrue();
        assertThat(ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false)).as("the command is killed").isFalse();
    }
}
