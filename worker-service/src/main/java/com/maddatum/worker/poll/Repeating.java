package com.maddatum.worker.poll;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A body for {@code scheduleAtFixedRate}/{@code scheduleWithFixedDelay}. An exception that escapes a
 * periodic task silently cancels every later run of it (no more heartbeats: the Boss reclaims the
 * lease and the job runs twice), so every such body goes through here: it logs and carries on.
 */
final class Repeating {

    private static final Logger log = LoggerFactory.getLogger(Repeating.class);

    private Repeating() {}

    static Runnable guarded(String what, Runnable body) {
        return () -> {
            try {
                body.run();
            } catch (RuntimeException | Error e) {
                log.error("periodic task failed, it will run again task={} error={}", what, e.toString(), e);
            }
        };
    }
}
