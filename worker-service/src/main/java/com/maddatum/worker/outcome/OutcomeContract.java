package com.maddatum.worker.outcome;

import com.maddatum.worker.config.WorkerSettings;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Pattern;
import org.springframework.stereotype.Component;
import tools.jackson.databind.json.JsonMapper;

/**
 * What an Outcome may hold, as the Boss checks it on {@code POST /callback} ({@code JsonInput} and
 * {@code OutcomeReport} there), applied by the Worker before it spools an Outcome, so that a script's
 * answer is fixed where it can be instead of refused whole. Every change is listed in
 * {@code workerFixes}; a value that does not fit its field is kept under {@code invalidFields}.
 *
 * <ul>
 *   <li>Keys: {@code %}, {@code .}, {@code $} and NUL are percent-encoded ({@code %25}, {@code %2E},
 *       {@code %24}, {@code %00}) in every key at every level, and an empty key becomes {@code %}.
 *       Percent-decoding gives the script's keys back exactly.</li>
 *   <li>Numbers: NaN and the infinities become the strings {@code "NaN"}, {@code "Infinity"},
 *       {@code "-Infinity"}; integers beyond 64 bits become floating-point numbers.</li>
 *   <li>Nesting: a non-empty object or array at the 32nd level is replaced by its JSON text.</li>
 *   <li>The Boss's own fields must have their types (status an integer 100-599, loss and metric numbers,
 *       metrics at most 200 numbers, ...): a value that does not is moved to {@code invalidFields}. A
 *       status out of range becomes 500 {@code InvalidStatus}; a 200 whose loss or metric is not a
 *       finite number becomes 500 {@code NonFiniteResult}.</li>
 *   <li>Size: past 5,000 values or 1 MiB, the script's extra fields are left out, largest first, then
 *       {@code invalidFields}, then the start of {@code logTail}.</li>
 * </ul>
 */
@Component
public final class OutcomeContract {

    static final int MAX_DEPTH = 32;
    static final int MAX_VALUES = 5000;
    static final int MAX_BYTES = 1 << 20;
    static final int MAX_METRICS = 200;
    static final int MAX_ERROR_MESSAGE = 4096;
    static final int MAX_ERROR_TYPE = 128;
    /** Room kept under MAX_BYTES for what is added after measuring (the notes themselves). */
    private static final int HEADROOM = 16 * 1024;
    private static final Pattern OBJECT_ID = Pattern.compile("[0-9a-f]{24}");
    private static final Set<String> KNOWN = Set.of("status", "jobId", "orderId", "attempt", "node", "loss", "metric",
            "metricName", "startedAt", "finishedAt", "exitCode", "metrics", "error", "logTail", "retryable",
            "assignmentId");
    private static final Set<String> NON_FINITE = Set.of("NaN", "Infinity", "-Infinity");

    private final JsonMapper json;

    public OutcomeContract(JsonMapper json) {
        this.json = json;
    }

    /** The outcome made to pass the Boss's rules; the argument is not changed. */
    public Map<String, Object> conform(Map<String, Object> outcome) {
        Fixes fixes = new Fixes();
        @SuppressWarnings("unchecked")
        Map<String, Object> out = (Map<String, Object>) value(outcome, 1, "", fixes);
        checkFields(out, fixes);
        fitSize(out, fixes);
        if (!fixes.invalid.isEmpty()) {
            out.put("invalidFields", fixes.invalid);
        }
        if (!fixes.encodedKeys.isEmpty()) {
            fixes.notes.add(0, "percent-encoded keys ('%' '.' '$' NUL, or empty): " + String.join(", ",
                    fixes.encodedKeys.stream().limit(10).toList()) + (fixes.encodedKeys.size() > 10 ? ", ..." : ""));
        }
        if (fixes.unlisted > 0) {
            fixes.notes.add("... and " + fixes.unlisted + " more");
        }
        if (!fixes.notes.isEmpty()) {
            out.put("workerFixes", fixes.notes);
        }
        return out;
    }

