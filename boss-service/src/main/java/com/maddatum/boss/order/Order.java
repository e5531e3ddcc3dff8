package com.maddatum.boss.order;

import java.time.Instant;
import java.util.ArrayList;
import java.util.Date;
import java.util.List;
import org.bson.Document;
import org.bson.types.ObjectId;

/**
 * An order as stored in {@code orders}. The seed's fields ({@code _id, jobId, createdDate, status})
 * keep their names; the rest are this project's, denormalised from the job so that claims, listings
 * and the leaderboard never need to read the job. Immutable: every change is an
 * {@link OrderTransition} applied by {@link OrderStore} in one conditional write.
 */
public record Order(
        ObjectId id,
        String jobId,
        Instant createdDate,
        OrderStatus status,
        int priority,
        List<String> requiredLabels,
        String projectName,
        String scriptName,
        int attempt,
        int maxAttempts,
        String assignedTo,
        Instant leaseExpiresAt,
        Instant startedAt,
        Instant finishedAt,
        ObjectId outcomeId,
        String reason,
        Document progress,
        List<HistoryEntry> history,
        String rev,
        boolean seedClaim,
        List<String> seedNodes,
        Double timeoutSeconds,
        Double loss,
        String sweepId,
        Long minGpuMemoryMiB) {

    static final String ID = "_id";
    static final String JOB_ID = "jobId";
    static final String CREATED_DATE = "createdDate";
    static final String STATUS = "status";
    static final String PRIORITY = "priority";
    static final String REQUIRED_LABELS = "requiredLabels";
    static final String PROJECT_NAME = "projectName";
    static final String SCRIPT_NAME = "scriptName";
    static final String ATTEMPT = "attempt";
    static final String MAX_ATTEMPTS = "maxAttempts";
    static final String ASSIGNED_TO = "assignedTo";
    static final String LEASE_EXPIRES_AT = "leaseExpiresAt";
    static final String STARTED_AT = "startedAt";
    static final String FINISHED_AT = "finishedAt";
    static final String LAST_HEARTBEAT_AT = "lastHeartbeatAt";
    static final String OUTCOME_ID = "outcomeId";
    static final String REASON = "reason";
    static final String PROGRESS = "progress";
    static final String HISTORY = "history";
    /** Set on every write; the incremental resync of other replicas reads what changed since it last looked. */
    static final String MODIFIED_AT = "modifiedAt";
    /**
     * True while the current attempt was claimed by a worker that does not heartbeat (the seed's own
     * worker): such a claim gets the long seed lease, and only it may be completed by a bare callback.
     */
    static final String SEED_CLAIM = "seedClaim";
    /** Every node that ever held this order under a seed claim: a bare callback names no node. */
    static final String SEED_NODES = "seedNodes";
    static final String TIMEOUT_SECONDS = "timeoutSeconds";
    /** The outcome's loss, copied onto a done order so that leaderboards are kept from orders alone. */
    static final String LOSS = "loss";
    /** The job's sweep, copied like its project so that listings filter on it from memory. */
    static final String SWEEP_ID = "sweepId";
    /**
     * The GPU memory a claiming slot must have, copied from the job so that a claim never reads the job.
     * Absent from orders that need none (and from every order stored before the field existed).
     */
    static final String MIN_GPU_MEMORY_MIB = "minGpuMemoryMiB";
    /**
     * The revision, {@code <_id>:<n>}, replaced on every write and unique across the collection, so
     * that a compare-and-set on it is a single-key lookup the embedded server serves from an index.
     */
    static final String REV = "rev";

    static String revision(ObjectId id, long n) {
        return id.toHexString() + ":" + n;
    }

    String nextRev() {
        return revision(id, revision() + 1);
    }

    /** The {@code n} of {@code rev}: memory applies a state only when it is not older than the one it holds. */
    public long revision() {
        return revisionOf(rev);
    }

    static long revisionOf(String rev) {
        if (rev == null) {
            throw new IllegalStateException("order stored without rev");
        }
        return Long.parseLong(rev.substring(rev.indexOf(':') + 1));
    }

    /** When the current attempt was claimed, as the history recorded it; null when the history holds no such claim. */
    public Instant claimedAt() {
        if (history == null) {
            return null;
        }
        for (int i = history.size() - 1; i >= 0; i--) {
            HistoryEntry entry = history.get(i);
            if (entry.status() == OrderStatus.ASSIGNED && entry.attempt() == attempt) {
                return entry.at();
            }
        }
        return null;
    }

    /** A bare callback (no attempt, no node) can only belong to a seed claim that never heartbeated. */
    public boolean acceptsBareCallback() {
        return status == OrderStatus.ASSIGNED && seedClaim;
    }

    /** The node a bare callback came from: the holder, unless several seed workers held this order. */
    public String bareCallbackNode() {
        return seedNodes.size() <= 1 ? assignedTo : null;
    }

    /**
     * One line of an order's history: what it became, when, on which node, at which attempt, and why;
     * for an attempt that ended without success, how it failed ({@code failure}), which is what the fleet's
     * second opinion and quarantine read.
     */
    public record HistoryEntry(OrderStatus status, Instant at, String node, int attempt, String reason,
            Failure failure) {

        public HistoryEntry(OrderStatus status, Instant at, String node, int attempt, String reason) {
            this(status, at, node, attempt, reason, null);
        }

        Document toDocument() {
            Document d = new Document("status", status.wire())
                    .append("at", Date.from(at))
                    .append("node", node)
                    .append("attempt", attempt)
                    .append("reason", reason);
            if (failure != null) {
                d.append("failure", failure.toDocument());
            }
            return d;
        }

        static HistoryEntry fromDocument(Document d) {
            return new HistoryEntry(OrderStatus.fromWire(d.getString("status")), instant(d, "at"),
                    d.getString("node"), d.getInteger("attempt", 0), d.getString("reason"),
                    Failure.fromDocument(d.get("failure", Document.class)));
        }
    }

    /**
     * How an attempt failed, as far as the fleet is concerned: the machine ({@code infrastructure}: a
     * hand-back; {@code lease-expired}: the Worker was lost), the script ({@code script}: status 500 or
     * more), or a stop that is no machine's fault ({@code stopped}: the Worker shut down, or could not fetch
     * its job from the Boss), which blames nobody.
     */
    public record Failure(Kind kind, Integer status, String type) {

        public enum Kind {
            INFRASTRUCTURE("infrastructure"), LEASE_EXPIRED("lease-expired"), SCRIPT("script"), STOPPED("stopped");

            private final String wire;

            Kind(String wire) {
                this.wire = wire;
            }

            public String wire() {
                return wire;
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

        /** Whether the node it happened on may be to blame: everything but a deliberate stop. */
        public boolean blamesNode() {
            return kind != Kind.STOPPED;
        }

        Document toDocument() {
            Document d = new Document("kind", kind.wire());
            if (status != null) {
                d.append("status", status);
            }
            if (type != null) {
                d.append("type", type);
            }
            return d;
        }

        static Failure fromDocument(Document d) {
            Kind kind = d == null ? null : Kind.fromWire(d.getString("kind"));
            return kind == null ? null : new Failure(kind, d.getInteger("status"), d.getString("type"));
        }
    }

    /** The nodes where an attempt of this order failed in a way that may be the node's fault. */
    public java.util.Set<String> failedOn() {
        return new java.util.HashSet<>(lastFailureOn().keySet());
    }

    /** For each node where an attempt failed in a way that blames it, when it last did. */
    public java.util.Map<String, java.time.Instant> lastFailureOn() {
        java.util.Map<String, java.time.Instant> last = new java.util.HashMap<>();
        for (HistoryEntry entry : history) {
            if (entry.failure() != null && entry.failure().blamesNode() && entry.node() != null) {
                last.merge(entry.node(), entry.at(), (a, b) -> a.isAfter(b) ? a : b);
            }
        }
        return last;
    }

    public boolean isInFlight() {
        return status.isInFlight();
    }

    /** The document for a brand-new order: unassigned, attempt 0, with its first history line. */
    static Document newDocument(ObjectId id, NewOrder spec, Instant now) {
        HistoryEntry created = new HistoryEntry(OrderStatus.UNASSIGNED, now, null, 0, "created");
        Document order = new Document(ID, id)
                .append(JOB_ID, spec.jobId())
                .append(CREATED_DATE, Date.from(now))
                .append(STATUS, OrderStatus.UNASSIGNED.wire())
                .append(PRIORITY, spec.priority())
                .append(REQUIRED_LABELS, spec.requiredLabels())
                .append(PROJECT_NAME, spec.projectName())
                .append(SCRIPT_NAME, spec.scriptName())
                .append(ATTEMPT, 0)
                .append(MAX_ATTEMPTS, spec.maxAttempts())
                .append(TIMEOUT_SECONDS, spec.timeoutSeconds())
                .append(HISTORY, List.of(created.toDocument()))
                .append(REV, revision(id, 0))
                .append(MODIFIED_AT, Date.from(now));
        if (spec.sweepId() != null) {
            order.append(SWEEP_ID, spec.sweepId());
        }
        if (spec.minGpuMemoryMiB() != null) {
            order.append(MIN_GPU_MEMORY_MIB, spec.minGpuMemoryMiB());
        }
        return order;
    }

    @SuppressWarnings("unchecked")
    static Order fromDocument(Document d) {
        List<HistoryEntry> history = new ArrayList<>();
        for (Document entry : d.getList(HISTORY, Document.class, List.of())) {
            history.add(HistoryEntry.fromDocument(entry));
        }
        return new Order(
                d.getObjectId(ID),
                d.getString(JOB_ID),
                instant(d, CREATED_DATE),
                OrderStatus.fromWire(d.getString(STATUS)),
                d.getInteger(PRIORITY, 0),
                List.copyOf(d.getList(REQUIRED_LABELS, String.class, List.of())),
                d.getString(PROJECT_NAME),
                d.getString(SCRIPT_NAME),
                d.getInteger(ATTEMPT, 0),
                d.getInteger(MAX_ATTEMPTS, 1),
                d.getString(ASSIGNED_TO),
                instant(d, LEASE_EXPIRES_AT),
                instant(d, STARTED_AT),
                instant(d, FINISHED_AT),
                d.getObjectId(OUTCOME_ID),
                d.getString(REASON),
                d.get(PROGRESS, Document.class),
                List.copyOf(history),
                d.getString(REV),
                d.getBoolean(SEED_CLAIM, false),
                List.copyOf(d.getList(SEED_NODES, String.class, List.of())),
                number(d, TIMEOUT_SECONDS),
                number(d, LOSS),
                d.getString(SWEEP_ID),
                d.get(MIN_GPU_MEMORY_MIB) instanceof Number n ? n.longValue() : null);
    }

    private static Double number(Document d, String field) {
        return d.get(field) instanceof Number n ? n.doubleValue() : null;
    }

    static Instant instant(Document d, String field) {
        Date date = d.getDate(field);
        return date == null ? null : date.toInstant();
    }
}
