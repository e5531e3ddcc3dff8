package com.maddatum.bench;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Medians, percentiles and spreads of a sample (nearest-rank percentiles). */
final class Stats {

    private final List<Double> sorted;

    Stats(List<Double> values) {
        this.sorted = new ArrayList<>(values);
        Collections.sort(sorted);
    }

    double percentile(double p) {
        if (sorted.isEmpty()) {
            return Double.NaN;
        }
        int rank = (int) Math.ceil(p / 100.0 * sorted.size());
        return sorted.get(Math.max(0, Math.min(sorted.size() - 1, rank - 1)));
    }

    double median() {
        return percentile(50);
    }

    double min() {
        return sorted.isEmpty() ? Double.NaN : sorted.get(0);
    }

    double max() {
        return sorted.isEmpty() ? Double.NaN : sorted.get(sorted.size() - 1);
    }

    int size() {
        return sorted.size();
    }

    /** p50, p95, p99, min, max and n, rounded for the report. */
    Map<String, Object> summary(int decimals) {
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("p50", round(median(), decimals));
        out.put("p95", round(percentile(95), decimals));
        out.put("p99", round(percentile(99), decimals));
        out.put("min", round(min(), decimals));
        out.put("max", round(max(), decimals));
        out.put("n", size());
        return out;
    }

    static double round(double value, int decimals) {
        double scale = Math.pow(10, decimals);
        return Math.round(value * scale) / scale;
    }
}