    /** Percent-encodes {@code %}, {@code .}, {@code $} and NUL; the empty key becomes {@code %}. */
    static String encodeKey(String key) {
        if (key.isEmpty()) {
            return "%";
        }
        StringBuilder encoded = null;
        for (int i = 0; i < key.length(); i++) {
            char c = key.charAt(i);
            boolean special = c == '%' || c == '.' || c == '$' || c == '\0';
            if (special && encoded == null) {
                encoded = new StringBuilder(key.length() + 8).append(key, 0, i);
            }
            if (encoded != null) {
                if (special) {
                    encoded.append('%').append(String.format("%02X", (int) c));
                } else {
                    encoded.append(c);
                }
            }
        }
        return encoded == null ? key : encoded.toString();
    }

    private Object value(Object value, int depth, String path, Fixes fixes) {
        if (value instanceof Map<?, ?> map) {
            if (depth >= MAX_DEPTH && !map.isEmpty()) {
                fixes.note(path + ": nested deeper than " + MAX_DEPTH + " levels, kept as JSON text");
                return jsonText(value);
            }
            Map<String, Object> copy = new LinkedHashMap<>();
            map.forEach((k, v) -> {
                String key = String.valueOf(k);
                String encoded = encodeKey(key);
                if (!encoded.equals(key)) {
                    fixes.encodedKeys.add(join(path, key));
                }
                copy.put(encoded, value(v, depth + 1, join(path, key), fixes));
            });
            return copy;
        }
        if (value instanceof List<?> list) {
            if (depth >= MAX_DEPTH && !list.isEmpty()) {
                fixes.note(path + ": nested deeper than " + MAX_DEPTH + " levels, kept as JSON text");
                return jsonText(value);
            }
            List<Object> copy = new ArrayList<>(list.size());
            for (int i = 0; i < list.size(); i++) {
                copy.add(value(list.get(i), depth + 1, path + "[" + i + "]", fixes));
            }
            return copy;
        }
        if (value instanceof Double || value instanceof Float) {
            double d = ((Number) value).doubleValue();
            if (!Double.isFinite(d)) {
                fixes.nonFinite.add(path);
                return Double.isNaN(d) ? "NaN" : d > 0 ? "Infinity" : "-Infinity";
            }
            return d;
        }
        if (value instanceof BigInteger big && big.bitLength() >= 64 || value instanceof BigDecimal) {
            double d = ((Number) value).doubleValue();
            fixes.note(path + ": " + value + " does not fit in 64 bits, sent as " + d);
            return Double.isFinite(d) ? d : d > 0 ? "Infinity" : "-Infinity";
        }
        if (value instanceof BigInteger big) {
            return big.longValue();
        }
        return value;
    }

    private void checkFields(Map<String, Object> out, Fixes fixes) {
        Object status = out.get("status");
        boolean statusOk = status instanceof Integer s && s >= 100 && s <= 599;
        if (!statusOk) {
            fixes.move(out, "status", "not an integer from 100 to 599");
            if (out.get("error") != null) {
                fixes.move(out, "error", "replaced by the InvalidStatus error");
            }
            out.put("status", 500);
            out.put("error", error("InvalidStatus", "the script reported status " + jsonText(status)
                    + ", which is not an integer from 100 to 599"));
        }
        integer(out, "attempt", 1, fixes);
        integer(out, "exitCode", Integer.MIN_VALUE, fixes);
        if (out.get("jobId") instanceof Number || out.get("jobId") instanceof Boolean) {
            out.put("jobId", String.valueOf(out.get("jobId"))); // a seed-style numeric id: the Boss wants text
        }
        string(out, "jobId", 64, null, fixes);
        string(out, "orderId", 64, OBJECT_ID, fixes);
        string(out, "assignmentId", 64, null, fixes);
        string(out, "node", 128, WorkerSettings.NODE_NAME, fixes);
        instant(out, "startedAt", fixes);
        instant(out, "finishedAt", fixes);
        if (out.get("metricName") instanceof String name && name.length() > 128) {
            out.put("metricName", name.substring(0, 128));
            fixes.note("metricName: cut to 128 characters");
        } else {
            string(out, "metricName", 128, null, fixes);
        }
        if (out.get("retryable") != null && !(out.get("retryable") instanceof Boolean)) {
            fixes.move(out, "retryable", "not true or false");
        }
        if (out.get("logTail") != null && !(out.get("logTail") instanceof String)) {
            out.put("logTail", jsonText(out.get("logTail")));
        }
        List<String> nonFinite = new ArrayList<>();
        for (String field : new String[] {"loss", "metric"}) {
            Object v = out.get(field);
            if (v != null && !(v instanceof Number)) {
                if (fixes.nonFinite.contains(field)) {
                    nonFinite.add(field + " is " + v);
                }
                fixes.move(out, field, "not a finite number");
            }
        }
        if (!nonFinite.isEmpty() && Integer.valueOf(200).equals(out.get("status"))) {
            out.put("status", 500);
            if (out.get("error") != null) {
                fixes.move(out, "error", "replaced by the NonFiniteResult error");
            }
            out.put("error", error("NonFiniteResult", "the script reported success, but "
                    + String.join(" and ", nonFinite)));
        }
        metrics(out, fixes);
        error(out, fixes);
    }

