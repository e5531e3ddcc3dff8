package com.maddatum.boss.sweep;

import java.util.Locale;

/**
 * A sweep's lifecycle. {@code running}: it may create trials. {@code done}: every trial it planned exists (or
 * the space ran out of configurations not tried), none is queued or running and no re-run waits;
 * {@code extend} and {@code rerun-failed} make it running again.
 * {@code cancelled}: final, no trial is created again.
 */
enum SweepStatus {
    RUNNING, DONE, CANCELLED;

    String wire() {
        return name().toLowerCase(Locale.ROOT);
    }

    static SweepStatus fromWire(String value) {
        for (SweepStatus status : values()) {
            if (status.wire().equals(value)) {
                return status;
            }
        }
        throw new IllegalArgumentException("unknown sweep status '" + value + "'");
    }
}
