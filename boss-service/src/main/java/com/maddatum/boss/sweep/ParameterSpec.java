package com.maddatum.boss.sweep;

import com.maddatum.boss.sweep.sample.Dimension;
import java.util.ArrayList;
import java.util.List;
import org.bson.Document;

/**
 * One varied parameter of a sweep: {@code path} (dotted, see {@link ParamPaths}) and either {@code values}
 * (its distinct values, in the order given) or a range {@code min}..{@code max} with {@code distribution}
 * {@code uniform}, {@code log_uniform} or {@code int_uniform}.
 */
record ParameterSpec(String path, List<Object> values, Double min, Double max, String distribution) {

    Dimension dimension() {
        return new Dimension(path, values, min, max, distribution);
    }

    /** Whether the parameter can take more than one value: the leaderboard shows only those. */
    boolean varies() {
        return values != null ? values.size() > 1 : min < max
                && (!"int_uniform".equals(distribution) || Math.floor(max) > Math.ceil(min));
    }

    Document toDocument() {
        Document d = new Document("path", path);
        if (values != null) {
            d.append("values", values);
        } else {
            d.append("min", min).append("max", max).append("distribution", distribution);
        }
        return d;
    }

    static ParameterSpec fromDocument(Document d) {
        List<Object> values = d.get("values") instanceof List<?> list ? new ArrayList<>(list) : null;
        return new ParameterSpec(d.getString("path"), values, number(d, "min"), number(d, "max"),
                d.getString("distribution"));
    }

    private static Double number(Document d, String field) {
        return d.get(field) instanceof Number n ? n.doubleValue() : null;
    }
}
