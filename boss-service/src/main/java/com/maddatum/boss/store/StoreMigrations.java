package com.maddatum.boss.store;

import com.maddatum.boss.config.BossProperties;
import com.mongodb.client.model.Filters;
import com.mongodb.client.model.Updates;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Date;
import java.util.HashSet;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.bson.Document;
import org.bson.types.ObjectId;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.dao.DuplicateKeyException;
import org.springframework.data.domain.Sort;
import org.springframework.data.mongodb.core.MongoTemplate;
import org.springframework.data.mongodb.core.query.BasicQuery;
import org.springframework.data.mongodb.core.query.Criteria;
import org.springframework.data.mongodb.core.query.Query;
import org.springframework.data.mongodb.core.query.Update;
import org.springframework.stereotype.Component;

/**
 * Brings a database written by the seed's own Boss, or by an earlier version of this one, to the shape
 * the Boss reads, before anything else touches it: the stores that create unique indexes and the
 * start-up load of memory wait for this bean ({@code @DependsOn}). Each migration runs once per database
 * and is recorded in {@code migrations}, so a restart does not scan the collections again.
 *
 * <p>Field names are written out here rather than taken from the order and outcome code: a migration
 * describes the shape a database had then, which must not change when those classes do.
 */
@Component
public class StoreMigrations {

    private static final Logger log = LoggerFactory.getLogger(StoreMigrations.class);
    static final String COLLECTION = "migrations";
    private static final Set<String> LIVE = Set.of("unassigned", "assigned", "running");

    /** How long a migration lock holds without renewal: a crashed holder delays the others this long. */
    static final Duration LOCK_LEASE = Duration.ofSeconds(60);
    private static final Duration LOCK_POLL = Duration.ofMillis(250);

    private final MongoTemplate mongo;
    private final StoreDurability durability;
    private final Clock clock;
    private final Instant now;
    private final BossProperties.Lease lease;

    public StoreMigrations(MongoTemplate mongo, StoreDurability durability, Clock clock, BossProperties properties) {
        this.mongo = mongo;
        this.durability = durability;
        this.clock = clock;
        this.now = clock.instant();
        this.lease = properties.lease();
        once("2026-12-seed-orders", this::adoptSeedOrders);
        once("2026-12-outcomes-per-attempt", this::outcomesPerAttempt);
        once("2026-12-loss-on-done-orders", this::lossOntoDoneOrders);
    }

    private interface Migration {
        int run();
    }

    /**
     * Runs a migration unless the database records it as done. Boss replicas starting together take a
     * lock first: the one that gets it migrates, the others wait for its marker. The lock is a lease the
     * holder renews while it works, so a holder that dies mid-way (its restart has another identity)
     * holds the others up for at most {@link #LOCK_LEASE}; each migration is written so that running it
     * again after such a crash finishes what the dead one started.
     */
    private void once(String name, Migration migration) {
        String holder = UUID.randomUUID().toString();
        while (!done(name)) {
            if (!tryLock(name, holder)) {
                pause();
                continue;
            }
            ScheduledExecutorService renewal = Executors.newSingleThreadScheduledExecutor(runnable -> {
                Thread thread = new Thread(runnable, "migration-lock-" + name);
                thread.setDaemon(true);
                return thread;
            });
            try {
                AtomicBoolean lost = new AtomicBoolean();
                renewal.scheduleAtFixedRate(() -> renew(name, holder, lost), LOCK_LEASE.toMillis() / 3,
                        LOCK_LEASE.toMillis() / 3, TimeUnit.MILLISECONDS);
                if (done(name)) {
                    return; // another replica finished it between our check and our lock
                }
                int changed = migration.run();
                if (lost.get()) {
                    // Stalled past the lease (or a clock far ahead took it over): another replica may be
                    // migrating too. Each write here is conditional, but the marker is not ours to write.
                    throw new ConcurrentChange("the lock of migration " + name + " was taken over while it ran;"
                            + " restart to check the migration");
                }
                // An upsert, not an insert: a marker already there (written by hand, say) is no failure.
                mongo.upsert(Query.query(Criteria.where("_id").is(name)), new Update()
                        .setOnInsert("appliedAt", Date.from(now)).setOnInsert("changed", changed), COLLECTION);
                durability.sync();
                log.info("store migration applied migration={} changed={}", name, changed);
            } finally {
                renewal.shutdownNow();
                mongo.remove(Query.query(Criteria.where("_id").is(lockId(name)).and("holder").is(holder)), COLLECTION);
            }
        }
    }

    private boolean done(String name) {
        return mongo.exists(Query.query(Criteria.where("_id").is(name)), COLLECTION);
    }

    private static String lockId(String name) {
        return "lock:" + name;
    }

    /**
     * One conditional write: the lock document is created, or taken over once its lease has run out.
     * While another holder's lease runs, the filter matches nothing and the upsert's insert collides
     * with the existing {@code _id}.
     */
    private boolean tryLock(String name, String holder) {
        Instant at = clock.instant();
        try {
            mongo.upsert(Query.query(Criteria.where("_id").is(lockId(name)).and("until").lt(Date.from(at))),
                    new Update().set("holder", holder).set("until", Date.from(at.plus(LOCK_LEASE))), COLLECTION);
            return true;
        } catch (DuplicateKeyException held) {
            return false;
        }
    }