    private void metrics(Map<String, Object> out, Fixes fixes) {
        Object value = out.get("metrics");
        if (value == null) {
            return;
        }
        if (!(value instanceof Map<?, ?> metrics)) {
            fixes.move(out, "metrics", "not an object of named numbers");
            return;
        }
        Map<String, Object> kept = new LinkedHashMap<>();
        Map<String, Object> moved = new LinkedHashMap<>();
        metrics.forEach((k, v) -> {
            if (v instanceof Number && kept.size() < MAX_METRICS) {
                kept.put((String) k, v);
            } else {
                moved.put((String) k, v);
            }
        });
        if (!moved.isEmpty()) {
            out.put("metrics", kept);
            fixes.invalid.put("metrics", moved);
            fixes.note("metrics: moved " + moved.size() + " entries that are not numbers, or beyond "
                    + MAX_METRICS + ", to invalidFields.metrics");
        }
    }

    private void error(Map<String, Object> out, Fixes fixes) {
        Object value = out.get("error");
        if (value == null) {
            return;
        }
        if (value instanceof String text) {
            out.put("error", cut(text, MAX_ERROR_MESSAGE));
            return;
        }
        if (!(value instanceof Map<?, ?> error)) {
            out.put("error", cut(jsonText(value), MAX_ERROR_MESSAGE));
            fixes.note("error: neither an object nor a string, sent as its JSON text");
            return;
        }
        Map<String, Object> fixed = new LinkedHashMap<>();
        error.forEach((k, v) -> fixed.put((String) k, v));
        for (String part : new String[] {"type", "message"}) {
            Object v = fixed.get(part);
            if (v != null && !(v instanceof String)) {
                fixed.put(part, jsonText(v));
                fixes.note("error." + part + ": not a string, sent as its JSON text");
            }
            if (fixed.get(part) instanceof String s) {
                fixed.put(part, cut(s, part.equals("type") ? MAX_ERROR_TYPE : MAX_ERROR_MESSAGE));
            }
        }
        out.put("error", fixed);
    }

    private static void integer(Map<String, Object> out, String field, int min, Fixes fixes) {
        Object v = out.get(field);
        if (v instanceof Long l && l >= Integer.MIN_VALUE && l <= Integer.MAX_VALUE) {
            out.put(field, v = (int) (long) l);
        }
        if (v != null && !(v instanceof Integer i && i >= min)) {
            fixes.move(out, field, min == 1 ? "not a whole number from 1" : "not a 32-bit whole number");
        }
    }

    private static void string(Map<String, Object> out, String field, int max, Pattern pattern, Fixes fixes) {
        Object v = out.get(field);
        if (v != null && !(v instanceof String s && s.length() <= max && (pattern == null || pattern.matcher(s).matches()))) {
            fixes.move(out, field, pattern == null ? "not a string of at most " + max + " characters"
                    : "not a string matching " + pattern.pattern());
        }
    }

    private static void instant(Map<String, Object> out, String field, Fixes fixes) {
        Object v = out.get(field);
        if (v == null) {
            return;
        }
        try {
            if (v instanceof String s && s.length() <= 64) {
                Instant.parse(s);
                return;
            }
        } catch (DateTimeParseException e) {
            // moved below
        }
        fixes.move(out, field, "not an ISO-8601 instant");
    }

