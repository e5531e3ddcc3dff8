package com.maddatum.worker.run;

import com.maddatum.worker.manifest.RunManifest;
import com.maddatum.worker.outcome.OutcomeBuilder;
import com.maddatum.worker.runner.ProcessResult;
import com.maddatum.worker.runner.ProcessRunner;
import com.maddatum.worker.runner.ProcessSpec;
import com.maddatum.worker.runner.Progress;
import com.maddatum.worker.runner.ScriptLauncher;
import com.maddatum.worker.runner.StopReason;
import java.io.IOException;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One job's script on one slot, from launch to Outcome, for Boss orders and local runs alike. It runs
 * on the slot's own thread, and so does any kill: {@link #stop} only records why and wakes that thread,
 * so a heartbeat or a shutdown that asks for a stop never waits out a kill grace itself.
 */
public final class ScriptRun {

    private static final Logger log = LoggerFactory.getLogger(ScriptRun.class);

    private final String name;
    private final Runs runs;
    private final AtomicReference<StopReason> stop = new AtomicReference<>();
    /** What the script reports with {@code ##progress} lines: the heartbeat sends it, a pruned Outcome ends with it. */
    private final Progress progress = new Progress();
    private volatile ProcessRunner.Running running;

    /** How a run ended: its Outcome, the process result (null if none started), and a stop that took effect. */
    public record Ending(Map<String, Object> outcome, ProcessResult result, StopReason stop) {
        /** Some process of the run would not die: whatever it holds (a GPU) is not free for the next job. */
        public boolean stuck() {
            return result != null && result.stuck();
        }
    }

    ScriptRun(String name, Runs runs) {
        this.name = name;
        this.runs = runs;
    }

    public String name() {
        return name;
    }

    public Progress progress() {
        return progress;
    }

    /**
     * Asks the run to stop for this reason (the first reason given wins; a timeout kill already under
     * way wins over all). Never blocks.
     */
    public void stop(StopReason reason) {
        if (stop.compareAndSet(null, reason)) {
            ProcessRunner.Running process = running;
            if (process != null) {
                process.stop(reason);
            }
        }
    }

    /** The stop asked for first (a cancellation, a lost lease, a shutdown), or null while none was. */
    public StopReason stopRequested() {
        return stop.get();
    }

    /**
     * Launches the job's script in the work directory named after this run, waits for its end, and hands
     * the ending to {@code report} (which keeps the outcome in the spool) before the run is left and old
     * run directories are pruned: nothing that tidying up meets can come between a run and its outcome.
     */
    public Ending execute(Map<String, Object> job, Integer gpu, Map<String, String> env,
            ProcessSpec.OutputListener listener, Consumer<Ending> report) throws InterruptedException {
        try {
            Ending ending = run(job, gpu, env, listener);
            report.accept(ending);
            return ending;
        } finally {
            runs.leave(this);
        }
    }

    private Ending run(Map<String, Object> job, Integer gpu, Map<String, String> env,
            ProcessSpec.OutputListener listener) throws InterruptedException {
        Object jobId = job.get("_id");
        runs.janitor().use(name);
        RunInputs.Staged staged;
        try {
            staged = runs.inputs().stage(job, name, () -> stop.get() != null);
        } catch (RunInputs.NotStaged e) {
            return notStaged(jobId, e);
        } catch (RuntimeException e) {
            log.error("putting the run's data in place failed in the worker run={}", name, e);
            return new Ending(OutcomeBuilder.handBack(jobId, "WorkerFailure", "the worker could not fetch the job's data: "
                    + e), null, null);
        }
        try (staged) { // the run's blobs are let go however it ends
            RunManifest manifest = runs.manifests().begin(job, gpu);
            StopReason before = stop.get();
            if (before != null) {
                // Asked while the files were fetched or hashed (a large data file takes a while): nothing to launch.
                log.info("run stopped before its script started run={} stop={}", name, before);
                return new Ending(fetched(OutcomeBuilder.notStarted(jobId, before), staged.fetchSeconds()), null, before);
            }
            running = runs.launcher().launch(job, name, gpu, env, staged.files(), listener, progress);
            StopReason early = stop.get();
            if (early != null) {
                running.stop(early); // asked before the process existed
            }
            log.info("script started run={} pid={} script={} warm={}", name, running.pid(), job.get("scriptName"),
                    running.warm());
            ProcessResult result = running.await();
            StopReason honoured = result.stoppedBy();
            Map<String, Object> outcome = fetched(runs.outcomes().fromResult(result, jobId, progress.last()), staged.fetchSeconds());
            manifest.attach(outcome, stop.get() == null); // a stopped run waits for no probe
            log.info("script ended run={} exit={} status={} stop={} leftovers={} stuck={} seconds={}", name,
                    result.exitCode(), outcome.get("status"), honoured, result.leftovers(), result.stuck(),
                    result.duration().toMillis() / 1000.0);
            return new Ending(outcome, result, honoured);
        } catch (ScriptLauncher.Refused e) {
            return new Ending(fetched(OutcomeBuilder.refused(jobId, e.status(), e.type(), e.getMessage()),
                    staged.fetchSeconds()), null, null);
        } catch (IOException | RuntimeException e) {
            log.error("the run failed in the worker run={}", name, e);
            return new Ending(OutcomeBuilder.handBack(jobId, "WorkerFailure", "the worker could not run the script: " + e),
                    null, null);
        }
    }

    /**
     * A run whose data or inputs could not be put in place: the job's fault is a 4xx, the Boss's a hand-back
     * that holds nothing against this Worker, a stop ends it as a stop before the script would.
     */
    private Ending notStaged(Object jobId, RunInputs.NotStaged e) {
        log.warn("run not started: its data or inputs could not be put in place run={} status={} type={} reason={}",
                name, e.status(), e.type(), e.getMessage());
        Map<String, Object> outcome;
        StopReason stopped = null;
        switch (e.fault()) {
            case STOPPED -> {
                stopped = stop.get() != null ? stop.get() : StopReason.SHUTDOWN; // no reason: the shutdown's interrupt
                outcome = OutcomeBuilder.notStarted(jobId, stopped);
            }
            case BOSS -> outcome = OutcomeBuilder.handBack(jobId, e.type(), e.getMessage());
            default -> outcome = OutcomeBuilder.refused(jobId, e.status(), e.type(), e.getMessage());
        }
        return new Ending(fetched(outcome, e.fetchSeconds()), null, stopped);
    }

    /** The seconds spent fetching, on the outcome, when the job named something to fetch. */
    private static Map<String, Object> fetched(Map<String, Object> outcome, Double fetchSeconds) {
        if (fetchSeconds != null) {
            outcome.put("fetchSeconds", fetchSeconds);
        }
        return outcome;
    }
}
