package com.maddatum.boss.artifact;

import com.maddatum.boss.config.BossProperties;
import java.time.Clock;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Supplier;
import java.util.stream.Collectors;
import jakarta.annotation.PreDestroy;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.scheduling.annotation.Scheduled;
import org.springframework.stereotype.Component;

/**
 * {@code boss.artifacts.keep}: per project, marks pruned the artifacts of every job that is neither among
 * the best by loss nor among the latest (see {@link KeepPolicy}), nor the model of a job still to run. The
 * records stay, with when and why; the blobs are left for the blob collector, which deletes what nothing
 * refers to. Runs on a schedule over every project, and soon after an accepted outcome over its project,
 * on a thread of its own: it reads all the project's unpruned artifacts, which a callback must not wait for.
 */
@Component
class ArtifactRetention {

    private static final Logger log = LoggerFactory.getLogger(ArtifactRetention.class);

    /** A project, or the jobs without one (null): a map key either way. */
    private record Group(String project) {}

    private final ArtifactStore store;
    private final ObjectProvider<ModelUses> uses;
    private final Clock clock;
    private final BossProperties.Artifacts.Keep keep;
    private final KeepPolicy policy;
    private final Set<Group> pending = ConcurrentHashMap.newKeySet();
    private final ExecutorService sweeper = Executors.newSingleThreadExecutor(r -> {
        Thread thread = new Thread(r, "artifact-retention");
        thread.setDaemon(true);
        return thread;
    });

    ArtifactRetention(ArtifactStore store, ObjectProvider<ModelUses> uses, Clock clock, BossProperties properties) {
        this.store = store;
        this.uses = uses;
        this.clock = clock;
        this.keep = properties.artifacts().keep();
        this.policy = new KeepPolicy(keep.best(), keep.latest());
    }

    /** What a sweep pruned: job id -> artifacts marked. */
    record Pruned(Map<String, Long> jobs) {}

    /**
     * Sweeps the project soon, off the caller's thread. Requests for a project already waiting for its sweep
     * are one request: a burst of outcomes costs one sweep, not one each.
     */
    void soon(String project) {
        if (!keep.enabled()) {
            return;
        }
        Group group = new Group(project);
        if (!pending.add(group)) {
            return;
        }
        try {
            sweeper.execute(() -> {
                pending.remove(group);
                try {
                    sweep(project);
                } catch (RuntimeException e) {
                    // The scheduled sweep tries again; an outcome is never held up by this.
                    log.warn("artifact retention failed project={} error={}", project, e.toString());
                }
            });
        } catch (RejectedExecutionException shuttingDown) {
            // The Boss is stopping: the next one's scheduled sweep covers this project.
            pending.remove(group);
        }
    }

    @Scheduled(fixedDelayString = "${boss.artifacts.prune-interval:10m}",
            initialDelayString = "${boss.artifacts.prune-interval:10m}")
    void sweepAll() {
        if (!keep.enabled()) {
            return;
        }
        Map<Group, List<ArtifactRecord>> byProject = store.kept().stream()
                .collect(Collectors.groupingBy(r -> new Group(r.projectName()), LinkedHashMap::new, Collectors.toList()));
        Supplier<Set<String>> inUse = once();
        byProject.forEach((group, kept) -> prune(group.project(), kept, inUse));
    }

    /** Sweeps one project now, on the caller's thread. */
    Pruned sweep(String project) {
        if (!keep.enabled()) {
            return new Pruned(Map.of());
        }
        return prune(project, store.keptIn(project), once());
    }

    private Pruned prune(String project, List<ArtifactRecord> kept, Supplier<Set<String>> inUse) {
        Map<String, List<ArtifactRecord>> byJob = kept.stream()
                .collect(Collectors.groupingBy(ArtifactRecord::jobId, LinkedHashMap::new, Collectors.toList()));
        Set<String> keptJobs = policy.kept(byJob.values().stream().map(ArtifactRetention::candidate).toList());
        Map<String, Long> pruned = new LinkedHashMap<>();
        if (keptJobs.size() == byJob.size()) {
            return new Pruned(pruned);
        }
        Set<String> models = inUse.get();
        Instant now = clock.instant();
        for (Map.Entry<String, List<ArtifactRecord>> job : byJob.entrySet()) {
            if (keptJobs.contains(job.getKey()) || models.contains(job.getKey())) {
                continue;
            }
            long count = store.prune(job.getKey(), now, policy.reason(project));
            if (count > 0) {
                long bytes = job.getValue().stream().mapToLong(a -> a.size() == null ? 0 : a.size()).sum();
                log.info("artifacts pruned project={} job={} count={} bytes={}", project, job.getKey(), count, bytes);
                pruned.put(job.getKey(), count);
            }
        }
        return new Pruned(pruned);
    }

    /** A job's loss is the same on each of its records; it was recorded when its first one was. */
    private static KeepPolicy.Candidate candidate(List<ArtifactRecord> records) {
        ArtifactRecord first = records.get(0);
        Instant recordedAt = records.stream().map(ArtifactRecord::createdAt).filter(java.util.Objects::nonNull)
                .min(Instant::compareTo).orElse(Instant.EPOCH);
        return new KeepPolicy.Candidate(first.jobId(), first.loss(), recordedAt);
    }

    /** The models in use, asked for at most once per sweep and only when something is to be pruned. */
    private Supplier<Set<String>> once() {
        AtomicReference<Set<String>> answer = new AtomicReference<>();
        return () -> answer.updateAndGet(known -> known != null ? known
                : uses.orderedStream().flatMap(u -> u.modelJobsInUse().stream()).collect(Collectors.toSet()));
    }

    @PreDestroy
    void stop() {
        sweeper.shutdownNow();
    }
}
