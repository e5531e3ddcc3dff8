package com.maddatum.worker.support;

import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * What the Boss accepts on {@code POST /callback}, written out independently of the Worker's code
 * from the Boss's JsonInput and OutcomeReport: the violations of a body, as the Boss would name them.
 */
public final class BossCallbackRules {

    private static final Set<String> KNOWN = Set.of("status", "jobId", "orderId", "attempt", "node", "loss", "metric",
            "metricName", "startedAt", "finishedAt", "exitCode", "metrics", "error", "logTail", "retryable",
            "assignmentId", "manifest");

    private BossCallbackRules() {}

    /** The body exactly as the Worker would send it, read back as the Boss reads it. */
    public static List<String> violations(Map<String, Object> outcome, JsonMapper json) {
        String body = json.writeValueAsString(outcome);
        List<String> problems = new ArrayList<>();
        if (body.getBytes(StandardCharsets.UTF_8).length > 1_048_576) {
            problems.add("body over 1 MiB");
        }
        JsonNode root;
        try {
            root = json.readTree(body); // with Jackson's default limits, as the Boss reads it: names up to 50,000
        } catch (tools.jackson.core.JacksonException e) {
            problems.add("unreadable: " + e.getOriginalMessage());
            return problems;
        }
        int[] values = {0};
        walk(root, "", 1, values, problems);
        if (values[0] > 5000) {
            problems.add("more than 5000 values: " + values[0]);
        }
        typed(root, problems);
        return problems;
    }

    private static void walk(JsonNode node, String path, int depth, int[] values, List<String> problems) {
        values[0]++;
        if (depth > 32) {
            problems.add(path + ": deeper than 32");
            return;
        }
        if (node.isObject()) {
            for (Map.Entry<String, JsonNode> entry : node.properties()) {
                String key = entry.getKey();
                if (key.isEmpty() || key.startsWith("$") || key.contains(".") || key.indexOf('\0') >= 0) {
                    problems.add(path + ": bad key '" + key + "'");
                }
                walk(entry.getValue(), path + "/" + key, depth + 1, values, problems);
            }
        } else if (node.isArray()) {
            for (int i = 0; i < node.size(); i++) {
                walk(node.get(i), path + "[" + i + "]", depth + 1, values, problems);
            }
        } else if (node.isIntegralNumber()) {
            BigInteger value = node.bigIntegerValue();
            if (value.bitLength() >= 64) {
                problems.add(path + ": integer beyond 64 bits");
            }
        } else if (node.isNumber() && !Double.isFinite(node.doubleValue())) {
            problems.add(path + ": not finite");
        }
    }

    private static void typed(JsonNode root, List<String> problems) {
        JsonNode status = root.get("status");
        if (status == null || !isInt(status) || status.intValue() < 100 || status.intValue() > 599) {
            problems.add("status");
        }
        string(root, "jobId", 64, problems);
        string(root, "assignmentId", 64, problems);
        if (string(root, "orderId", 64, problems) && !root.get("orderId").stringValue().matches("[0-9a-f]{24}")) {
            problems.add("orderId not an ObjectId");
        }
        if (!root.has("jobId") && !root.has("orderId")) {
            problems.add("neither jobId nor orderId");
        }
        if (present(root, "attempt") && (!isInt(root.get("attempt")) || root.get("attempt").intValue() < 1)) {
            problems.add("attempt");
        }
        if (present(root, "exitCode") && !isInt(root.get("exitCode"))) {
            problems.add("exitCode");
        }
        if (string(root, "node", 128, problems)
                && !root.get("node").stringValue().matches("[A-Za-z0-9][A-Za-z0-9_.:@-]{0,127}")) {
            problems.add("node pattern");
        }
        for (String field : new String[] {"loss", "metric"}) {
            if (present(root, field) && !root.get(field).isNumber()) {
                problems.add(field);
            }
        }
        string(root, "metricName", 128, problems);
        for (String field : new String[] {"startedAt", "finishedAt"}) {
            if (string(root, field, 64, problems)) {
                try {
                    Instant.parse(root.get(field).stringValue());
                } catch (RuntimeException e) {
                    problems.add(field + " not an instant");
                }
            }
        }
        string(root, "logTail", Integer.MAX_VALUE, problems);
        if (present(root, "retryable") && !root.get("retryable").isBoolean()) {
            problems.add("retryable");
        }
        if (present(root, "metrics")) {
            JsonNode metrics = root.get("metrics");
            if (!metrics.isObject() || metrics.size() > 200) {
                problems.add("metrics");
            } else {
                metrics.properties().forEach(e -> {
                    if (!e.getValue().isNumber()) {
                        problems.add("metrics/" + e.getKey());
                    }
                });
            }
        }
        if (present(root, "manifest") && (!root.get("manifest").isObject() || root.get("manifest").size() > 64)) {
            problems.add("manifest");
        }
        if (present(root, "error")) {
            JsonNode error = root.get("error");
            if (error.isObject()) {
                for (String part : new String[] {"type", "message"}) {
                    if (present(error, part) && !error.get(part).isString()) {
                        problems.add("error." + part);
                    }
                }
            } else if (!error.isString()) {
                problems.add("error");
            }
        }
        root.properties().forEach(e -> {
            if (!KNOWN.contains(e.getKey()) && e.getKey().isEmpty()) {
                problems.add("empty key");
            }
        });
    }

    private static boolean present(JsonNode node, String field) {
        return node.has(field) && !node.get(field).isNull();
    }

    private static boolean isInt(JsonNode node) {
        return node.isIntegralNumber() && node.canConvertToInt();
    }

    /** Checks a string field; true when it is present and a string. */
    private static boolean string(JsonNode root, String field, int max, List<String> problems) {
        if (!present(root, field)) {
            return false;
        }
        JsonNode value = root.get(field);
        if (!value.isString() || value.stringValue().length() > max) {
            problems.add(field);
            return false;
        }
        return true;
    }
}
