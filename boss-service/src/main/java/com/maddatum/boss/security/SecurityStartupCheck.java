package com.maddatum.boss.security;

import com.maddatum.boss.config.BossProperties;
import java.net.InetAddress;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.boot.web.server.autoconfigure.ServerProperties;
import org.springframework.stereotype.Component;

/**
 * Refuses to start a Boss that would answer anyone on the network: no tokens configured and a
 * non-loopback address, unless {@code boss.security.allow-anonymous=true} says so. The address checked
 * is the one the web server will bind ({@link ServerProperties#getAddress()}): none at all, as an
 * empty {@code SERVER_ADDRESS=} gives, means every interface. (With no tokens and no address given,
 * {@link LoopbackDefault} has already chosen 127.0.0.1.)
 */
@Component
class SecurityStartupCheck {

    private static final Logger log = LoggerFactory.getLogger(SecurityStartupCheck.class);

    SecurityStartupCheck(BossProperties properties, ServerProperties server) {
        BossProperties.Security security = properties.security();
        InetAddress bound = server.getAddress();
        String address = bound == null ? "every interface (no server.address)" : bound.getHostAddress();
        if (security.enabled()) {
            log.info("authentication on submitterTokens={} workerTokens={} operatorTokens={} metricsTokens={} address={}",
                    security.submitterTokens().size(), security.workerTokens().size(), security.operatorTokens().size(),
                    security.metricsTokens().size(), address);
            return;
        }
        if ((bound == null || !bound.isLoopbackAddress()) && !security.allowAnonymous()) {
            throw new IllegalStateException("Refusing to listen on " + address + " with no tokens configured: anyone who "
                    + "can reach it could submit and claim jobs. Set boss.security.submitter-tokens and "
                    + "boss.security.worker-tokens (BOSS_SECURITY_SUBMITTER_TOKENS, BOSS_SECURITY_WORKER_TOKENS; make "
                    + "each with `openssl rand -hex 32`), bind to 127.0.0.1, or set "
                    + "boss.security.allow-anonymous=true if you really mean it.");
        }
        log.warn("authentication is OFF: no tokens configured; listening on {} only", address);
    }
}
