package com.maddatum.worker.runner;

import java.io.InputStream;
import java.io.OutputStream;
import java.time.Clock;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/** Process runners for tests that need what the OS will not give an unprivileged test on demand. */
public final class TestRunners {

    private TestRunners() {}

    /**
     * A runner whose every process behaves as if stuck in the kernel: signals and waits change nothing.
     * Its streams and pid are those of a real {@code sleep 60}, added to {@code real} for cleaning up.
     */
    public static ProcessRunner unkillable(List<Process> real) {
        return new ProcessRunner(Clock.systemUTC(), builder -> {
            Process sleeping = new ProcessBuilder("sleep", "60").start();
            real.add(sleeping);
            return new Unkillable(sleeping);
        });
    }

    /**
     * A runner whose processes are real but noticed late, as when the JDK's reaper thread has
     * returned from {@code waitpid} and not yet marked the process ended: it looks alive, and its
     * {@code onExit} has not completed, until someone waits for it.
     */
    public static ProcessRunner noticedLate() {
        return new ProcessRunner(Clock.systemUTC(), builder -> new NoticedLate(builder.start()));
    }

    public static void destroy(List<Process> real) throws InterruptedException {
        for (Process process : real) {
            process.destroyForcibly().waitFor();
        }
    }

    private static final class Unkillable extends Process {
        private final Process real;

        Unkillable(Process real) {
            this.real = real;
        }

        @Override public OutputStream getOutputStream() { return real.getOutputStream(); }
        @Override public InputStream getInputStream() { return real.getInputStream(); }
        @Override public InputStream getErrorStream() { return real.getErrorStream(); }
        @Override public long pid() { return real.pid(); }
        @Override public boolean isAlive() { return true; }
        @Override public int exitValue() { throw new IllegalThreadStateException("still running"); }
        @Override public void destroy() { }
        @Override public Process destroyForcibly() { return this; }
        @Override public CompletableFuture<Process> onExit() { return new CompletableFuture<>(); }

        @Override
        public int waitFor() throws InterruptedException {
            Thread.sleep(Long.MAX_VALUE);
            return -1;
        }

        @Override
        public boolean waitFor(long timeout, TimeUnit unit) throws InterruptedException {
            unit.sleep(timeout);
            return false;
        }
    }

    private static final class NoticedLate extends Process {
        private final Process real;
        private volatile boolean noticed;

        NoticedLate(Process real) {
            this.real = real;
        }

        @Override public OutputStream getOutputStream() { return real.getOutputStream(); }
        @Override public InputStream getInputStream() { return real.getInputStream(); }
        @Override public InputStream getErrorStream() { return real.getErrorStream(); }
        @Override public long pid() { return real.pid(); }
        @Override public boolean isAlive() { return !noticed || real.isAlive(); }
        @Override public void destroy() { real.destroy(); }
        @Override public Process destroyForcibly() { real.destroyForcibly(); return this; }
        @Override public CompletableFuture<Process> onExit() { return noticed ? real.onExit().thenApply(p -> this) : new CompletableFuture<>(); }

        @Override
        public int exitValue() {
            if (!noticed) {
                throw new IllegalThreadStateException("not noticed yet");
            }
            return real.exitValue();
        }

        @Override
        public int waitFor() throws InterruptedException {
            int code = real.waitFor();
            noticed = true;
            return code;
        }

        @Override
        public boolean waitFor(long timeout, TimeUnit unit) throws InterruptedException {
            boolean ended = real.waitFor(timeout, unit);
            noticed |= ended;
            return ended;
        }
    }
}
