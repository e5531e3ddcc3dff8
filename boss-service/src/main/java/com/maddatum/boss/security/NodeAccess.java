package com.maddatum.boss.security;

import com.maddatum.boss.web.ApiProblem;
import org.springframework.stereotype.Component;
import org.springframework.web.context.request.RequestAttributes;
import org.springframework.web.context.request.RequestContextHolder;

/**
 * The check every worker route makes before it acts as a node: a worker token bound to node names
 * may only claim, heartbeat, log, report and register as those nodes. Requests without a caller
 * (authentication off, on loopback) and unbound tokens pass.
 */
@Component
public class NodeAccess {

    /** Throws 403 unless the current request may act as {@code node}. */
    public void require(String node) {
        RequestAttributes request = RequestContextHolder.getRequestAttributes();
        Object caller = request == null ? null : request.getAttribute(Caller.ATTRIBUTE, RequestAttributes.SCOPE_REQUEST);
        if (caller instanceof Caller c && !c.mayActAs(node)) {
            throw ApiProblem.forbiddenNode(node);
        }
    }
}
