package com.maddatum.boss.security;

import com.maddatum.boss.config.BossProperties;
import java.net.InetAddress;
import java.net.UnknownHostException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.core.env.Environment;
import org.springframework.stereotype.Component;

/**
 * Refuses to start a Boss that would answer anyone on the network: no tokens configured and a
 * non-loopback {@code server.address}, unless {@code boss.security.allow-anonymous=true} says so.
 * (With no tokens and no address given, {@link LoopbackDefault} has already chosen 127.0.0.1.)
 */
@Component
class SecurityStartupCheck {

    private static final Logger log = LoggerFactory.getLogger(SecurityStartupCheck.class);

    SecurityStartupCheck(BossProperties properties, Environment environment) {
        BossProperties.Security security = properties.security();
        String address = environment.getProperty("server.address", "0.0.0.0");
        if (security.enabled()) {
            log.info("authentication on submitterTokens={} workerTokens={} address={}",
                    security.submitterTokens().size(), security.workerTokens().size(), address);
            return;
        }
        if (!isLoopback(address) && !security.allowAnonymous()) {
            throw new IllegalStateException("Refusing to listen on " + address + " with no tokens configured: anyone who "
                    + "can reach it could submit and claim jobs. Set boss.security.submitter-tokens and "
                    + "boss.security.worker-tokens (BOSS_SECURITY_SUBMITTER_TOKENS, BOSS_SECURITY_WORKER_TOKENS), "
                    + "bind to 127.0.0.1, or set boss.security.allow-anonymous=true if you really mean it.");
        }
        log.warn("authentication is OFF: no tokens configured; listening on {} only", address);
    }

    static boolean isLoopback(String address) {
        try {
            return InetAddress.getByName(address).isLoopbackAddress();
        } catch (UnknownHostException e) {
            return false;
        }
    }
}
