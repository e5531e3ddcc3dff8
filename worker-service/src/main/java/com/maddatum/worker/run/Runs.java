package com.maddatum.worker.run;

import com.maddatum.worker.config.WorkerSettings;
import com.maddatum.worker.manifest.RunManifests;
import com.maddatum.worker.outcome.OutcomeBuilder;
import com.maddatum.worker.runner.ScriptLauncher;
import com.maddatum.worker.runner.StopReason;
import com.maddatum.worker.runner.WorkDirJanitor;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.stereotype.Component;

/**
 * The script runs on this Worker, Boss orders and local runs alike. It opens them, knows which are
 * running, and on shutdown drains them: no new run may open, running ones get
 * {@code worker.shutdown-grace} to finish, then every one left is stopped at once (each killed on its
 * own slot's thread, so the kills overlap instead of queueing), and it waits for them to end, each
 * wait cut to its phase of the {@link ShutdownBudget}. A run has ended once its outcome is spooled.
 */
@Component
public class Runs {

    private static final Logger log = LoggerFactory.getLogger(Runs.class);

    private final ScriptLauncher launcher;
    private final OutcomeBuilder outcomes;
    private final RunManifests manifests;
    private final WorkDirJanitor janitor;
    private final RunInputs inputs;
    private final Duration shutdownGrace;
    private final ShutdownBudget budget;
    private final Set<ScriptRun> running = ConcurrentHashMap.newKeySet();
    private final List<Runnable> closeHooks = new CopyOnWriteArrayList<>();
    private final CountDownLatch drained = new CountDownLatch(1);
    private final Object entry = new Object();
    private boolean closed;

    /** Runs that fetch nothing: a job naming a blob is not started ({@link RunInputs} without a cache). */
    public Runs(ScriptLauncher launcher, OutcomeBuilder outcomes, RunManifests manifests, WorkDirJanitor janitor,
            WorkerSettings settings, ShutdownBudget budget) {
        this(launcher, outcomes, manifests, janitor, new RunInputs(null, settings.dataDir(), null), settings, budget);
    }

    @Autowired
    public Runs(ScriptLauncher launcher, OutcomeBuilder outcomes, RunManifests manifests, WorkDirJanitor janitor,
            RunInputs inputs, WorkerSettings settings, ShutdownBudget budget) {
        this.inputs = inputs;
        this.launcher = launcher;
        this.outcomes = outcomes;
        this.manifests = manifests;
        this.janitor = janitor;
        this.shutdownGrace = settings.shutdownGrace();
        this.budget = budget;
    }

    /** A new run named {@code name} (its work directory), or empty once shutdown has begun. */
    public Optional<ScriptRun> open(String name) {
        synchronized (entry) {
            if (closed) {
                return Optional.empty();
            }
            ScriptRun run = new ScriptRun(name, this);
            running.add(run);
            return Optional.of(run);
        }
    }

    /** Called first thing on shutdown, before the grace: to stop asking for work. */
    public void onClose(Runnable hook) {
        closeHooks.add(hook);
    }

    public int size() {
        return running.size();
    }

    /**
     * Shuts the runs down (see the class comment) and returns once they have ended or the kills' bound
     * has passed. Idempotent: a second caller waits for the first one's drain.
     */
    public void drain() throws InterruptedException {
        boolean first;
        synchronized (entry) {
            first = !closed;
            closed = true;
        }
        if (!first) {
            drained.await();
            return;
        }
        try {
            budget.begin(); // on SIGTERM Spring began it already
            closeHooks.forEach(Runnable::run);
            log.info("shutting down running={} grace={} graceLeft={}", running.size(), shutdownGrace,
                    budget.untilGraceEnds());
            awaitEmpty(budget.untilGraceEnds());
            for (ScriptRun run : running) {
                log.warn("grace period over, stopping run={}", run.name());
                run.stop(StopReason.SHUTDOWN);
            }
            awaitEmpty(budget.untilKillsEnd());
            if (!running.isEmpty()) {
                log.error("runs still not ended after their kill runs={}", running.stream().map(ScriptRun::name).toList());
            }
        } finally {
            drained.countDown();
        }
    }

    private void awaitEmpty(Duration bound) throws InterruptedException {
        long deadline = System.nanoTime() + bound.toNanos();
        synchronized (running) {
            while (!running.isEmpty() && System.nanoTime() < deadline) {
                running.wait(Math.max(1, Math.min(100, (deadline - System.nanoTime()) / 1_000_000)));
            }
        }
    }

    /**
     * The run has ended and its outcome has been reported: it stops counting as running, and old run
     * directories are pruned. Never throws: it runs in a {@code finally}, and whatever the janitor meets
     * in a script's leftovers must not cost this or any later outcome.
     */
    void leave(ScriptRun run) {
        try {
            running.remove(run);
            janitor.release(run.name());
            janitor.prune();
        } catch (RuntimeException e) {
            log.warn("tidying up after a run failed run={} error={}", run.name(), e.toString());
        } finally {
            synchronized (running) {
                running.notifyAll();
            }
        }
    }

    ScriptLauncher launcher() {
        return launcher;
    }

    /** A slot of {@code gpu} (null: a CPU slot) has no job and is about to wait for one (the poller). */
    public void slotIdle(Integer gpu) {
        launcher.slotIdle(gpu);
    }

    OutcomeBuilder outcomes() {
        return outcomes;
    }

    RunInputs inputs() {
        return inputs;
    }

    RunManifests manifests() {
        return manifests;
    }

    WorkDirJanitor janitor() {
        return janitor;
    }
}
