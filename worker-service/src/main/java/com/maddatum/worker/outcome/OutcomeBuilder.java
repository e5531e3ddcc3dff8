package com.maddatum.worker.outcome;

import com.maddatum.worker.runner.ProcessResult;
import com.maddatum.worker.runner.Progress;
import com.maddatum.worker.runner.StopReason;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import org.springframework.stereotype.Component;
import tools.jackson.core.JacksonException;
import tools.jackson.core.json.JsonReadFeature;
import tools.jackson.core.type.TypeReference;
import tools.jackson.databind.json.JsonMapper;

/**
 * Makes the Outcome from how the script ended: its last non-empty stdout line when that is a JSON
 * object with an integer status (the seed's contract), otherwise a failure built from the exit code
 * and the stderr tail. A stop counts only when the Worker's kill reached a live process, and then
 * the one that started the kill ({@link ProcessResult#stoppedBy()}): a script that had already
 * finished keeps its own result, and a timeout stays a timeout when a shutdown or a cancellation
 * arrives while it is being killed. {@code retryable} marks the failures that are the machine's
 * fault, which the Boss re-queues instead of failing. A run the Boss pruned (its sweep's early
 * stopping) is no failure: it ends as done, marked {@code pruned}. Every other Outcome the Worker builds itself
 * (refusals, hand-backs, replacements) comes from here too.
 */
@Component
public final class OutcomeBuilder {

    private static final TypeReference<LinkedHashMap<String, Object>> MAP = new TypeReference<>() {};
    private static final int MAX_LOG_TAIL = 64 * 1024;
    /**
     * Outcome fields only the Worker fills: a script's last line cannot claim artifacts it did not upload
     * (the Boss would attach blobs of another job to this one) or a fetch time it did not measure; and
     * {@code logs} is the run's last output lines, which the callback carries (a script's own would be taken
     * for them, and refused when it is not their shape).
     */
    static final java.util.List<String> WORKER_FIELDS = java.util.List.of("artifacts", "skippedArtifacts", "fetchSeconds",
            "pruned", "prunedAt", "logs");

    /** Python's json.dumps writes NaN and Infinity by default: read them, so the contract can fix them. */
    private final JsonMapper lenient;

    public OutcomeBuilder(JsonMapper json) {
        this.lenient = json.rebuild().enable(JsonReadFeature.ALLOW_NON_NUMERIC_NUMBERS).build();
    }

    public Map<String, Object> fromResult(ProcessResult result, Object jobId) {
        return fromResult(result, jobId, null);
    }

    /** As above; {@code lastPoint} is the run's last progress point (null: none), which a pruned run reports. */
    public Map<String, Object> fromResult(ProcessResult result, Object jobId, Progress.Point lastPoint) {
        Map<String, Object> outcome;
        StopReason honoured = result.stoppedBy();
        if (!result.started()) {
            outcome = handBack(jobId, "ScriptNotStarted", "the script could not be started: " + result.startError());
        } else if (honoured == StopReason.SHUTDOWN) {
            outcome = handBack(jobId, "WorkerShutdown", "the worker shut down while the script ran");
        } else if (honoured == StopReason.CANCELLED) {
            outcome = failure(jobId, 499, "Cancelled", "the job was cancelled while it ran");
        } else if (honoured == StopReason.PRUNED) {
            outcome = pruned(result, jobId, lastPoint);
        } else if (result.timedOut()) {
            outcome = failure(jobId, 504, "Timeout", "the script ran past its time limit (" + result.killedBecause() + ")");
        } else {
            outcome = fromLastLine(result, jobId);
        }
        outcome.put("exitCode", result.exitCode());
        outcome.put("startedAt", result.startedAt().toString());
        outcome.put("finishedAt", result.finishedAt().toString());
        outcome.put("logTail", logTail(result));
        outcome.values().removeIf(Objects::isNull);
        return outcome;
    }

