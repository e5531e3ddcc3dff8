package com.maddatum.boss.security;

import com.maddatum.boss.config.BossProperties;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import org.springframework.stereotype.Component;

/**
 * Maps a presented bearer token to its {@link Caller}. Tokens are kept only as SHA-256 digests and
 * compared with {@link MessageDigest#isEqual} against every configured digest, so neither the time
 * taken nor an early exit says how close a guess was. Tokens are never logged.
 *
 * <p>A worker token may be bound to node names: {@code TOKEN:node-a|node-b|gpu-*} may only act as
 * those nodes (claim, heartbeat, log, report, register), so that one leaked worker token cannot act
 * for the whole fleet. A token without {@code :} acts as any node.
 */
@Component
class TokenVerifier {

    private record Entry(byte[] digest, Caller caller) {}

    private final List<Entry> entries = new ArrayList<>();
    private final boolean enabled;

    TokenVerifier(BossProperties properties) {
        BossProperties.Security security = properties.security();
        TokenPolicy.check("boss.security.submitter-tokens", security.submitterTokens());
        TokenPolicy.check("boss.security.worker-tokens",
                security.workerTokens().stream().map(TokenVerifier::secretOf).toList());
        TokenPolicy.check("boss.security.operator-tokens", security.operatorTokens());
        TokenPolicy.check("boss.security.metrics-tokens", security.metricsTokens());
        addAll(Role.SUBMITTER, security.submitterTokens());
        for (String token : security.workerTokens()) {
            byte[] digest = digest(secretOf(token));
            entries.add(new Entry(digest, new Caller(Role.WORKER, nodesOf(token), HexFormat.of().formatHex(digest))));
        }
        addAll(Role.OPERATOR, security.operatorTokens());
        addAll(Role.METRICS, security.metricsTokens());
        for (int i = 0; i < entries.size(); i++) {
            for (int j = i + 1; j < entries.size(); j++) {
                if (MessageDigest.isEqual(entries.get(i).digest(), entries.get(j).digest())) {
                    throw new IllegalStateException("the same token is configured twice in boss.security.*-tokens; "
                            + "give each role and each worker its own");
                }
            }
        }
        this.enabled = security.enabled();
    }

    private void addAll(Role role, List<String> tokens) {
        for (String token : tokens) {
            byte[] digest = digest(token);
            entries.add(new Entry(digest, new Caller(role, List.of(), HexFormat.of().formatHex(digest))));
        }
    }

    private static String secretOf(String configured) {
        int colon = configured.indexOf(':');
        return colon < 0 ? configured : configured.substring(0, colon);
    }

    private static List<String> nodesOf(String configured) {
        int colon = configured.indexOf(':');
        if (colon < 0) {
            return List.of();
        }
        List<String> nodes = Arrays.stream(configured.substring(colon + 1).split("\\|")).map(String::trim)
                .filter(n -> !n.isEmpty()).toList();
        for (String node : nodes) {
            if (!node.matches("[A-Za-z0-9_.:@*-]{1,128}")) {
                throw new IllegalStateException("boss.security.worker-tokens: '" + node + "' is not a node name or "
                        + "pattern (letters, digits, _ . : @ - and * for any run of characters)");
            }
        }
        if (nodes.isEmpty()) {
            throw new IllegalStateException("boss.security.worker-tokens: a token bound with ':' must name its nodes");
        }
        return nodes;
    }

    boolean enabled() {
        return enabled;
    }

    /** Who this token belongs to; empty for a missing or unknown token. */
    Optional<Caller> callerOf(String presented) {
        if (presented == null) {
            return Optional.empty();
        }
        byte[] digest = digest(presented);
        Caller found = null;
        for (Entry entry : entries) {
            if (MessageDigest.isEqual(entry.digest(), digest)) {
                found = entry.caller(); // no early exit: every digest is compared
            }
        }
        return Optional.ofNullable(found);
    }

    private static byte[] digest(String token) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(token.getBytes(StandardCharsets.UTF_8));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is part of every JRE", e);
        }
    }
}
