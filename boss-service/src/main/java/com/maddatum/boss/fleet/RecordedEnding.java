package com.maddatum.boss.fleet;

import java.time.Instant;
import java.util.Date;
import org.bson.Document;

/**
 * One attempt's ending as a node's document keeps it ({@code workers.endings}, oldest first): what the
 * quarantine counts, and the evidence it shows.
 */
record RecordedEnding(Kind kind, String orderId, String jobId, int attempt, Integer status, String errorType,
        String message, Instant at) {

    enum Kind {
        /** Done: the node works; ends any streak. */
        OK("ok", false),
        /** Handed back, not on purpose: the machine failed. */
        INFRASTRUCTURE("infrastructure", true),
        /** The node stopped heartbeating; expiries within one lease period count once. */
        LEASE_EXPIRED("lease-expired", true),
        /** The script failed here; counts only once the same order succeeds on another node. */
        SCRIPT_PENDING("script-pending", false),
        /** The script failed here and the same order then succeeded elsewhere. */
        SCRIPT_CONFIRMED("script-confirmed", true),
        /** The script failed the same way on another node: the job's fault, ignored. */
        JOBS_FAULT("jobs-fault", false);

        private final String wire;
        private final boolean counts;

        Kind(String wire, boolean counts) {
            this.wire = wire;
            this.counts = counts;
        }

        String wire() {
            return wire;
        }

        boolean counts() {
            return counts;
        }

        static Kind fromWire(String wire) {
            for (Kind kind : values()) {
                if (kind.wire.equals(wire)) {
                    return kind;
                }
            }
            return null;
        }
    }

    RecordedEnding as(Kind other) {
        return new RecordedEnding(other, orderId, jobId, attempt, status, errorType, message, at);
    }

    Document toDocument() {
        Document d = new Document("kind", kind.wire()).append("orderId", orderId).append("jobId", jobId)
                .append("attempt", attempt).append("status", status).append("errorType", errorType)
                .append("message", message).append("at", Date.from(at));
        d.values().removeIf(java.util.Objects::isNull);
        return d;
    }

    /** Null for an entry this version does not understand (written by a newer one): it is left out. */
    static RecordedEnding fromDocument(Document d) {
        Kind kind = Kind.fromWire(d.getString("kind"));
        Date at = d.getDate("at");
        if (kind == null || at == null) {
            return null;
        }
        return new RecordedEnding(kind, d.getString("orderId"), d.getString("jobId"), d.getInteger("attempt", 0),
                d.getInteger("status"), d.getString("errorType"), d.getString("message"), at.toInstant());
    }
}
