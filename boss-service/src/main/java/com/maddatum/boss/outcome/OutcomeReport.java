package com.maddatum.boss.outcome;

import com.maddatum.boss.web.ApiProblem;
import com.maddatum.boss.worker.WorkerRegistry;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.Date;
import java.util.Set;
import org.bson.Document;
import org.bson.types.ObjectId;

/**
 * A callback body, checked field by field. The seed's bare form is {@code {status, jobId, loss,
 * metric}}; the worker's richer form adds {@code orderId, attempt, node, startedAt, finishedAt,
 * exitCode, metrics, error, logTail, retryable}. Any other fields (a script's extras such as
 * {@code device} or {@code epochsRun}) are kept under {@code details}. {@code manifest} is what the
 * worker recorded about the run (script and data hashes, versions, GPU, seed): an object of at most
 * {@value #MAX_MANIFEST_FIELDS} fields, stored as sent; the Boss adds the job's seed when it is missing.
 * {@code artifacts} and {@code skippedArtifacts} (the files the script left in {@code OUTPUT_DIR}) are
 * stored as sent and attached to the job when the outcome is accepted. {@code fetchSeconds} is how long
 * the Worker spent fetching the job's data and inputs before the script started.
 *
 * @param retryable an infrastructure failure (the script never ran to an answer): re-queue the order
 */
