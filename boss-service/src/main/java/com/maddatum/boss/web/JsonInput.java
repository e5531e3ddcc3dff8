package com.maddatum.boss.web;

import com.maddatum.boss.config.BossProperties;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.bson.Document;
import org.springframework.stereotype.Component;
import tools.jackson.databind.JsonNode;

/**
 * Turns client JSON into values MongoDB can store safely, or names the first field that is not.
 *
 * <p>Keys starting with {@code $} or containing {@code .} are refused (they would be operators or
 * paths to MongoDB), as are NUL characters in keys, non-finite numbers, integers beyond 64 bits,
 * nesting deeper than {@code boss.limits.max-depth} and more than {@code boss.limits.max-fields}
 * values in one body.
 */
@Component
public class JsonInput {

    private final int maxDepth;
    private final int maxFields;

    public JsonInput(BossProperties properties) {
        this.maxDepth = properties.limits().maxDepth();
        this.maxFields = properties.limits().maxFields();
    }

    /** The body as a document; {@code what} names it in the error when it is not a JSON object. */
    public Document toDocument(JsonNode body, String what) {
        if (body == null || !body.isObject()) {
            throw ApiProblem.invalidField("body", what + " must be a JSON object.");
        }
        return (Document) convert(body, "", 1, new int[] {0});
    }

    private Object convert(JsonNode node, String path, int depth, int[] fields) {
        if (++fields[0] > maxFields) {
            throw ApiProblem.invalidField(label(path), "The body has more than " + maxFields + " values.");
        }
        if (depth > maxDepth) {
            throw ApiProblem.invalidField(label(path), "The body is nested deeper than " + maxDepth + " levels.");
        }
        if (node.isObject()) {
            Document document = new Document();
            for (Map.Entry<String, JsonNode> entry : node.properties()) {
                String key = entry.getKey();
                String child = path.isEmpty() ? key : path + "." + key;
                checkKey(key, child);
                document.put(key, convert(entry.getValue(), child, depth + 1, fields));
            }
            return document;
        }
        if (node.isArray()) {
            List<Object> list = new ArrayList<>(node.size());
            for (int i = 0; i < node.size(); i++) {
                list.add(convert(node.get(i), path + "[" + i + "]", depth + 1, fields));
            }
            return list;
        }
        if (node.isNumber()) {
            return number(node, path);
        }
        if (node.isString()) {
            return node.stringValue();
        }
        if (node.isBoolean()) {
            return node.booleanValue();
        }
        if (node.isNull()) {
            return null;
        }
        throw ApiProblem.invalidField(label(path), "Unsupported JSON value.");
    }

    private static Object number(JsonNode node, String path) {
        if (node.isIntegralNumber()) {
            BigInteger value = node.bigIntegerValue();
            if (value.bitLength() >= 64) {
                throw ApiProblem.invalidField(label(path), "The integer " + value + " does not fit in 64 bits.");
            }
            long asLong = value.longValue();
            return asLong == (int) asLong ? (Object) (int) asLong : (Object) asLong;
        }
        return finiteDouble(node.doubleValue(), path);
    }

    /** Rejects NaN and the infinities, which JSON cannot carry back out and which break sorting by loss. */
    public static double finiteDouble(double value, String path) {
        if (!Double.isFinite(value)) {
            throw ApiProblem.invalidField(label(path), "'" + label(path) + "' must be a finite number.");
        }
        return value;
    }

    private static void checkKey(String key, String path) {
        if (key.isEmpty()) {
            throw ApiProblem.invalidField(label(path), "Empty keys are not allowed.");
        }
        if (key.startsWith("$") || key.contains(".") || key.indexOf('\0') >= 0) {
            throw ApiProblem.invalidField(path,
                    "Keys may not start with '$' or contain '.' or NUL: '" + key + "'.");
        }
    }

    private static String label(String path) {
        return path.isEmpty() ? "body" : path;
    }
}
