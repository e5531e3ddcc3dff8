package com.maddatum.boss.order;

import com.maddatum.boss.config.BossProperties;
import java.time.Duration;
import java.time.Instant;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import org.bson.types.ObjectId;
import org.springframework.stereotype.Component;

/**
 * How long the latest runs of each script took in each project: the last {@code boss.queue.durations-kept}
 * done orders of every (project, script), for the queue's estimate of when a job will finish. Kept by
 * {@link OrderMirror}, so a restarted Boss has them again once it has loaded the orders.
 *
 * <p>Bounded: at most {@code boss.queue.duration-scripts} (project, script) pairs are kept, and the one
 * least recently used goes first; project and script names come from submitters, so they are not trusted
 * to be few.
 */
@Component
class ScriptDurations {

    private record Key(String project, String script) {}

    /** One done run; ordered by when it finished, so the oldest is dropped first. */
    private record Run(Instant finished, ObjectId id, Duration took) {}

    private static final Comparator<Run> OLDEST_FIRST = Comparator.comparing(Run::finished).thenComparing(Run::id);

    private final int kept;
    private final Map<Key, TreeSet<Run>> runs;

    ScriptDurations(BossProperties properties) {
        this.kept = properties.queue().durationsKept();
        int maxScripts = properties.queue().durationScripts();
        this.runs = new LinkedHashMap<>(16, 0.75f, true) {
            @Override
            protected boolean removeEldestEntry(Map.Entry<Key, TreeSet<Run>> eldest) {
                return size() > maxScripts;
            }
        };
    }

    /**
     * Takes the run of an order that has just become done. An order seen done again (a replay, or
     * the start-up load after a restart) is the same run and is kept once; runs may arrive in any order.
     */
    void move(OrderFacts before, Order after) {
        if (after == null || after.status() != OrderStatus.DONE || (before != null && before.status() == OrderStatus.DONE)) {
            return;
        }
        Instant started = startOf(after);
        if (started == null || after.finishedAt() == null || after.scriptName() == null
                || after.finishedAt().isBefore(started)) {
            return;
        }
        Run run = new Run(after.finishedAt(), after.id(), Duration.between(started, after.finishedAt()));
        synchronized (runs) {
            TreeSet<Run> latest = runs.computeIfAbsent(new Key(after.projectName(), after.scriptName()),
                    key -> new TreeSet<>(OLDEST_FIRST));
            latest.add(run);
            while (latest.size() > kept) {
                latest.pollFirst();
            }
        }
    }

    /**
     * When the finishing attempt began: its first heartbeat, or, for a worker that does not heartbeat
     * (the seed's), its claim, as the history recorded it.
     */
    private static Instant startOf(Order order) {
        return order.startedAt() != null ? order.startedAt() : order.claimedAt();
    }

    /** The kept durations of the script in the project (a null project is a project of its own), oldest first. */
    List<Duration> recent(String project, String script) {
        synchronized (runs) {
            TreeSet<Run> latest = runs.get(new Key(project, script));
            return latest == null ? List.of() : latest.stream().map(Run::took).toList();
        }
    }

    int scripts() {
        synchronized (runs) {
            return runs.size();
        }
    }
}
