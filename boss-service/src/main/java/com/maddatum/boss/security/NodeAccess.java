package com.maddatum.boss.security;

import com.maddatum.boss.web.ApiProblem;
import java.util.Optional;
import org.springframework.stereotype.Component;

/**
 * The check every worker route makes before it acts as a node: a worker token bound to node names
 * may only claim, heartbeat, log, report and register as those nodes. Requests without a caller
 * (authentication off, on loopback) and unbound tokens pass.
 */
@Component
public class NodeAccess {

    /** Throws 403 unless the current request may act as {@code node}. */
    public void require(String node) {
        Caller caller = caller();
        if (caller != null && !caller.mayActAs(node)) {
            throw ApiProblem.forbiddenNode(node);
        }
    }

    /** The one node the caller's token is bound to, when it names exactly one (no pattern): who is calling. */
    public Optional<String> soleNode() {
        Caller caller = caller();
        if (caller == null || caller.role() != Role.WORKER || caller.nodes().size() != 1
                || caller.nodes().get(0).contains("*")) {
            return Optional.empty();
        }
        return Optional.of(caller.nodes().get(0));
    }

    private static Caller caller() {
        return Caller.current().orElse(null);
    }
}
