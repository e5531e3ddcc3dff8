package com.maddatum.worker.runner;

import static com.maddatum.worker.runner.ProcessRunnerTest.awaitCondition;

import com.maddatum.worker.support.TestSettings;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;
import org.junit.jupiter.api.io.TempDir;

/**
 * Not a test: a measurement, run by hand ({@code -Dbench.warm=true -Dtest=WarmStartBench}). From the job
 * handed to the runner to the first output of {@code python-scripts/noop.py} (its "noop started" line),
 * cold and on a warm interpreter that had time to start, interleaved so that both see the same load;
 * then the whole cycle (hand-over to exit) of jobs back to back, where the next interpreter has only the
 * previous job to start in.
 */
@EnabledIfSystemProperty(named = "bench.warm", matches = "true")
class WarmStartBench {

    private static final int RUNS = Integer.getInteger("bench.runs", 50);

    @TempDir
    Path root;

    private final ProcessRunner runner = new ProcessRunner(Clock.systemUTC());

    @Test
    void coldAgainstWarm() throws Exception {
        Path noop = Path.of("../python-scripts/noop.py").toAbsolutePath().normalize();
        WarmInterpreters warm = new WarmInterpreters(runner, true, root, 2);
        try {
            double[] cold = new double[RUNS];
            double[] ready = new double[RUNS];
            warm.start(spec(noop, null), null, true).await(); // leaves the first one waiting
            for (int i = 0; i < RUNS; i++) {
                cold[i] = firstOutput(null, noop, false);
                awaitCondition(() -> warm.waiting() == 1, Duration.ofSeconds(20));
                Thread.sleep(150); // an idle slot: its interpreter has started and waits on stdin
                ready[i] = firstOutput(warm, noop, true);
            }
            report("first output, cold", cold);
            report("first output, warm (ready)", ready);
            report("cycle back to back, cold", cycles(null, noop));
            report("cycle back to back, warm", cycles(warm, noop));
        } finally {
            warm.close();
        }
    }

    private double firstOutput(WarmInterpreters warm, Path noop, boolean expectWarm) throws Exception {
        CompletableFuture<Long> first = new CompletableFuture<>();
        ProcessSpec spec = spec(noop, (bytes, length) -> first.complete(System.nanoTime()));
        long handed = System.nanoTime();
        ProcessRunner.Running running = warm == null ? runner.start(spec) : warm.start(spec, null, true);
        if (running.warm() != expectWarm) {
            throw new AssertionError("expected warm=" + expectWarm);
        }
        long at = first.get(30, TimeUnit.SECONDS);
        running.await();
        return (at - handed) / 1e6;
    }

    private double[] cycles(WarmInterpreters warm, Path noop) throws Exception {
        double[] took = new double[RUNS];
        for (int i = 0; i < RUNS; i++) {
            ProcessSpec spec = spec(noop, null);
            long handed = System.nanoTime();
            ProcessRunner.Running running = warm == null ? runner.start(spec) : warm.start(spec, null, true);
            running.await();
            took[i] = (System.nanoTime() - handed) / 1e6;
        }
        return took;
    }

    private ProcessSpec spec(Path noop, ProcessSpec.OutputListener listener) throws Exception {
        Path work = Files.createDirectories(root.resolve("run"));
        String job = "{\"_id\": \"job-1\", \"scriptName\": \"noop.py\"}";
        return new ProcessSpec(List.of(TestSettings.python(), "-u", noop.toString(), job), work,
                Map.of("PATH", System.getenv("PATH"), "PYTHONUNBUFFERED", "1", "OUTPUT_DIR", work.toString()), false,
                job.getBytes(StandardCharsets.UTF_8), Duration.ofSeconds(30), 1 << 20, 64 * 1024, Duration.ofSeconds(2),
                listener);
    }

    private static void report(String what, double[] millis) {
        double[] sorted = millis.clone();
        Arrays.sort(sorted);
        double mean = Arrays.stream(sorted).average().orElse(0);
        System.out.printf("BENCH %-28s n=%d p50=%.1f ms p95=%.1f ms mean=%.1f ms min=%.1f ms%n", what, sorted.length,
                sorted[sorted.length / 2], sorted[(int) Math.ceil(sorted.length * 0.95) - 1], mean, sorted[0]);
    }
}