    /** Leaves out the script's extra fields, largest first, then invalidFields, then the start of logTail. */
    private void fitSize(Map<String, Object> out, Fixes fixes) {
        Map<String, long[]> sizes = new LinkedHashMap<>(); // key -> {values, bytes}, measured once
        out.forEach((k, v) -> sizes.put(k, new long[] {count(v), bytes(k) + bytes(v) + 2}));
        long[] total = {1 + count(fixes.invalid), 2 + bytes(fixes.invalid)};
        sizes.values().forEach(size -> {
            total[0] += size[0];
            total[1] += size[1];
        });
        if (fits(total)) {
            return;
        }
        // Largest first, measured against whichever limit each entry weighs on more.
        Comparator<String> weight = Comparator.comparingDouble(
                k -> Math.max((double) sizes.get(k)[0] / MAX_VALUES, (double) sizes.get(k)[1] / MAX_BYTES));
        List<String> extras = out.keySet().stream().filter(k -> !KNOWN.contains(k)).sorted(weight.reversed()).toList();
        for (String key : extras) {
            out.remove(key);
            total[0] -= sizes.get(key)[0];
            total[1] -= sizes.get(key)[1];
            fixes.note(key + ": left out, the outcome was over the Boss's limits (" + MAX_VALUES + " values, "
                    + MAX_BYTES + " bytes); the whole line is in the run's stdout.log");
            if (fits(total)) {
                return;
            }
        }
        if (!fixes.invalid.isEmpty()) {
            total[0] -= count(fixes.invalid) - 1;
            total[1] -= bytes(fixes.invalid) - 2;
            fixes.invalid.clear();
            fixes.note("invalidFields: left out, the outcome was over the Boss's limits");
            if (fits(total)) {
                return;
            }
        }
        if (out.get("logTail") instanceof String tail) {
            // Characters take up to 3 bytes in UTF-8 here (JSON escapes a few more): cut generously.
            long over = total[1] + HEADROOM - MAX_BYTES;
            int keep = (int) Math.max(0, tail.length() - over);
            out.put("logTail", tail.substring(tail.length() - keep));
            fixes.note("logTail: cut to its last " + keep + " characters to fit the Boss's limits");
        }
    }

    private static boolean fits(long[] total) {
        return total[0] <= MAX_VALUES && total[1] + HEADROOM <= MAX_BYTES;
    }

    private static int count(Object value) {
        if (value instanceof Map<?, ?> map) {
            int n = 1;
            for (Object v : map.values()) {
                n += count(v);
            }
            return n;
        }
        if (value instanceof List<?> list) {
            int n = 1;
            for (Object v : list) {
                n += count(v);
            }
            return n;
        }
        return 1;
    }

    private long bytes(Object value) {
        return json.writeValueAsString(value).getBytes(StandardCharsets.UTF_8).length;
    }

    private String jsonText(Object value) {
        return cut(json.writeValueAsString(value), MAX_ERROR_MESSAGE);
    }

    static Map<String, Object> error(String type, String message) {
        Map<String, Object> error = new LinkedHashMap<>();
        error.put("type", type);
        error.put("message", message);
        return error;
    }

    private static String cut(String text, int max) {
        return text.length() > max ? text.substring(0, max) : text;
    }

    private static String join(String path, String key) {
        return path.isEmpty() ? key : path + "." + key;
    }

    /** What conforming changed: notes for people, values moved out of their field, paths that held NaN. */
    private static final class Fixes {
        static final int MAX_NOTES = 50;
        final List<String> notes = new ArrayList<>();
        int unlisted;
        final Map<String, Object> invalid = new LinkedHashMap<>();
        final Set<String> encodedKeys = new TreeSet<>();
        final Set<String> nonFinite = new TreeSet<>();

        void move(Map<String, Object> out, String field, String why) {
            invalid.put(field, out.remove(field));
            note(field + ": " + why + ", moved to invalidFields");
        }

        /** Notes are for people and travel in the outcome: a flood of them is counted, not listed. */
        void note(String note) {
            if (notes.size() < MAX_NOTES) {
                notes.add(note);
            } else {
                unlisted++;
            }
        }
    }
}
