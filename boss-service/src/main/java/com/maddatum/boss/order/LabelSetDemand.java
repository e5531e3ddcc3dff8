package com.maddatum.boss.order;

import java.util.Set;

/**
 * The claimable orders that require one set of labels, as a kind of Worker sees them.
 *
 * @param unassigned how many claimable orders require exactly these labels
 * @param claimable how many of those the asking kind of Worker may take (fewer when some need more GPU memory)
 */
public record LabelSetDemand(Set<String> requiredLabels, long unassigned, long claimable) {

    public LabelSetDemand {
        requiredLabels = Set.copyOf(requiredLabels);
    }
}
