package com.maddatum.worker.client;

import com.maddatum.worker.common.Text;
import java.util.LinkedHashMap;
import java.util.Map;
import tools.jackson.core.type.TypeReference;
import tools.jackson.databind.json.JsonMapper;

/** The Boss's answers in words: its problem details (RFC 9457) when it sent one, else the start of the body. */
final class Problems {

    private static final TypeReference<LinkedHashMap<String, Object>> MAP = new TypeReference<>() {};
    /** The most characters of a body that is not a problem detail quoted in a reason. */
    static final int MAX_QUOTED = 300;

    private Problems() {}

    /**
     * {@code "HTTP 413: <detail> (field <field>)"} from a problem detail; else the status and the start
     * of the body (or {@code statusText}, the status line's words, when the body is empty or unread).
     */
    static String reason(JsonMapper json, int status, String body, String statusText) {
        Map<String, Object> problem = parse(json, body);
        if (problem != null && problem.get("detail") instanceof String detail) {
            return "HTTP " + status + ": " + detail
                    + (problem.get("field") instanceof String field ? " (field " + field + ")" : "");
        }
        if (body == null || body.isBlank()) {
            return "HTTP " + status + (statusText == null || statusText.isBlank() ? "" : " " + statusText);
        }
        return "HTTP " + status + ": " + Text.abbreviate(body, MAX_QUOTED);
    }

    /** The body as a JSON object, or null when it is none. */
    static Map<String, Object> parse(JsonMapper json, String body) {
        if (body == null || body.isBlank()) {
            return null;
        }
        try {
            return json.readValue(body, MAP);
        } catch (RuntimeException notJson) { // JacksonException included
            return null;
        }
    }
}
