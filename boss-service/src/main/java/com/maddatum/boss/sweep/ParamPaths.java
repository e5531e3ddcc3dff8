package com.maddatum.boss.sweep;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;
import org.bson.Document;

/**
 * Dotted paths into a job: {@code learningRate}, {@code hiddenLayers.0.dropout} (a number steps into an
 * array by index). A parameter may only vary a value the sweep's base already has, so a typo in a path is a
 * 400 rather than a field every trial carries and no script reads.
 */
final class ParamPaths {

    /** Segments of letters, digits, '_' and '-': never '$' (an operator to MongoDB) nor an empty segment. */
    static final Pattern PATH = Pattern.compile("[A-Za-z0-9_-]{1,128}(\\.[A-Za-z0-9_-]{1,128}){0,15}");

    private ParamPaths() {}

    /** Whether {@code path} names a value (null included) that {@code base} has. */
    static boolean exists(Document base, String path) {
        Object at = base;
        for (String segment : path.split("\\.")) {
            if (at instanceof Map<?, ?> map && map.containsKey(segment)) {
                at = map.get(segment);
            } else if (at instanceof List<?> list && index(segment) >= 0 && index(segment) < list.size()) {
                at = list.get(index(segment));
            } else {
                return false;
            }
        }
        return true;
    }

    /** Whether one of the paths is the other or lies inside it: both would set the same value. */
    static boolean overlap(String a, String b) {
        return a.equals(b) || a.startsWith(b + ".") || b.startsWith(a + ".");
    }

    /** Puts {@code value} at {@code path}, which must exist (see {@link #exists}). */
    @SuppressWarnings("unchecked")
    static void set(Document job, String path, Object value) {
        String[] segments = path.split("\\.");
        Object at = job;
        for (int i = 0; i < segments.length - 1; i++) {
            at = at instanceof Map<?, ?> map ? map.get(segments[i]) : ((List<?>) at).get(index(segments[i]));
        }
        String last = segments[segments.length - 1];
        if (at instanceof Map<?, ?> map) {
            ((Map<String, Object>) map).put(last, copy(value));
        } else {
            ((List<Object>) at).set(index(last), copy(value));
        }
    }

    /** A copy sharing nothing mutable with {@code value}: each trial's job is its own. */
    @SuppressWarnings("unchecked")
    static <T> T copy(T value) {
        if (value instanceof Map<?, ?> map) {
            Document copy = new Document();
            map.forEach((k, v) -> copy.put((String) k, copy(v)));
            return (T) copy;
        }
        if (value instanceof List<?> list) {
            List<Object> copy = new ArrayList<>(list.size());
            list.forEach(item -> copy.add(copy(item)));
            return (T) copy;
        }
        return value;
    }

    /**
     * A list index: digits without a leading zero ({@code 0}, {@code 7}, never {@code 07}), so one element has one
     * spelling and two parameters cannot vary the same value under two paths.
     */
    private static int index(String segment) {
        if (segment.isEmpty() || segment.length() > 9 || !segment.chars().allMatch(Character::isDigit)
                || segment.length() > 1 && segment.charAt(0) == '0') {
            return -1;
        }
        return Integer.parseInt(segment);
    }
}
