package com.maddatum.boss.idempotency;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * What makes two requests with one key "the same request": the route and the body's JSON as parsed,
 * written back compactly, then SHA-256. So whitespace and escapes a client's JSON library chooses do
 * not matter, while key order and number spelling ({@code 1} against {@code 1.0}) do: the job is stored
 * with its keys in the order sent, so a different order is, strictly, a different job.
 */
final class RequestFingerprint {

    /** Not the application's mapper: its settings (leaving out nulls) must not make two bodies look alike. */
    private static final JsonMapper PLAIN = JsonMapper.builder().build();

    private RequestFingerprint() {}

    static String of(String operation, JsonNode body) {
        try {
            MessageDigest sha = MessageDigest.getInstance("SHA-256");
            sha.update(operation.getBytes(StandardCharsets.UTF_8));
            sha.update((byte) '\n');
            sha.update(PLAIN.writeValueAsBytes(body));
            return HexFormat.of().formatHex(sha.digest());
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is part of every JRE", e);
        }
    }
}
