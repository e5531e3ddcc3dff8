package com.maddatum.boss.sweep;

import java.util.List;
import org.bson.types.ObjectId;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.scheduling.annotation.Scheduled;
import org.springframework.stereotype.Component;

/**
 * Drives every running sweep (and every cancelled one with trials still to cancel) each
 * {@code boss.sweeps.tick}: a trial's ending seen by another replica, a nudge lost to a crash, a start left
 * pending by a Boss that died, all are picked up here within one tick.
 */
@Component
class SweepTicker {

    private static final Logger log = LoggerFactory.getLogger(SweepTicker.class);

    private final SweepStore sweeps;
    private final SweepDriver driver;

    SweepTicker(SweepStore sweeps, SweepDriver driver) {
        this.sweeps = sweeps;
        this.driver = driver;
    }

    @Scheduled(fixedDelayString = "${boss.sweeps.tick:2s}", initialDelayString = "${boss.sweeps.tick:2s}")
    void tick() {
        List<ObjectId> toDrive = sweeps.toDrive();
        driver.forgetAllBut(toDrive);
        for (ObjectId id : toDrive) {
            try {
                driver.drive(id);
            } catch (RuntimeException e) {
                // One sweep's trouble (the store, a bad document) must not hold the others up.
                log.warn("sweep not driven sweep={} error={}", id, e.toString());
            }
        }
    }
}
