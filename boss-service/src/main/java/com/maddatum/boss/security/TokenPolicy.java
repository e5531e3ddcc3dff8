package com.maddatum.boss.security;

import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * What makes a configured token acceptable: long enough that guessing is hopeless, and not one that
 * anyone can read in this repository. Checked once at start-up; a Boss with a weak token refuses to
 * start, with a message that names the setting (never the token) and says how to make a good one.
 */
final class TokenPolicy {

    static final int MIN_LENGTH = 32;
    /** The values in {@code .env.example}: copying that file must not give a working Boss. */
    static final Set<String> EXAMPLE_TOKENS = Set.of("change-me-submitter", "change-me-worker", "change-me-operator",
            "change-me-metrics");
    private static final String HOW = "make one with `openssl rand -hex 32`";

    private TokenPolicy() {}

    /** Throws naming the first weak token in {@code setting}; tokens themselves are never printed. */
    static void check(String setting, List<String> tokens) {
        for (int i = 0; i < tokens.size(); i++) {
            String token = tokens.get(i);
            String where = setting + "[" + i + "]";
            if (EXAMPLE_TOKENS.contains(token) || token.toLowerCase(Locale.ROOT).contains("change-me")) {
                throw new IllegalStateException(where + " is the example value from .env.example; " + HOW + ".");
            }
            if (token.length() < MIN_LENGTH) {
                String hint = setting.endsWith("worker-tokens")
                        ? " (a worker token's nodes are separated by '|', as in TOKEN:node-a|node-b, not by ',')" : "";
                throw new IllegalStateException(where + " is " + token.length() + " characters long; tokens need at least "
                        + MIN_LENGTH + hint + ": " + HOW + ".");
            }
            if (!token.chars().allMatch(c -> c > 32 && c < 127)) {
                throw new IllegalStateException(where + " has spaces or characters outside printable ASCII; " + HOW + ".");
            }
        }
    }
}
