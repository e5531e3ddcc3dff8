package com.maddatum.boss.security;

import java.util.Arrays;
import java.util.List;
import java.util.stream.Collectors;
import java.util.regex.Pattern;

/**
 * Who sent a request: the role its token carries, and for a worker token bound to node names
 * ({@code TOKEN:node-a|node-b|gpu-*}) the nodes it may act as. Set on the request by
 * {@link TokenAuthFilter}; read by {@link NodeAccess}.
 *
 * @param nodes the node names or patterns ({@code *} matches any run of characters) this caller may act
 *     as; empty when the token is not bound, which means any node
 */
public record Caller(Role role, List<String> nodes) {

    static final String ATTRIBUTE = Caller.class.getName();

    public Caller {
        nodes = List.copyOf(nodes);
    }

    /** Whether this caller may claim, heartbeat, log and report as {@code node}. */
    public boolean mayActAs(String node) {
        if (role != Role.WORKER || nodes.isEmpty()) {
            return true;
        }
        if (node == null) {
            return false;
        }
        for (String allowed : nodes) {
            if (allowed.equals(node) || (allowed.contains("*") && glob(allowed).matcher(node).matches())) {
                return true;
            }
        }
        return false;
    }

    private static Pattern glob(String pattern) {
        return Pattern.compile(Arrays.stream(pattern.split("\\*", -1)).map(Pattern::quote)
                .collect(Collectors.joining(".*")));
    }
}