    /** The job is at fault (a bad script name, say): a 4xx the Boss does not retry. */
    public static Map<String, Object> refused(Object jobId, int status, String type, String message) {
        return failure(jobId, status, type, message);
    }

    /**
     * A run stopped before its script was launched: a cancellation ends the job as one that ran would
     * (499); any other stop (a shutdown) hands the order back, as a stop during the run does.
     */
    public static Map<String, Object> notStarted(Object jobId, StopReason stop) {
        if (stop == StopReason.PRUNED) {
            // Handing it back would only run it to be pruned again.
            return prunedOutcome(jobId, null);
        }
        return stop == StopReason.CANCELLED
                ? failure(jobId, 499, "Cancelled", "the job was cancelled before its script started")
                : handBack(jobId, stop == StopReason.SHUTDOWN ? "WorkerShutdown" : "NotStarted",
                        "the run was stopped (" + stop + ") before its script started");
    }

    /** The machine is at fault, not the job: the Boss re-queues the order at once. */
    public static Map<String, Object> handBack(Object jobId, String type, String message) {
        Map<String, Object> outcome = failure(jobId, 503, type, message);
        outcome.put("retryable", true);
        return outcome;
    }

    /**
     * What is sent instead of an Outcome the Boss refused: the same order, attempt and run, status 500
     * {@code OutcomeRejected} with the Boss's reason, the log tail and the run manifest, so the order ends
     * with why and with what ran. Should the Boss refuse that too (a log tail over a Boss's smaller body
     * limit, a manifest it cannot read), the last resort goes without both; null once even that was
     * refused: nothing smaller is left to send.
     */
    public static Map<String, Object> replacement(Map<String, Object> refused, String reason) {
        boolean again = isReplacement(refused);
        if (again && !refused.containsKey("logTail") && !refused.containsKey("manifest")) {
            return null;
        }
        String message = again ? ((Map<?, ?>) refused.get("error")).get("message") + "; then the replacement too: " + reason
                : "the Boss refused the script's outcome (status " + refused.get("status") + "): " + reason;
        Map<String, Object> outcome = failure(refused.get("jobId"), 500, "OutcomeRejected", message);
        for (String kept : new String[] {"orderId", "attempt", "node", "startedAt", "finishedAt", "exitCode", "logTail",
                "manifest"}) {
            if (refused.get(kept) != null && !(again && (kept.equals("logTail") || kept.equals("manifest")))) {
                outcome.put(kept, refused.get(kept));
            }
        }
        return outcome;
    }

    private static boolean isReplacement(Map<String, Object> outcome) {
        return outcome.get("error") instanceof Map<?, ?> error && "OutcomeRejected".equals(error.get("type"));
    }

    /**
     * A run the Boss's early stopping ended (sweeps): done, {@code pruned}, its last progress point as
     * {@code prunedAt} and as its {@code loss}; or, when the script, asked to stop, printed an Outcome of
     * its own with status 200 and a finite {@code loss}, that Outcome, marked the same way. The exit code
     * is the kill's, so it is not held against either. Anything else the script left last (an error, half
     * a line) gives way to the point: the stop was the Boss's decision, not the script's failure.
     */
    private Map<String, Object> pruned(ProcessResult result, Object jobId, Progress.Point lastPoint) {
        Map<String, Object> own = parseLastLine(result.lastStdoutLine());
        if (own != null && Integer.valueOf(200).equals(own.get("status")) && own.get("loss") instanceof Number loss
                && Double.isFinite(loss.doubleValue())) {
            Map<String, Object> outcome = owned(own, jobId);
            outcome.put("pruned", true);
            if (lastPoint != null) {
                outcome.put("prunedAt", point(lastPoint));
            }
            return outcome;
        }
        return prunedOutcome(jobId, lastPoint);
    }

