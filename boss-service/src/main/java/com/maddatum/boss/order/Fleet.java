package com.maddatum.boss.order;

import com.maddatum.boss.worker.WorkerRegistry.LiveNode;
import java.util.List;
import java.util.Set;

/**
 * What the order verbs need from the fleet: whether a node may be given work (drain, quarantine), whether
 * some other node could run an order, and how each attempt ended, for the quarantine's streaks. Declared
 * here and implemented in the fleet package, so that orders never depend on how the fleet keeps its state.
 */
public interface Fleet {

    /** Whether {@code node} may claim now; asked before every claim, so it is answered from memory (at most about a second stale). */
    boolean mayClaim(String node);

    /** The same question after a claim landed, answered from the store where replicas share one. */
    boolean stillMayClaim(String node);

    /**
     * The live nodes that could take an order needing {@code labels}: they offer them and are neither
     * drained nor quarantined. What a second opinion and a job's place in the queue both count on.
     */
    List<LiveNode> takers(Set<String> labels);

    /**
     * Whether a taker other than {@code excluding} with a slot of {@code minGpuMemoryMiB} (null: no GPU
     * needed) exists: asked only for orders that already failed somewhere.
     */
    default boolean anotherCanRun(Set<String> labels, Long minGpuMemoryMiB, Set<String> excluding) {
        return takers(labels).stream().anyMatch(n -> !excluding.contains(n.name()) && n.hasGpuMemory(minGpuMemoryMiB));
    }

    /** How an attempt ended on a node; never throws into the caller's verb. */
    void ended(AttemptEnding ending);

    /** A fleet that admits every node and keeps no record: for tests of the order verbs alone. */
    Fleet OPEN = new Fleet() {
        @Override
        public boolean mayClaim(String node) {
            return true;
        }

        @Override
        public boolean stillMayClaim(String node) {
            return true;
        }

        @Override
        public List<LiveNode> takers(Set<String> labels) {
            return List.of();
        }

        @Override
        public void ended(AttemptEnding ending) {}
    };
}
