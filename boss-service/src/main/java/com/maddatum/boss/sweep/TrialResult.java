package com.maddatum.boss.sweep;

import com.maddatum.boss.order.Order;
import com.maddatum.boss.order.OrderStatus;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;
import org.bson.Document;

/**
 * How a trial's job ended, as the sweep counts it: {@code status} (done, failed, cancelled, the order's),
 * and, read from its outcome, {@code value} (the sweep's metric) and {@code pruned}. A pruned outcome
 * ({@code pruned: true} with {@code prunedAt: {step, value}}, sent by a Worker that stopped the script on the
 * Boss's word) has the value {@code prunedAt.value} when the sweep's metric is {@code loss} and the outcome
 * does not carry it: a progress value is a loss, so it stands for no other metric, and a pruned trial without
 * its metric has no value (it ranks after every trial with one). {@code retryable}:
 * a failure that a re-run may change, i.e. anything but a 4xx the script reported (infrastructure failures
 * whose attempts ran out, lost leases, timeouts (504) and other 5xx). A 4xx the Worker reports before the script
 * ran ({@link #NOT_THE_SCRIPTS}: data or inputs it could not fetch or check) is not the script's and is retryable.
 */
record TrialResult(String status, Double value, boolean pruned, Document prunedAt, String outcomeId,
        boolean retryable) {

    /** The one metric a progress value (a loss) stands for. */
    static final String LOSS = "loss";

    /**
     * The Worker's {@code error.type}s for failures before the script ran (its RunInputs' names: a blob missing
     * (404), corrupt (422), too large or no room for it (507), inputs it could not stage (400)): a re-run may
     * find the data uploaded, the blob repaired, a Worker with room. Any other 4xx is the script's.
     */
    static final Set<String> NOT_THE_SCRIPTS = Set.of("DataNotFound", "InputNotFound", "DataCorrupt", "InputCorrupt",
            "DataTooLarge", "InputTooLarge", "InsufficientStorage", "InvalidInputs");

    /** A metric name: a field of the outcome such as {@code loss}, or {@code metrics.X}. */
    static final Pattern METRIC_NAME = Pattern.compile("(metrics\\.)?[A-Za-z_][A-Za-z0-9_]{0,63}");

    /**
     * Fields of an outcome that are not a script's result: a metric can never be one of these. Any other
     * name is read from the outcome's own fields ({@code loss}, {@code metric}), {@code metrics}, or the
     * extra fields the script reported (kept under {@code details}).
     */
    static final Set<String> NOT_METRICS = Set.of("_id", "status", "jobId", "orderId", "attempt", "node",
            "metricName", "projectName", "startedAt", "finishedAt", "receivedAt", "exitCode", "error", "logTail",
            "logTruncated", "retryable", "manifest", "artifacts", "skippedArtifacts", "fetchSeconds", "assignmentId",
            "metrics", "details", "pruned", "prunedAt");

    static boolean canBeMetric(String name) {
        return name != null && METRIC_NAME.matcher(name).matches() && !NOT_METRICS.contains(name);
    }

    static TrialResult of(Order order, Document outcome, Sweep.Metric metric) {
        OrderStatus status = order.status();
        boolean ok = status == OrderStatus.DONE;
        boolean pruned = ok && outcome != null && Boolean.TRUE.equals(field(outcome, "pruned"));
        Document prunedAt = pruned && field(outcome, "prunedAt") instanceof Document at ? at : null;
        Double value = ok ? valueOf(outcome, metric.name()) : null;
        if (value == null && LOSS.equals(metric.name()) && prunedAt != null
                && prunedAt.get("value") instanceof Number v && finite(v)) {
            value = v.doubleValue();
        }
        return new TrialResult(status.wire(), value, pruned, prunedAt,
                order.outcomeId() == null ? null : order.outcomeId().toHexString(),
                status == OrderStatus.FAILED && retryable(outcome));
    }

    /**
     * A pruned outcome without a value (its attempt heard "pruned" before its script reported anything, so the
     * Worker had no last point): valued at the Boss's own decision for that job ({@code trial.stop.value}), under
     * the same rule as {@code prunedAt}: only for the metric {@code loss}.
     */
    TrialResult orRemembered(Trial trial, Sweep.Metric metric) {
        Document stop = trial.stop();
        if (!pruned || value != null || !LOSS.equals(metric.name()) || stop == null
                || !trial.jobId().equals(stop.getString("jobId")) || !(stop.get("value") instanceof Number v)
                || !finite(v)) {
            return this;
        }
        return new TrialResult(status, v.doubleValue(), pruned, prunedAt, outcomeId, retryable);
    }

    /** Whether a failure with this outcome (null: none) is one a re-run may change. */
    static boolean retryable(Document outcome) {
        Integer reported = outcome != null && outcome.get("status") instanceof Number n ? n.intValue() : null;
        Object errorType = outcome != null && outcome.get("error") instanceof Map<?, ?> error ? error.get("type") : null;
        boolean scriptsOwn4xx = reported != null && reported >= 400 && reported < 500
                && !(errorType instanceof String type && NOT_THE_SCRIPTS.contains(type));
        return !scriptsOwn4xx;
    }

    /** The metric's value in the outcome, or null when it has none (or not a finite number). */
    static Double valueOf(Document outcome, String name) {
        if (outcome == null) {
            return null;
        }
        Object value;
        if (name.startsWith("metrics.")) {
            value = outcome.get("metrics") instanceof Map<?, ?> metrics ? metrics.get(name.substring(8)) : null;
        } else {
            value = field(outcome, name);
        }
        return value instanceof Number n && finite(n) ? n.doubleValue() : null;
    }

    /** A field of the outcome, where the Boss stores it: at the top, or under details for a script's extras. */
    private static Object field(Document outcome, String name) {
        Object top = outcome.get(name);
        if (top != null) {
            return top;
        }
        return outcome.get("details") instanceof Map<?, ?> details ? details.get(name) : null;
    }

    private static boolean finite(Number n) {
        return Double.isFinite(n.doubleValue());
    }
}
