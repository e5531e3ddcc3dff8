package com.maddatum.boss.sweep;

import java.util.Locale;

/**
 * A sweep's lifecycle. {@code running}: it may create trials. {@code done}: every trial it will create exists
 * and none is queued or running; {@code extend} and {@code rerun-failed} make it running again.
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
