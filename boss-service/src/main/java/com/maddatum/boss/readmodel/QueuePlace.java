package com.maddatum.boss.readmodel;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.maddatum.boss.order.Fleet;
import com.maddatum.boss.order.Order;
import com.maddatum.boss.order.OrderQueries;
import com.maddatum.boss.order.OrderStatus;
import com.maddatum.boss.worker.WorkerRegistry.LiveNode;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.OptionalLong;
import java.util.Set;
import java.util.TreeSet;
import org.springframework.stereotype.Component;

/**
 * Where a waiting job stands, for the person who submitted it: how many orders go first, which live
 * Workers could take it, when it may finish, and why it waits, in a sentence.
 *
 * <p>{@code position} depends on the Worker: one with more labels can take more of the orders ahead.
 * It is counted for every label set among the live eligible Workers and the smallest is shown, which
 * is the place the job has for the Worker that would reach it soonest. With no live eligible Worker it
 * is counted for a Worker that has exactly the labels the job needs (the fewest any Worker could have
 * ahead). Each count is a few O(log n) lookups in the ready index; no request walks the queue. Finding
 * the live Workers walks the Workers memory holds (at most {@code boss.workers.max-known}); drained and
 * quarantined ones are left out. For a job with {@code minGpuMemoryMiB}, eligible Workers are also those
 * with a slot that has that much GPU memory, as their registration says; the position still counts by
 * labels only (orders ahead that need more GPU memory than the Worker has are counted too).
 */
@Component
class QueuePlace {

    @JsonInclude(JsonInclude.Include.NON_NULL)
    record QueueView(Long position, EligibleWorkers eligibleWorkers, Long etaSeconds, String etaMethod,
            String waitingBecause) {}

    /** Live Workers whose labels include the job's requiredLabels, and how many of them have a free slot. */
    record EligibleWorkers(int live, int idle) {}

    private final OrderQueries orders;
    private final Fleet fleet;

    QueuePlace(OrderQueries orders, Fleet fleet) {
        this.orders = orders;
        this.fleet = fleet;
    }

    /** The queue view of an unassigned order; null for any other. */
    QueueView of(Order order) {
        if (order.status() != OrderStatus.UNASSIGNED) {
            return null;
        }
        Set<String> needs = Set.copyOf(order.requiredLabels());
        // A drained or quarantined node takes nothing: counting it would promise a start that never comes.
        List<LiveNode> labelled = fleet.takers(needs);
        List<LiveNode> eligible = labelled.stream().filter(n -> n.hasGpuMemory(order.minGpuMemoryMiB())).toList();
        int idle = (int) eligible.stream().filter(n -> orders.heldBy(n.name()) < n.slots()).count();
        long slots = eligible.stream().mapToLong(LiveNode::slots).sum();
        OptionalLong position = position(order, needs, eligible);
        Eta eta = position.isPresent() && slots > 0 ? eta(order, position.getAsLong(), slots) : null;
        return new QueueView(position.isPresent() ? position.getAsLong() : null,
                new EligibleWorkers(eligible.size(), idle), eta == null ? null : eta.seconds(),
                eta == null ? null : eta.method(),
                eligible.isEmpty() && !labelled.isEmpty() ? noGpu(needs, order.minGpuMemoryMiB())
                        : because(needs, position, eligible.size(), idle));
    }

    private static String noGpu(Set<String> needs, long mib) {
        return "no live Worker" + (needs.isEmpty() ? "" : " with labels " + new TreeSet<>(needs))
                + " has a GPU with " + mib + " MiB or more";
    }

    private OptionalLong position(Order order, Set<String> needs, List<LiveNode> eligible) {
        Set<Set<String>> labelSets = new HashSet<>();
        eligible.forEach(node -> labelSets.add(node.labels()));
        if (labelSets.isEmpty()) {
            labelSets.add(needs);
        }
        OptionalLong fewest = OptionalLong.empty();
        for (Set<String> labels : labelSets) {
            OptionalLong ahead = orders.ahead(order.id(), labels);
            if (ahead.isEmpty()) {
                return ahead; // not in the queue (being claimed right now): no place to tell
            }
            if (fewest.isEmpty() || ahead.getAsLong() < fewest.getAsLong()) {
                fewest = ahead;
            }
        }
        return fewest;
    }

    private record Eta(long seconds, String method) {}

    /**
     * Until the job finishes: every eligible slot works through the orders ahead at the median pace of
     * this script, then runs this one. Orders ahead may be other scripts, and busy slots may be nearly
     * done; the method is named so nobody mistakes it for more than that.
     */
    private Eta eta(Order order, long ahead, long slots) {
        List<Duration> recent = orders.recentDurations(order.projectName(), order.scriptName());
        if (recent.isEmpty()) {
            return null;
        }
        double median = median(recent);
        long seconds = Math.round(median * ((double) ahead / slots + 1));
        String project = order.projectName() == null ? "no project" : "project " + order.projectName();
        String method = String.format(Locale.ROOT, "median of the last %s of %s in %s (%s s) x (%d ahead / %s + 1)",
                plural(recent.size(), "duration"), order.scriptName(), project, seconds(median), ahead,
                plural(slots, "eligible slot"));
        return new Eta(seconds, method);
    }

    static double median(List<Duration> durations) {
        double[] seconds = durations.stream().mapToDouble(d -> d.toMillis() / 1000.0).sorted().toArray();
        int mid = seconds.length / 2;
        return seconds.length % 2 == 1 ? seconds[mid] : (seconds[mid - 1] + seconds[mid]) / 2;
    }

    /** Whole seconds, or tenths for a run shorter than ten seconds. */
    private static String seconds(double value) {
        return value >= 10 ? Long.toString(Math.round(value)) : String.format(Locale.ROOT, "%.1f", value);
    }

    private static String because(Set<String> needs, OptionalLong position, int eligible, int idle) {
        if (eligible == 0) {
            return needs.isEmpty() ? "no Worker is live" : "no live Worker has labels " + new TreeSet<>(needs);
        }
        if (position.isEmpty()) {
            return "a Worker is claiming it right now, or its last claim failed and it waits until it changes";
        }
        long ahead = position.getAsLong();
        String workers = plural(eligible, "eligible Worker");
        if (ahead == 0) {
            return idle > 0 ? "next in line; waiting for an eligible Worker to ask"
                    : "next in line; " + (eligible == 1 ? "the eligible Worker is busy" : "all " + workers + " are busy");
        }
        String orders = plural(ahead, "order") + " ahead; ";
        if (idle == 0) {
            return orders + workers + (eligible == 1 ? " is busy" : " are busy");
        }
        return orders + workers + ", " + idle + " idle";
    }

    private static String plural(long n, String noun) {
        return n + " " + noun + (n == 1 ? "" : "s");
    }
}