record OutcomeReport(
        int status,
        String jobId,
        ObjectId orderId,
        Integer attempt,
        String node,
        Double loss,
        Double metric,
        String metricName,
        Instant startedAt,
        Instant finishedAt,
        Integer exitCode,
        Document metrics,
        Document error,
        String logTail,
        boolean logTruncated,
        boolean retryable,
        Document manifest,
        Object artifacts,
        Object skippedArtifacts,
        Double fetchSeconds,
        Document details) {

    static final int MAX_MANIFEST_FIELDS = 64;

    private static final Set<String> KNOWN = Set.of("status", "jobId", "orderId", "attempt", "node", "loss",
            "metric", "metricName", "startedAt", "finishedAt", "exitCode", "metrics", "error", "logTail",
            "retryable", "assignmentId", "manifest", "artifacts", "skippedArtifacts", "fetchSeconds");

    /** Parses an already safe document (see JsonInput); {@code maxLogTail} caps the kept log tail. */
    static OutcomeReport parse(Document body, int maxLogTail) {
        Integer status = integer(body, "status");
        if (status == null || status < 100 || status > 599) {
            throw ApiProblem.invalidField("status", "status is required: an HTTP-style code from 100 to 599.");
        }
        String jobId = string(body, "jobId", 64);
        ObjectId orderId = orderId(body);
        if (jobId == null && orderId == null) {
            throw ApiProblem.invalidField("jobId", "jobId (or orderId) is required.");
        }
        Integer attempt = integer(body, "attempt");
        if (attempt != null && attempt < 1) {
            throw ApiProblem.invalidField("attempt", "attempt starts at 1.");
        }
        String node = string(body, "node", 128);
        if (node != null) {
            WorkerRegistry.checkNodeName(node, "node");
        }
        String logTail = string(body, "logTail", Integer.MAX_VALUE);
        boolean truncated = logTail != null && logTail.length() > maxLogTail;
        if (truncated) {
            // Keep the end: the last lines say why a script failed.
            logTail = logTail.substring(logTail.length() - maxLogTail);
        }
        Document details = new Document();
        body.forEach((key, value) -> {
            if (!KNOWN.contains(key)) {
                details.put(key, value);
            }
        });
        return new OutcomeReport(status, jobId, orderId, attempt, node, number(body, "loss"),
                number(body, "metric"), string(body, "metricName", 128), instant(body, "startedAt"),
                instant(body, "finishedAt"), integer(body, "exitCode"), numbers(body, "metrics"), error(body),
                logTail, truncated, Boolean.TRUE.equals(bool(body, "retryable")), manifest(body), body.get("artifacts"),
                body.get("skippedArtifacts"), number(body, "fetchSeconds"), details);
    }

    /**
     * The outcome as stored: the seed's five fields first, this project's after them; {@code resolvedManifest}
     * is {@link #manifest} with what the Boss added.
     */
    Document toDocument(ObjectId id, ObjectId resolvedOrderId, String resolvedJobId, int resolvedAttempt,
            String resolvedNode, String project, Instant receivedAt, Document resolvedManifest) {
        Document d = new Document("_id", id)
                .append("status", status)
                .append("jobId", resolvedJobId)
                .append("loss", loss)
                .append("metric", metric);
        d.append("metricName", metricName)
                .append("orderId", resolvedOrderId)
                .append("attempt", resolvedAttempt)
                .append("node", resolvedNode)
                .append("projectName", project)
                .append("startedAt", startedAt == null ? null : Date.from(startedAt))
                .append("finishedAt", finishedAt == null ? null : Date.from(finishedAt))
                .append("receivedAt", Date.from(receivedAt))
                .append("exitCode", exitCode)
                .append("metrics", metrics)
                .append("error", error)
                .append("manifest", resolvedManifest)
                // As sent: checked entry by entry only once the outcome is accepted (see ArtifactIntake),
                // since a bad entry must not cost the job its result.
                .append("artifacts", artifacts)
                .append("skippedArtifacts", skippedArtifacts)
                .append("fetchSeconds", fetchSeconds)
                .append("logTail", logTail);
        if (logTruncated) {
            d.append("logTruncated", true);
        }
        if (!details.isEmpty()) {
            d.append("details", details);
        }
        d.values().removeIf(java.util.Objects::isNull);
        return d;
    }

    /** A one-line reason for the order's history. */
    String reason() {
        return reasonOf(status, error);
    }

    /** The same line for an outcome as stored: a repeat's order ends with the stored outcome's reason. */
    static String reasonOf(int status, Document error) {
        if (status == 200) {
            return "outcome reported";
        }
        String type = error == null || !(error.get("type") instanceof String t) ? null : t;
        String message = error == null || !(error.get("message") instanceof String m) ? null : m;
        String text = "script reported status " + status + (type == null ? "" : " " + type)
                + (message == null ? "" : ": " + message);
        return text.length() > 500 ? text.substring(0, 500) + "..." : text;
    }

    /** The seed's worker hands scripts the order id as {@code assignmentId}; accept it as orderId. */
    private static ObjectId orderId(Document body) {
        String value = string(body, "orderId", 64);
        if (value == null) {
            String assignment = string(body, "assignmentId", 64);
            return assignment != null && ObjectId.isValid(assignment) ? new ObjectId(assignment) : null;
        }
        if (!ObjectId.isValid(value)) {
            throw ApiProblem.invalidField("orderId", "orderId must be a 24-digit hex id.");
        }
        return new ObjectId(value);
    }

    private static Document error(Document body) {
        Object value = body.get("error");
        if (value == null) {
            return null;
        }
        if (value instanceof String message) {
            return new Document("message", cap(message, 4096));
        }
        if (!(value instanceof Document error)) {
            throw ApiProblem.invalidField("error", "error must be an object {type, message} or a string.");
        }
        Document kept = new Document();
        for (String key : new String[] {"type", "message"}) {
            Object part = error.get(key);
            if (part != null && !(part instanceof String)) {
                throw ApiProblem.invalidField("error." + key, "error." + key + " must be a string.");
            }
            if (part != null) {
                kept.put(key, cap((String) part, key.equals("type") ? 128 : 4096));
            }
        }
        return kept;
    }

    private static Document manifest(Document body) {
        Object value = body.get("manifest");
        if (value == null) {
            return null;
        }
        if (!(value instanceof Document manifest) || manifest.size() > MAX_MANIFEST_FIELDS) {
            throw ApiProblem.invalidField("manifest", "manifest must be an object of at most " + MAX_MANIFEST_FIELDS
                    + " fields.");
        }
        return manifest;
    }

    private static Document numbers(Document body, String field) {
        Object value = body.get(field);
        if (value == null) {
            return null;
        }
        if (!(value instanceof Document map) || map.size() > 200) {
            throw ApiProblem.invalidField(field, field + " must be an object of at most 200 named numbers.");
        }
        map.forEach((key, v) -> {
            if (!(v instanceof Number)) {
                throw ApiProblem.invalidField(field + "." + key, field + "." + key + " must be a number.");
            }
        });
        return map;
    }

    private static Double number(Document body, String field) {
        Object value = body.get(field);
        if (value == null) {
            return null;
        }
        if (!(value instanceof Number n)) {
            throw ApiProblem.invalidField(field, field + " must be a finite number.");
        }
        return n.doubleValue();
    }

    private static Integer integer(Document body, String field) {
        Object value = body.get(field);
        if (value == null) {
            return null;
        }
        if (!(value instanceof Integer i)) {
            throw ApiProblem.invalidField(field, field + " must be an integer.");
        }
        return i;
    }

    private static Boolean bool(Document body, String field) {
        Object value = body.get(field);
        if (value != null && !(value instanceof Boolean)) {
            throw ApiProblem.invalidField(field, field + " must be true or false.");
        }
        return (Boolean) value;
    }

    private static String string(Document body, String field, int maxLength) {
        Object value = body.get(field);
        if (value == null) {
            return null;
        }
        if (!(value instanceof String s)) {
            throw ApiProblem.invalidField(field, field + " must be a string.");
        }
        if (s.length() > maxLength) {
            throw ApiProblem.invalidField(field, field + " is longer than " + maxLength + " characters.");
        }
        return s;
    }

    private static Instant instant(Document body, String field) {
        String value = string(body, field, 64);
        if (value == null) {
            return null;
        }
        try {
            return Instant.parse(value);
        } catch (DateTimeParseException e) {
            throw ApiProblem.invalidField(field, field + " must be an ISO-8601 instant such as 2026-01-31T12:00:00Z.");
        }
    }

    private static String cap(String text, int max) {
        return text.length() > max ? text.substring(0, max) : text;
    }
}
