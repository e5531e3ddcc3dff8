package com.maddatum.boss.idempotency;

import org.bson.Document;
import org.springframework.http.ResponseEntity;
import tools.jackson.databind.json.JsonMapper;

/**
 * The first answer to a key, as a replay gives it back: status, {@code Location}, and the body as the
 * JSON text the client first received (written with the application's own mapper).
 */
record StoredAnswer(int status, String location, String body) {

    static StoredAnswer of(ResponseEntity<?> answer, JsonMapper json) {
        var location = answer.getHeaders().getLocation();
        return new StoredAnswer(answer.getStatusCode().value(), location == null ? null : location.toString(),
                json.writeValueAsString(answer.getBody()));
    }

    Document toDocument() {
        Document document = new Document("status", status).append("body", body);
        if (location != null) {
            document.append("location", location);
        }
        return document;
    }

    static StoredAnswer fromDocument(Document document) {
        return document == null ? null
                : new StoredAnswer(document.getInteger("status"), document.getString("location"), document.getString("body"));
    }
}
