package com.maddatum.boss.order;

import java.util.Set;

/**
 * Who asks for work in one {@code /bored} call: the node, the labels it offers, whether it will
 * heartbeat, and, for a slot bound to a GPU, how much memory that GPU has (null: the slot has no GPU,
 * or the claimer did not say, as the seed's worker does not).
 */
public record Claimer(String node, Set<String> labels, boolean heartbeats, Long gpuMemoryMiB) {

    public Claimer {
        labels = Set.copyOf(labels);
    }

    public static Claimer of(String node, Set<String> labels, boolean heartbeats) {
        return new Claimer(node, labels, heartbeats, null);
    }
}
