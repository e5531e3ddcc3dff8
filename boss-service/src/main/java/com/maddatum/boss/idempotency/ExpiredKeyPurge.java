package com.maddatum.boss.idempotency;

import java.time.Clock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.scheduling.annotation.Scheduled;
import org.springframework.stereotype.Component;

/**
 * Deletes idempotency keys past {@code boss.idempotency.keep-for}. Real MongoDB does this itself through
 * the TTL index; the embedded server has none, and would otherwise keep every key forever. (An expired
 * key not yet purged is already treated as unused.)
 */
@Component
class ExpiredKeyPurge {

    private static final Logger log = LoggerFactory.getLogger(ExpiredKeyPurge.class);

    private final IdempotencyStore store;
    private final Clock clock;

    ExpiredKeyPurge(IdempotencyStore store, Clock clock) {
        this.store = store;
        this.clock = clock;
    }

    @Scheduled(fixedDelayString = "PT10M", initialDelayString = "PT1M")
    long purgeExpiredKeys() {
        long purged = store.deleteExpired(clock.instant());
        if (purged > 0) {
            log.info("idempotency keys purged count={}", purged);
        }
        return purged;
    }
}
