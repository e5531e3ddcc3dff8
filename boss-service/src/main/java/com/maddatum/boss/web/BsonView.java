package com.maddatum.boss.web;

import java.util.ArrayList;
import java.util.Date;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.bson.types.ObjectId;

/**
 * Renders a stored document as the seed's wire JSON: ObjectIds as their 24-digit hex string (as
 * mongoose did) and dates as ISO-8601 instants, with every other field untouched.
 */
public final class BsonView {

    private BsonView() {}

    public static Map<String, Object> plain(Map<String, Object> document) {
        Map<String, Object> out = new LinkedHashMap<>();
        document.forEach((key, value) -> out.put(key, plainValue(value)));
        return out;
    }

    @SuppressWarnings("unchecked")
    private static Object plainValue(Object value) {
        if (value instanceof ObjectId id) {
            return id.toHexString();
        }
        if (value instanceof Date date) {
            return date.toInstant();
        }
        if (value instanceof Map<?, ?> map) {
            return plain((Map<String, Object>) map);
        }
        if (value instanceof List<?> list) {
            List<Object> out = new ArrayList<>(list.size());
            list.forEach(item -> out.add(plainValue(item)));
            return out;
        }
        return value;
    }
}
