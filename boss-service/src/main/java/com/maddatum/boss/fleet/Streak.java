package com.maddatum.boss.fleet;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * The quarantine rule, with no state of its own: a node is quarantined when its last {@code k} settled
 * endings all count against it. Read newest first: a success ends the streak; an ending that was the
 * job's fault is passed over, and so is a script failure not (yet) settled by the same order's next
 * attempt (a node that fails every script fast always has one pending while the second opinions run
 * elsewhere: stopping at it would let it burn the whole queue first); lease expiries within one
 * lease period of a counted one count once with it (a node with four slots that loses power once loses
 * four leases at once).
 */
final class Streak {

    private Streak() {}

    /**
     * The endings that make the case, newest first (empty: no quarantine). {@code oldestFirst} is the
     * node's record; {@code k} at least 1.
     */
    static List<RecordedEnding> evidence(List<RecordedEnding> oldestFirst, int k, Duration leasePeriod) {
        List<RecordedEnding> evidence = new ArrayList<>();
        int counted = 0;
        Instant lastExpiry = null;
        for (int i = oldestFirst.size() - 1; i >= 0 && counted < k; i--) {
            RecordedEnding ending = oldestFirst.get(i);
            if (ending.kind() == RecordedEnding.Kind.JOBS_FAULT || ending.kind() == RecordedEnding.Kind.SCRIPT_PENDING) {
                continue;
            }
            if (!ending.kind().counts()) {
                return List.of();
            }
            evidence.add(ending);
            if (ending.kind() == RecordedEnding.Kind.LEASE_EXPIRED) {
                if (lastExpiry != null && Duration.between(ending.at(), lastExpiry).abs().compareTo(leasePeriod) < 0) {
                    continue; // the same loss as the expiry already counted
                }
                lastExpiry = ending.at();
            }
            counted++;
        }
        return counted >= k ? List.copyOf(evidence) : List.of();
    }
}