    /** Status 200, {@code pruned}, and with a point its value as {@code loss} and the point as {@code prunedAt}. */
    private static Map<String, Object> prunedOutcome(Object jobId, Progress.Point lastPoint) {
        Map<String, Object> outcome = new LinkedHashMap<>();
        outcome.put("status", 200);
        outcome.put("jobId", jobId);
        if (lastPoint != null) {
            outcome.put("loss", lastPoint.value());
        }
        outcome.put("pruned", true);
        if (lastPoint != null) {
            outcome.put("prunedAt", point(lastPoint));
        }
        return outcome;
    }

    private static Map<String, Object> point(Progress.Point point) {
        Map<String, Object> at = new LinkedHashMap<>();
        at.put("step", point.step());
        at.put("value", point.value());
        return at;
    }

    /** The line as a JSON object, or null when it is none. */
    private Map<String, Object> parseLastLine(String line) {
        if (line == null || !line.startsWith("{")) {
            return null;
        }
        try {
            return lenient.readValue(line, MAP);
        } catch (JacksonException notJson) {
            return null;
        }
    }

    private Map<String, Object> fromLastLine(ProcessResult result, Object jobId) {
        String line = result.lastStdoutLine();
        Map<String, Object> parsed = parseLastLine(line);
        if (parsed == null || !isWholeNumber(parsed.get("status"))) {
            String why = parsed != null ? "the last stdout line is JSON but has no integer status"
                    : line == null ? "the script printed no Outcome" : "the last stdout line is not a JSON Outcome";
            return failure(jobId, 500, "NoOutcome", why + "; exit code " + result.exitCode() + stderrHint(result));
        }
        owned(parsed, jobId);
        if (!Integer.valueOf(0).equals(result.exitCode()) && Integer.valueOf(200).equals(parsed.get("status"))) {
            // The contract says exit 0 on success: a script that crashed after printing is not a success.
            parsed.put("status", 500);
            parsed.put("error", Map.of("type", "NonZeroExit",
                    "message", "the script reported success but exited with " + result.exitCode()));
        }
        return parsed;
    }

    /** The script's Outcome filed under the order's job, with the Worker's own fields left to the Worker. */
    private static Map<String, Object> owned(Map<String, Object> parsed, Object jobId) {
        if (jobId != null && !jobId.equals(parsed.get("jobId"))) {
            // The Boss files an outcome under the order's job; what the script said is kept beside it.
            Object said = parsed.put("jobId", jobId);
            if (said != null) {
                parsed.put("scriptJobId", said);
            }
        }
        for (String field : WORKER_FIELDS) {
            // The Worker's word on what it fetched and uploaded, and on a pruning; a script's own value is kept beside it.
            Object said = parsed.remove(field);
            if (said != null) {
                parsed.put("script" + Character.toUpperCase(field.charAt(0)) + field.substring(1), said);
            }
        }
        return parsed;
    }

    private static boolean isWholeNumber(Object value) {
        return value instanceof Integer || value instanceof Long || value instanceof java.math.BigInteger;
    }

    private static Map<String, Object> failure(Object jobId, int status, String type, String message) {
        Map<String, Object> outcome = new LinkedHashMap<>();
        outcome.put("status", status);
        outcome.put("jobId", jobId);
        outcome.put("error", OutcomeContract.error(type, message));
        return outcome;
    }

    private static String stderrHint(ProcessResult result) {
        String tail = result.stderrTail().strip();
        if (tail.isEmpty()) {
            return "";
        }
        String[] lines = tail.split("\r?\n");
        return "; stderr ends: " + lines[lines.length - 1];
    }

    private static String logTail(ProcessResult result) {
        String text = result.stdoutTail() + (result.stderrTail().isEmpty() ? "" : "\n--- stderr ---\n" + result.stderrTail());
        String marker = result.logsTruncated() ? "[worker: output exceeded the log cap; the logs were cut]\n" : "";
        int room = MAX_LOG_TAIL - marker.length();
        return marker + (text.length() > room ? text.substring(text.length() - room) : text);
    }
}
