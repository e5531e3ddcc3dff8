package com.maddatum.worker.runner;

import com.maddatum.worker.config.WorkerSettings;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.stereotype.Component;

/**
 * Keeps only the newest {@code worker.keep-runs} run directories under {@code worker.work-dir}: each
 * holds a run's logs (up to {@code worker.max-log-bytes} per stream) and its artifacts, so without
 * pruning a busy worker would fill its disk. The Outcome and the Boss's log copy outlive them.
 *
 * <p>A directory in use by a running job is never pruned, however old: a long job's directory keeps
 * its start time, so by age alone the short jobs of other slots would push it out while it runs.
 */
@Component
public class WorkDirJanitor {

    private static final Logger log = LoggerFactory.getLogger(WorkDirJanitor.class);

    private final Path workDir;
    private final int keep;
    private final Set<String> inUse = new HashSet<>();

    @Autowired
    public WorkDirJanitor(WorkerSettings settings) {
        this(settings.workDir(), settings.keepRuns());
    }

    WorkDirJanitor(Path workDir, int keep) {
        this.workDir = workDir;
        this.keep = keep;
    }

    /** Marks a run directory as in use, before the run creates it, until {@link #release}. */
    public synchronized void use(String runName) {
        inUse.add(runName);
    }

    public synchronized void release(String runName) {
        inUse.remove(runName);
    }

    /**
     * Deletes the oldest run directories beyond the newest {@code keep}, sparing those in use (which
     * count towards {@code keep}); returns how many it removed.
     */
    public synchronized int prune() {
        List<Path> runs;
        try (Stream<Path> children = Files.list(workDir)) {
            runs = children.filter(Files::isDirectory).filter(dir -> !inUse.contains(dir.getFileName().toString()))
                    .sorted(Comparator.comparingLong(WorkDirJanitor::modified).reversed()).toList();
        } catch (IOException e) {
            return 0;
        }
        int removed = 0;
        int room = Math.max(0, keep - inUse.size());
        for (Path old : runs.subList(Math.min(room, runs.size()), runs.size())) {
            if (delete(old)) {
                removed++;
            }
        }
        return removed;
    }

    private static long modified(Path dir) {
        try {
            return Files.getLastModifiedTime(dir).toMillis();
        } catch (IOException e) {
            return Long.MAX_VALUE;
        }
    }

    private static boolean delete(Path dir) {
        try (Stream<Path> tree = Files.walk(dir)) {
            for (Path path : tree.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(path);
            }
            return true;
        } catch (IOException e) {
            log.warn("cannot remove old run directory dir={} error={}", dir, e.toString());
            return false;
        }
    }
}
