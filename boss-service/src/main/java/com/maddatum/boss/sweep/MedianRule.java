package com.maddatum.boss.sweep;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * The median stopping rule, after Google Vizier's: at step {@code t >= minSteps}, a trial whose best value so far
 * is worse than the median of the other trials' values at step {@code t} is stopped, once at least
 * {@code minTrials} others reported that step. Two deviations from Optuna's MedianPruner, on purpose: the others
 * are every other trial of the sweep that reported step {@code t}, running ones included (Optuna counts only
 * completed trials; a sweep whose trials all run at once would otherwise prune nothing until the first ones
 * end), and the rule is asked at the heartbeat's latest step only (a step too few others reported yet is
 * judged on a later heartbeat, not at an earlier step). Progress values are losses whatever the
 * sweep's metric (the contract: nn.py reports its validation loss, sk.py its fold's loss), so lower is always
 * better: "worse" is higher; equal to the median is not worse.
 */
final class MedianRule {

    /** What the rule saw; {@code prune} says whether it stops the trial. */
    record Decision(boolean prune, double step, double best, double median, int others) {}

    private MedianRule() {}

    /**
     * @param own the trial's values at every step up to {@code step}
     * @param others the other trials' values at {@code step}
     * @return the decision, or null when the rule cannot decide yet (too early, too few others)
     */
    static Decision decide(double step, List<Double> own, List<Double> others, int minSteps, int minTrials) {
        if (step < minSteps || own.isEmpty() || others.size() < minTrials) {
            return null;
        }
        double best = Collections.min(own);
        double median = median(others);
        boolean worse = best > median;
        return new Decision(worse, step, best, median, others.size());
    }

    static double median(List<Double> values) {
        List<Double> sorted = new ArrayList<>(values);
        Collections.sort(sorted);
        int n = sorted.size();
        return n % 2 == 1 ? sorted.get(n / 2) : (sorted.get(n / 2 - 1) + sorted.get(n / 2)) / 2;
    }
}
