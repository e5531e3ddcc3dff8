package com.maddatum.boss.readmodel;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * Documents side by side, field by field. Nested objects and arrays are walked down to their values,
 * each named by its dotted path ({@code hiddenLayers.1.dropout}, {@code gpu.model}), so that one changed
 * hyper-parameter shows as one row, not as a whole differing array.
 */
final class JobComparison {

    /** The fields whose values differ (path -> one value per document, null where it has none), and those that do not. */
    record Split(Map<String, List<Object>> differ, List<String> same) {}

    private JobComparison() {}

    /** Splits the fields of {@code documents} (already plain JSON values; a null document has no fields). */
    static Split split(List<Map<String, Object>> documents, Set<String> leftOut) {
        List<Map<String, Object>> flat = documents.stream().map(d -> flatten(d, leftOut)).toList();
        Set<String> paths = new LinkedHashSet<>();
        flat.forEach(f -> paths.addAll(f.keySet()));
        Map<String, List<Object>> differ = new LinkedHashMap<>();
        List<String> same = new ArrayList<>();
        for (String path : paths) {
            List<Object> values = new ArrayList<>(flat.size());
            flat.forEach(f -> values.add(f.get(path)));
            if (values.stream().allMatch(v -> Objects.equals(v, values.get(0)))
                    && flat.stream().allMatch(f -> f.containsKey(path))) {
                same.add(path);
            } else {
                differ.put(path, values);
            }
        }
        return new Split(differ, same);
    }

    /** path -> value for every value in the document; an empty object or array is a value of its own. */
    static Map<String, Object> flatten(Map<String, Object> document, Set<String> leftOut) {
        Map<String, Object> flat = new LinkedHashMap<>();
        if (document != null) {
            document.forEach((key, value) -> {
                if (!leftOut.contains(key)) {
                    walk(key, value, flat);
                }
            });
        }
        return flat;
    }

    private static void walk(String path, Object value, Map<String, Object> flat) {
        if (value instanceof Map<?, ?> map && !map.isEmpty()) {
            map.forEach((key, child) -> walk(path + "." + key, child, flat));
        } else if (value instanceof List<?> list && !list.isEmpty()) {
            for (int i = 0; i < list.size(); i++) {
                walk(path + "." + i, list.get(i), flat);
            }
        } else {
            flat.put(path, value);
        }
    }
}
