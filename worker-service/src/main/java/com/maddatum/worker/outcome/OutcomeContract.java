package com.maddatum.worker.outcome;

import com.maddatum.worker.common.Text;
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
 *   <li>Keys longer than {@link #MAX_KEY} characters once encoded (a Jackson reader refuses names over
 *       50,000, and percent-encoding triples a dot) are cut, ending in {@code ~} and a hash of the
 *       script's key, so that different keys stay different.</li>
 *   <li>{@code manifest}, the Worker's record of the run ({@code RunManifest}), is one of the Boss's own
 *       fields, never left out to make room; so are {@code artifacts} and {@code skippedArtifacts} (the Boss
 *       attaches the uploaded blobs to the job by them) and {@code fetchSeconds}, and {@code pruned} and {@code prunedAt} (a sweep's early stopping ended the run;
 *       only ever the Worker's, see {@code OutcomeBuilder#WORKER_FIELDS}). Nothing here bounds them:
 *       the Worker builds them bounded, so that with the rest at its largest they still fit (a test checks
 *       it): the manifest's texts at most 256 characters and its inputs at most 100; at most
 *       {@code ArtifactUploader#MAX_ENTRIES} (800) files in the two lists, names of at most 255 characters and
 *       reasons of at most 300, some 4,000 of the 5,000 values and well under 1 MiB.</li>
 *   <li>Size: past 5,000 values or 1 MiB, counting what the Worker adds ({@code invalidFields},
 *       {@code workerFixes}), the script's extra fields are left out, largest first, then
 *       {@code invalidFields}, then the start of {@code logTail}, then the extra parts of {@code error},
 *       then the notes themselves, measuring the whole outcome again after each step.</li>
 * </ul>
 */
@Component
public final class OutcomeContract {

    static final int MAX_DEPTH = 32;
    static final int MAX_VALUES = 5000;
    /** The most bytes an outcome takes as JSON: the Boss's default body limit ({@code boss.limits.max-body-bytes}). */
    public static final int MAX_BYTES = 1 << 20;
    static final int MAX_METRICS = 200;
    static final int MAX_ERROR_MESSAGE = 4096;
    static final int MAX_ERROR_TYPE = 128;
    static final int MAX_KEY = 1024;
    private static final Pattern OBJECT_ID = Pattern.compile("[0-9a-f]{24}");
    private static final Set<String> KNOWN = Set.of("status", "jobId", "orderId", "attempt", "node", "loss", "metric",
            "metricName", "startedAt", "finishedAt", "exitCode", "metrics", "error", "logTail", "retryable",
            "assignmentId", "manifest", "artifacts", "skippedArtifacts", "fetchSeconds", "pruned", "prunedAt");
    /** The Boss's limit on the run manifest's fields (OutcomeReport.MAX_MANIFEST_FIELDS). */
    static final int MAX_MANIFEST_FIELDS = 64;
    private static final Set<String> NON_FINITE = Set.of("NaN", "Infinity", "-Infinity");

    private final JsonMapper json;

    public OutcomeContract(JsonMapper json) {
        this.json = json;
    }

    /** The outcome made to pass the Boss's rules; the argument is not changed. */
    public Map<String, Object> conform(Map<String, Object> outcome) {
        Fixes fixes = new Fixes();
        @SuppressWarnings("unchecked")
        Map<String, Object> out = (Map<String, Object>) value(outcome, 1, "", fixes, true);
        checkFields(out, fixes);
        if (!fixes.invalid.isEmpty()) {
            // A moved value sits one level deeper under invalidFields than it did in its field.
            @SuppressWarnings("unchecked")
            Map<String, Object> invalid = (Map<String, Object>) value(fixes.invalid, 2, "invalidFields", fixes, false);
            fixes.invalid.clear();
            fixes.invalid.putAll(invalid);
        }
        return fit(out, fixes);
    }

    /** The outcome as it is sent: the fixed fields, then {@code invalidFields} and {@code workerFixes}. */
    private static Map<String, Object> assemble(Map<String, Object> out, Fixes fixes) {
        Map<String, Object> sent = new LinkedHashMap<>(out);
        if (!fixes.invalid.isEmpty()) {
            sent.put("invalidFields", fixes.invalid);
        }
        List<String> notes = new ArrayList<>(fixes.notes);
        if (!fixes.encodedKeys.isEmpty()) {
            notes.add(0, "percent-encoded keys ('%' '.' '$' NUL, or empty): " + String.join(", ",
                    fixes.encodedKeys.stream().limit(10).map(k -> Text.abbreviate(k, 100)).toList())
                    + (fixes.encodedKeys.size() > 10 ? ", ..." : ""));
        }
        if (fixes.unlisted > 0) {
            notes.add("... and " + fixes.unlisted + " more");
        }
        if (!notes.isEmpty()) {
            sent.put("workerFixes", notes);
        }
        return sent;
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

    /**
     * A copy of {@code value} at {@code depth} that the Boss accepts: keys encoded (when {@code encodeKeys};
     * a second pass over values already fixed leaves them be), numbers fixed, nesting cut.
     */
    private Object value(Object value, int depth, String path, Fixes fixes, boolean encodeKeys) {
        if (depth >= MAX_DEPTH && (value instanceof Map<?, ?> map && !map.isEmpty()
                || value instanceof List<?> list && !list.isEmpty())) {
            fixes.note(path + ": nested deeper than " + MAX_DEPTH + " levels, kept as JSON text");
            return jsonText(value);
        }
        if (value instanceof Map<?, ?> map) {
            Map<String, Object> copy = new LinkedHashMap<>();
            map.forEach((k, v) -> {
                String key = String.valueOf(k);
                String child = join(path, key);
                copy.put(encodeKeys ? key(key, child, copy, fixes) : key, value(v, depth + 1, child, fixes, encodeKeys));
            });
            return copy;
        }
        if (value instanceof List<?> list) {
            List<Object> copy = new ArrayList<>(list.size());
            for (int i = 0; i < list.size(); i++) {
                copy.add(value(list.get(i), depth + 1, path + "[" + i + "]", fixes, encodeKeys));
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

    /** The key as sent: percent-encoded, and cut with a hash of the script's key when that is too long. */
    private static String key(String key, String path, Map<String, Object> siblings, Fixes fixes) {
        String encoded = encodeKey(key);
        if (encoded.length() <= MAX_KEY) {
            if (!encoded.equals(key)) {
                fixes.encodedKeys.add(path);
            }
            return encoded;
        }
        String cut = cutKey(encoded, key);
        for (int i = 1; siblings.containsKey(cut); i++) {
            cut = cutKey(encoded, key + "\0" + i);
        }
        fixes.note(path + ": a key of " + encoded.length() + " characters once encoded, cut to " + MAX_KEY);
        return cut;
    }

    /** The first characters of {@code encoded} (never half an escape), {@code ~}, and a hash of {@code original}. */
    static String cutKey(String encoded, String original) {
        String hash = String.format("~%08x", original.hashCode());
        int end = MAX_KEY - hash.length();
        int escape = encoded.lastIndexOf('%', end - 1);
        if (escape > end - 3) {
            end = escape;
        }
        return encoded.substring(0, end) + hash;
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
        if (out.get("manifest") != null && !(out.get("manifest") instanceof Map<?, ?> manifest
                && manifest.size() <= MAX_MANIFEST_FIELDS)) {
            fixes.move(out, "manifest", "not an object of at most " + MAX_MANIFEST_FIELDS + " fields");
        }
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
            out.put("error", Text.abbreviate(text, MAX_ERROR_MESSAGE));
            return;
        }
        if (!(value instanceof Map<?, ?> error)) {
            out.put("error", Text.abbreviate(jsonText(value), MAX_ERROR_MESSAGE));
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
                fixed.put(part, Text.abbreviate(s, part.equals("type") ? MAX_ERROR_TYPE : MAX_ERROR_MESSAGE));
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

    /** One way to make the outcome smaller, given its size as it stands ({values, bytes}). */
    private interface Shrink {
        void apply(Map<String, Object> out, Fixes fixes, long[] size);
    }

    /**
     * Shrinks the outcome, one step after another, until the outcome as sent (notes and invalidFields
     * included) is within the Boss's limits; each step is measured on the whole outcome again.
     */
    private Map<String, Object> fit(Map<String, Object> out, Fixes fixes) {
        List<Shrink> steps = List.of(this::leaveOutExtras, OutcomeContract::leaveOutInvalid, OutcomeContract::cutLogTail,
                OutcomeContract::plainError, OutcomeContract::countNotesOnly);
        Map<String, Object> sent = assemble(out, fixes);
        for (Shrink step : steps) {
            long[] size = {count(sent), bytes(sent)};
            if (fits(size)) {
                break;
            }
            step.apply(out, fixes, size);
            sent = assemble(out, fixes);
        }
        return sent;
    }

    /** The script's extra fields, largest first, until the rest would fit with the notes that say so. */
    private void leaveOutExtras(Map<String, Object> out, Fixes fixes, long[] size) {
        Map<String, long[]> sizes = new LinkedHashMap<>(); // key -> {values, bytes}, measured once
        out.forEach((k, v) -> {
            if (!KNOWN.contains(k)) {
                sizes.put(k, new long[] {count(v), bytes(k) + bytes(v) + 2});
            }
        });
        // Largest first, measured against whichever limit each entry weighs on more.
        Comparator<String> weight = Comparator.comparingDouble(
                k -> Math.max((double) sizes.get(k)[0] / MAX_VALUES, (double) sizes.get(k)[1] / MAX_BYTES));
        long[] left = size.clone();
        for (String key : sizes.keySet().stream().sorted(weight.reversed()).toList()) {
            out.remove(key);
            boolean listed = fixes.notes.size() < Fixes.MAX_NOTES;
            fixes.note(key + ": left out, the outcome was over the Boss's limits (" + MAX_VALUES + " values, "
                    + MAX_BYTES + " bytes); the whole line is in the run's stdout.log");
            left[0] -= sizes.get(key)[0] - (listed ? 1 : 0);
            left[1] -= sizes.get(key)[1] - (listed ? Fixes.MAX_NOTE_BYTES : 0);
            if (fits(left)) {
                return;
            }
        }
    }

    private static void leaveOutInvalid(Map<String, Object> out, Fixes fixes, long[] size) {
        if (!fixes.invalid.isEmpty()) {
            fixes.invalid.clear();
            fixes.note("invalidFields: left out, the outcome was over the Boss's limits");
        }
    }

    /** Each character left out saves at least one byte (up to 3 in UTF-8, 6 escaped). */
    private static void cutLogTail(Map<String, Object> out, Fixes fixes, long[] size) {
        if (out.get("logTail") instanceof String tail && size[1] > MAX_BYTES) {
            long over = size[1] - MAX_BYTES + Fixes.MAX_NOTE_BYTES;
            int keep = (int) Math.max(0, tail.length() - over);
            out.put("logTail", tail.substring(tail.length() - keep));
            fixes.note("logTail: cut to its last " + keep + " characters to fit the Boss's limits");
        }
    }

    /** An error object keeps only its type and message. */
    private static void plainError(Map<String, Object> out, Fixes fixes, long[] size) {
        if (out.get("error") instanceof Map<?, ?> error && !Set.of("type", "message").containsAll(error.keySet())) {
            Map<String, Object> plain = new LinkedHashMap<>();
            for (String part : new String[] {"type", "message"}) {
                if (error.containsKey(part)) {
                    plain.put(part, error.get(part));
                }
            }
            out.put("error", plain);
            fixes.note("error: only its type and message kept, the outcome was over the Boss's limits");
        }
    }

    private static void countNotesOnly(Map<String, Object> out, Fixes fixes, long[] size) {
        int changes = fixes.notes.size() + fixes.unlisted + (fixes.encodedKeys.isEmpty() ? 0 : 1);
        fixes.notes.clear();
        fixes.encodedKeys.clear();
        fixes.unlisted = 0;
        fixes.note(changes + " changes, not listed: the outcome was over the Boss's limits");
    }

    private static boolean fits(long[] size) {
        return size[0] <= MAX_VALUES && size[1] <= MAX_BYTES;
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
        return Text.abbreviate(json.writeValueAsString(value), MAX_ERROR_MESSAGE);
    }

    static Map<String, Object> error(String type, String message) {
        Map<String, Object> error = new LinkedHashMap<>();
        error.put("type", type);
        error.put("message", message);
        return error;
    }

    /** A path for people: a long key is abbreviated, so that paths stay short however deep or long. */
    private static String join(String path, String key) {
        return path.isEmpty() ? Text.abbreviate(key, 100) : path + "." + Text.abbreviate(key, 100);
    }

    /** What conforming changed: notes for people, values moved out of their field, paths that held NaN. */
    private static final class Fixes {
        static final int MAX_NOTES = 50;
        static final int MAX_NOTE = 300;
        /** A note's most bytes in JSON: six for a character that must be escaped, two quotes, a comma. */
        static final int MAX_NOTE_BYTES = 6 * MAX_NOTE + 3;
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
                notes.add(Text.abbreviate(note, MAX_NOTE));
            } else {
                unlisted++;
            }
        }
    }
}
