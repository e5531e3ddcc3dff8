package com.maddatum.boss.security;

import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.stream.Collectors;
import java.util.regex.Pattern;
import org.springframework.web.context.request.RequestAttributes;
import org.springframework.web.context.request.RequestContextHolder;

/**
 * Who sent a request: the role its token carries, and for a worker token bound to node names
 * ({@code TOKEN:node-a|node-b|gpu-*}) the nodes it may act as. Set on the request by
 * {@link TokenAuthFilter}; read by {@link NodeAccess}.
 *
 * @param nodes the node names or patterns ({@code *} matches any run of characters) this caller may act
 *     as; empty when the token is not bound, which means any node
 * @param identity a stable name for the token that sent the request (the hex SHA-256 of the token, never the
 *     token): what keeps one submitter's idempotency keys apart from another's
 */
public record Caller(Role role, List<String> nodes, String identity) {

    static final String ATTRIBUTE = Caller.class.getName();

    public Caller {
        nodes = List.copyOf(nodes);
    }

    /** The caller of the request this thread serves; empty when authentication is off or outside a request. */
    public static Optional<Caller> current() {
        RequestAttributes request = RequestContextHolder.getRequestAttributes();
        Object caller = request == null ? null : request.getAttribute(ATTRIBUTE, RequestAttributes.SCOPE_REQUEST);
        return caller instanceof Caller c ? Optional.of(c) : Optional.empty();
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