    private void renew(String name, String holder, AtomicBoolean lost) {
        try {
            long matched = mongo.updateFirst(Query.query(Criteria.where("_id").is(lockId(name)).and("holder").is(holder)),
                    new Update().set("until", Date.from(clock.instant().plus(LOCK_LEASE))), COLLECTION).getMatchedCount();
            if (matched == 0) {
                lost.set(true);
            }
        } catch (RuntimeException e) {
            log.warn("migration lock not renewed migration={} error={}", name, e.toString());
        }
    }

    /** Another writer changed what a migration was writing; thrown out of the migration, never skipped. */
    static final class ConcurrentChange extends IllegalStateException {
        ConcurrentChange(String message) {
            super(message);
        }
    }

    private static void pause() {
        try {
            Thread.sleep(LOCK_POLL.toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while another replica migrated the store", e);
        }
    }

    /**
     * A document this version cannot read (an {@code _id} that is not an ObjectId, a field of another
     * type) is logged and left as it is: one odd document must not keep the Boss from starting.
     */
    private void skipped(String collection, Document d, RuntimeException e) {
        if (StoreFailures.isStoreFailure(e)) {
            throw e; // the store failed, not this document: no marker, and the next start tries again
        }
        log.error("store migration skipped a document it cannot read collection={} id={} error={}", collection,
                d.get("_id"), e.toString());
        if (collection.equals("outcomes")) {
            // Every outcome needs its own (orderId, attempt) before the unique index on them is built:
            // two left without would collide on (null, null) and keep every Boss from starting.
            mongo.getCollection("outcomes").updateOne(Filters.and(Filters.eq("_id", d.get("_id")),
                    Filters.exists("orderId", false)), Updates.combine(Updates.set("orderId", d.get("_id")),
                    Updates.set("attempt", 0)));
        }
    }

    /**
     * Orders the seed's Boss wrote ({@code _id, jobId, createdDate, status}) get what every write here
     * needs: a revision, a creation date, attempts; one it left held gets attempt 1 and a seed lease, so
     * that the reaper hands it on if its worker is gone. The filter keeps the revision if another replica
     * migrating at the same moment got there first.
     */
    private int adoptSeedOrders() {
        Query query = Query.query(Criteria.where("rev").exists(false));
        query.fields().include("_id").include("status").include("attempt").include("leaseExpiresAt")
                .include("createdDate").include("maxAttempts");
        int changed = 0;
        for (Document d : mongo.find(query, Document.class, "orders")) {
            try {
                changed += adoptSeedOrder(d);
            } catch (RuntimeException e) {
                skipped("orders", d, e);
            }
        }
        return changed;
    }

    private int adoptSeedOrder(Document d) {
        // Even an order this Boss cannot read (an _id that is no ObjectId) gets a revision: the unique
        // index on rev cannot be built while two orders lack one. Loading memory then skips it, logged.
        Object id = d.get("_id");
        String key = id instanceof ObjectId objectId ? objectId.toHexString() : String.valueOf(id);
        Update update = new Update().set("rev", key + ":0").set("modifiedAt", Date.from(now));
        if (d.get("createdDate") == null) {
            update.set("createdDate", id instanceof ObjectId objectId ? objectId.getDate() : Date.from(now));
        }
        if (d.get("maxAttempts") == null) {
            update.set("maxAttempts", lease.defaultMaxAttempts());
        }
        boolean held = "assigned".equals(d.get("status")) || "running".equals(d.get("status"));
        if (held && !(d.get("attempt") instanceof Integer attempt && attempt > 0)) {
            update.set("attempt", 1);
        }
        if (held && d.get("leaseExpiresAt") == null) {
            update.set("leaseExpiresAt", Date.from(now.plus(lease.seedTimeout()))).set("seedClaim", true);
        }
        // Through the driver itself: Spring's query mapping would turn an _id string of 24 hex digits into
        // an ObjectId, and the filter would then match nothing.
        return (int) mongo.getCollection("orders").updateOne(Filters.and(Filters.eq("_id", id),
                Filters.exists("rev", false)), update.getUpdateObject()).getModifiedCount();
    }

    /**
     * Outcomes are keyed by (order, attempt) now. The seed's outcomes ({@code status, jobId, loss,
     * metric}) get their job's order and the attempt that order is at (the seed ran each job once, so
     * that is attempt 1; an earlier version of this Boss kept one outcome per job, the one that ended its
     * current attempt), and that order points at the outcome: the job is done (or failed) with it. The
     * index that allowed one outcome per job goes. An outcome with no order, a second one for the same
     * attempt, or one for an order some other outcome finished keeps its own id as its order so that it
     * stays unique.
     *
     * <p>The order is finished before the outcome is linked: the query below finds only unlinked
     * outcomes, so if the Boss dies between the two writes, the next start finds this outcome again,
     * sees that its order already points at it, and links it.
     */
    private int outcomesPerAttempt() {
        var ops = mongo.indexOps("outcomes");
        if (ops.getIndexInfo().stream().anyMatch(index -> index.getName().equals("byJobId_unique"))) {
            ops.dropIndex("byJobId_unique");
        }
        Query query = Query.query(Criteria.where("orderId").exists(false)).with(Sort.by("_id"));
        Set<String> taken = new HashSet<>();
        int changed = 0;
        for (Document outcome : new ArrayList<>(mongo.find(query, Document.class, "outcomes"))) {
            try {
                linkSeedOutcome(outcome, taken);
                changed++;
            } catch (ConcurrentChange e) {
                throw e;
            } catch (RuntimeException e) {
                skipped("outcomes", outcome, e);
            }
        }
        return changed;
    }

    private void linkSeedOutcome(Document outcome, Set<String> taken) {
        ObjectId outcomeId = outcome.getObjectId("_id");
        Document order = outcome.get("jobId") instanceof String jobId
                ? mongo.findOne(new BasicQuery(new Document("jobId", jobId)), Document.class, "orders") : null;
        ObjectId orderId = outcomeId;
        int attempt = 0;
        if (order != null && order.get("_id") instanceof ObjectId candidate
                && (order.get("outcomeId") == null || outcomeId.equals(order.get("outcomeId")))) {
            int candidateAttempt = Math.max(1, order.get("attempt") instanceof Integer a ? a : 1);
            boolean free = taken.add(candidate + ":" + candidateAttempt)
                    && !mongo.exists(new BasicQuery(new Document("orderId", candidate).append("attempt", candidateAttempt)
                            .append("_id", new Document("$ne", outcomeId))), "outcomes");
            if (free) {
                orderId = candidate;
                attempt = candidateAttempt;
                if (order.get("outcomeId") == null && !finishWith(order, outcome)) {
                    // Someone wrote the order between our read and our write: link nothing now, and fail
                    // this start, so that the next one (with no marker yet) looks at both afresh.
                    throw new ConcurrentChange("order " + candidate + " changed while its seed outcome "
                            + outcomeId + " was being linked; restart to finish the migration");
                }
            }
        }
        mongo.updateFirst(new BasicQuery(new Document("_id", outcomeId)),
                new Update().set("orderId", orderId).set("attempt", attempt), "outcomes");
    }

    /** The order of a job that has an outcome is finished by it, as the seed's Boss never did; false if it changed. */
    private boolean finishWith(Document order, Document outcome) {
        boolean ok = Integer.valueOf(200).equals(outcome.get("status"));
        Object loss = outcome.get("loss") instanceof Number n ? n.doubleValue() : null;
        Update update = new Update().set("outcomeId", outcome.getObjectId("_id")).set("modifiedAt", Date.from(now))
                .set("rev", nextRev(order));
        if (ok) {
            update.set("loss", loss);
        }
        if (LIVE.contains(order.get("status"))) {
            String status = ok ? "done" : "failed";
            String reason = "outcome recorded by the seed's Boss";
            update.set("status", status).set("finishedAt", Date.from(now)).set("reason", reason)
                    .unset("leaseExpiresAt").push("history", new Document("status", status).append("at", Date.from(now))
                            .append("attempt", order.get("attempt") instanceof Integer a ? a : 1).append("reason", reason));
        }
        return mongo.updateFirst(new BasicQuery(new Document("_id", order.getObjectId("_id"))
                .append("rev", order.get("rev"))), update, "orders").getModifiedCount() == 1;
    }

    private static String nextRev(Document order) {
        String rev = order.getString("rev");
        long n = rev == null ? 0 : Long.parseLong(rev.substring(rev.indexOf(':') + 1));
        return order.getObjectId("_id").toHexString() + ":" + (n + 1);
    }

    /**
     * Leaderboards are kept from orders now: a done order carries its outcome's loss. Orders an
     * earlier version finished get it from their outcome.
     */
    private int lossOntoDoneOrders() {
        Query query = Query.query(Criteria.where("status").is("done").and("loss").exists(false)
                .and("outcomeId").exists(true));
        query.fields().include("_id").include("outcomeId").include("rev");
        int changed = 0;
        for (Document order : new ArrayList<>(mongo.find(query, Document.class, "orders"))) {
            try {
                Document outcome = mongo.findById(order.get("outcomeId"), Document.class, "outcomes");
                Object loss = outcome != null && outcome.get("loss") instanceof Number n ? n.doubleValue() : null;
                changed += (int) mongo.updateFirst(new BasicQuery(new Document("_id", order.getObjectId("_id"))
                                .append("rev", order.get("rev"))),
                        new Update().set("loss", loss).set("rev", nextRev(order)).set("modifiedAt", Date.from(now)),
                        "orders").getModifiedCount();
            } catch (RuntimeException e) {
                skipped("orders", order, e);
            }
        }
        return changed;
    }
}
