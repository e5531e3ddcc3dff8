package com.maddatum.worker.runner;

import java.util.LinkedHashMap;
import java.util.Map;
import tools.jackson.core.JacksonException;
import tools.jackson.core.type.TypeReference;
import tools.jackson.databind.json.JsonMapper;

/**
 * Makes the Outcome from how the script ended: its last non-empty stdout line when that is a JSON
 * object (the seed's contract), otherwise a failure built from the exit code and the stderr tail.
 * A script killed by the Worker gets an Outcome saying why; {@code retryable} marks the failures
 * that are the machine's fault, which the Boss re-queues instead of failing.
 */
public final class OutcomeBuilder {

    private static final TypeReference<LinkedHashMap<String, Object>> MAP = new TypeReference<>() {};
    private static final int MAX_LOG_TAIL = 64 * 1024;

    private OutcomeBuilder() {}

    public static Map<String, Object> fromResult(ProcessResult result, StopReason stop, Object jobId, JsonMapper json) {
        Map<String, Object> outcome;
        if (!result.started()) {
            outcome = failure(jobId, 503, "ScriptNotStarted", "the script could not be started: " + result.startError());
            outcome.put("retryable", true);
        } else if (stop == StopReason.SHUTDOWN) {
            outcome = failure(jobId, 503, "WorkerShutdown", "the worker shut down while the script ran");
            outcome.put("retryable", true);
        } else if (stop == StopReason.CANCELLED) {
            outcome = failure(jobId, 499, "Cancelled", "the job was cancelled while it ran");
        } else if (stop == StopReason.TIMEOUT || result.timedOut()) {
            outcome = failure(jobId, 504, "Timeout", "the script ran past its time limit (" + result.killedBecause() + ")");
        } else {
            outcome = fromLastLine(result, jobId, json);
        }
        outcome.put("exitCode", result.exitCode());
        outcome.put("startedAt", result.startedAt().toString());
        outcome.put("finishedAt", result.finishedAt().toString());
        outcome.put("logTail", logTail(result));
        outcome.values().removeIf(java.util.Objects::isNull);
        return outcome;
    }

    public static Map<String, Object> refused(Object jobId, int status, String type, String message) {
        return failure(jobId, status, type, message);
    }

    private static Map<String, Object> fromLastLine(ProcessResult result, Object jobId, JsonMapper json) {
        String line = result.lastStdoutLine();
        Map<String, Object> parsed = null;
        if (line != null && line.startsWith("{")) {
            try {
                parsed = json.readValue(line, MAP);
            } catch (JacksonException notJson) {
                parsed = null;
            }
        }
        if (parsed == null || !(parsed.get("status") instanceof Integer)) {
            String why = parsed != null ? "the last stdout line is JSON but has no integer status"
                    : line == null ? "the script printed no Outcome" : "the last stdout line is not a JSON Outcome";
            return failure(jobId, 500, "NoOutcome", why + "; exit code " + result.exitCode() + stderrHint(result));
        }
        parsed.putIfAbsent("jobId", jobId);
        if (result.exitCode() != 0 && Integer.valueOf(200).equals(parsed.get("status"))) {
            // The contract says exit 0 on success: a script that crashed after printing is not a success.
            parsed.put("status", 500);
            parsed.put("error", Map.of("type", "NonZeroExit",
                    "message", "the script reported success but exited with " + result.exitCode()));
        }
        return parsed;
    }

    private static Map<String, Object> failure(Object jobId, int status, String type, String message) {
        Map<String, Object> outcome = new LinkedHashMap<>();
        outcome.put("status", status);
        outcome.put("jobId", jobId);
        outcome.put("error", new LinkedHashMap<>(Map.of("type", type, "message", message)));
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
