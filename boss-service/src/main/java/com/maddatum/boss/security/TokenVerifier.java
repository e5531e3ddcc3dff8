package com.maddatum.boss.security;

import com.maddatum.boss.config.BossProperties;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import org.springframework.stereotype.Component;

/**
 * Maps a presented bearer token to its roles. Tokens are kept only as SHA-256 digests and compared
 * with {@link MessageDigest#isEqual} against every configured digest, so neither the time taken nor
 * an early exit says how close a guess was. Tokens are never logged.
 */
@Component
class TokenVerifier {

    private record Entry(byte[] digest, Role role) {}

    private final List<Entry> entries = new ArrayList<>();
    private final boolean enabled;

    TokenVerifier(BossProperties properties) {
        BossProperties.Security security = properties.security();
        security.submitterTokens().forEach(token -> entries.add(new Entry(digest(token), Role.SUBMITTER)));
        security.workerTokens().forEach(token -> entries.add(new Entry(digest(token), Role.WORKER)));
        this.enabled = security.enabled();
    }

    boolean enabled() {
        return enabled;
    }

    /** The roles this token carries; empty for a missing or unknown token. */
    Set<Role> rolesOf(String presented) {
        Set<Role> roles = EnumSet.noneOf(Role.class);
        if (presented == null) {
            return roles;
        }
        byte[] digest = digest(presented);
        for (Entry entry : entries) {
            if (MessageDigest.isEqual(entry.digest(), digest)) {
                roles.add(entry.role());
            }
        }
        return roles;
    }

    private static byte[] digest(String token) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(token.getBytes(StandardCharsets.UTF_8));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is part of every JRE", e);
        }
    }
}
