package com.maddatum.boss.store;

import com.maddatum.boss.config.BossProperties;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Date;
import java.util.HashSet;
import java.util.Set;
import org.bson.Document;
import org.bson.types.ObjectId;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
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

    private final MongoTemplate mongo;
    private final StoreDurability durability;
    private final Instant now;
    private final BossProperties.Lease lease;

    public StoreMigrations(MongoTemplate mongo, StoreDurability durability, Clock clock, BossProperties properties) {
        this.mongo = mongo;
        this.durability = durability;
        this.now = clock.instant();
        this.lease = properties.lease();
        once("2026-12-seed-orders", this::adoptSeedOrders);
        once("2026-12-outcomes-per-attempt", this::outcomesPerAttempt);
        once("2026-12-loss-on-done-orders", this::lossOntoDoneOrders);
    }

    private interface Migration {
        int run();
    }

    private void once(String name, Migration migration) {
        if (mongo.exists(Query.query(Criteria.where("_id").is(name)), COLLECTION)) {
            return;
        }
        int changed = migration.run();
        mongo.insert(new Document("_id", name).append("appliedAt", Date.from(now)).append("changed", changed),
                COLLECTION);
        durability.sync();
        log.info("store migration applied migration={} changed={}", name, changed);
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
            ObjectId id = d.getObjectId("_id");
            Update update = new Update().set("rev", id.toHexString() + ":0").set("modifiedAt", Date.from(now));
            if (d.get("createdDate") == null) {
                update.set("createdDate", id.getDate());
            }
            if (d.get("maxAttempts") == null) {
                update.set("maxAttempts", lease.defaultMaxAttempts());
            }
            boolean held = "assigned".equals(d.getString("status")) || "running".equals(d.getString("status"));
            if (held && !(d.get("attempt") instanceof Integer attempt && attempt > 0)) {
                update.set("attempt", 1);
            }
            if (held && d.get("leaseExpiresAt") == null) {
                update.set("leaseExpiresAt", Date.from(now.plus(lease.seedTimeout()))).set("seedClaim", true);
            }
            changed += (int) mongo.updateFirst(new BasicQuery(new Document("_id", id)
                    .append("rev", new Document("$exists", false))), update, "orders").getModifiedCount();
        }
        return changed;
    }

    /**
     * Outcomes are keyed by (order, attempt) now. The seed's outcomes ({@code status, jobId, loss,
     * metric}) get their job's order and attempt, and that order points at the outcome: the job is done
     * (or failed) with it. The index that allowed one outcome per job goes. An outcome with no order, or
     * a second one for the same attempt, keeps its own id as its order so that it stays unique.
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
            Document order = outcome.getString("jobId") == null ? null
                    : mongo.findOne(new BasicQuery(new Document("jobId", outcome.getString("jobId"))), Document.class,
                            "orders");
            ObjectId orderId = order == null ? outcome.getObjectId("_id") : order.getObjectId("_id");
            int attempt = order == null ? 0 : Math.max(1, order.get("attempt") instanceof Integer a ? a : 1);
            if (!taken.add(orderId + ":" + attempt) || mongo.exists(new BasicQuery(new Document("orderId", orderId)
                    .append("attempt", attempt)), "outcomes")) {
                orderId = outcome.getObjectId("_id");
                attempt = 0;
                order = null;
            }
            mongo.updateFirst(new BasicQuery(new Document("_id", outcome.getObjectId("_id"))),
                    new Update().set("orderId", orderId).set("attempt", attempt), "outcomes");
            changed++;
            if (order != null && order.get("outcomeId") == null) {
                finishWith(order, outcome);
            }
        }
        return changed;
    }

    /** The order of a job that has an outcome is finished by it, as the seed's Boss never did. */
    private void finishWith(Document order, Document outcome) {
        boolean ok = Integer.valueOf(200).equals(outcome.get("status"));
        Object loss = outcome.get("loss") instanceof Number n ? n.doubleValue() : null;
        Update update = new Update().set("outcomeId", outcome.getObjectId("_id")).set("modifiedAt", Date.from(now))
                .set("rev", nextRev(order));
        if (ok) {
            update.set("loss", loss);
        }
        if (LIVE.contains(order.getString("status"))) {
            String status = ok ? "done" : "failed";
            String reason = "outcome recorded by the seed's Boss";
            update.set("status", status).set("finishedAt", Date.from(now)).set("reason", reason)
                    .unset("leaseExpiresAt").push("history", new Document("status", status).append("at", Date.from(now))
                            .append("attempt", order.get("attempt") instanceof Integer a ? a : 1).append("reason", reason));
        }
        mongo.updateFirst(new BasicQuery(new Document("_id", order.getObjectId("_id")).append("rev", order.get("rev"))),
                update, "orders");
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
            Document outcome = mongo.findById(order.getObjectId("outcomeId"), Document.class, "outcomes");
            Object loss = outcome != null && outcome.get("loss") instanceof Number n ? n.doubleValue() : null;
            changed += (int) mongo.updateFirst(new BasicQuery(new Document("_id", order.getObjectId("_id"))
                            .append("rev", order.get("rev"))),
                    new Update().set("loss", loss).set("rev", nextRev(order)).set("modifiedAt", Date.from(now)),
                    "orders").getModifiedCount();
        }
        return changed;
    }
}
