package com.maddatum.boss.fleet;

import com.maddatum.boss.config.BossProperties;
import com.maddatum.boss.store.StoreDurability;
import com.maddatum.boss.web.ApiProblem;
import com.maddatum.boss.worker.WorkerRegistry;
import com.mongodb.client.MongoCollection;
import com.mongodb.client.model.Filters;
import com.mongodb.client.model.Projections;
import com.mongodb.client.model.UpdateOptions;
import com.mongodb.client.model.Updates;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import org.bson.Document;
import org.bson.conversions.Bson;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.data.mongodb.core.MongoTemplate;
import org.springframework.stereotype.Component;

/**
 * Whether each node may be given work: drained (by an operator, or by the node itself before it stops)
 * or quarantined, both kept in the node's {@code workers} document ({@code drain}, {@code quarantine}),
 * so they survive a restart and every replica sees them.
 *
 * <p>Every claim asks, so the answer comes from memory. With the embedded store only one Boss runs and
 * memory is the truth, loaded at start-up and changed with every write. With a shared MongoDB another
 * replica may drain a node, so a node's answer is read again by {@code _id} when it is older than
 * {@code boss.fleet.standing-refresh}, and once more from the store after each claim.
 */
@Component
public class Standings {

    private static final Logger log = LoggerFactory.getLogger(Standings.class);

    /** Who asked for a drain: only a node's own drain is lifted when the node registers again. */
    public enum DrainedBy {
        OPERATOR("operator"), NODE("node");

        private final String wire;

        DrainedBy(String wire) {
            this.wire = wire;
        }

        public String wire() {
            return wire;
        }
    }

    /**
     * What memory keeps of a node; {@code rev} orders the writes, so a late read never undoes a newer one.
     * {@code incarnation} (set once when the document is made) tells a node's document from one made after
     * it was forgotten, whose {@code rev} starts again from nothing.
     */
    private record Standing(long rev, Object incarnation, boolean drained, boolean quarantined, Instant readAt) {
        boolean eligible() {
            return !drained && !quarantined;
        }
    }

    private static final Standing ELIGIBLE = new Standing(0, null, false, false, Instant.EPOCH);
    static final String DRAIN = "drain";
    static final String QUARANTINE = "quarantine";
    static final String REV = "standingRev";
    /** Set when a node's document is made (by a registration, a poll or a drain), never changed after. */
    static final String INCARNATION = WorkerRegistry.INCARNATION;

    private final MongoTemplate mongo;
    private final StoreDurability durability;
    private final Clock clock;
    private final Duration refresh;
    private final int maxKnown;
    private final ConcurrentHashMap<String, Standing> standings = new ConcurrentHashMap<>();

    Standings(MongoTemplate mongo, StoreDurability durability, Clock clock, BossProperties properties,
            WorkerRegistry registry, MeterRegistry meters) {
        this.mongo = mongo;
        this.durability = durability;
        this.clock = clock;
        this.refresh = properties.fleet().standingRefresh();
        this.maxKnown = properties.workers().maxKnown();
        load();
        registry.onRegister(this::registered);
        Gauge.builder("boss.workers.quarantined", standings, known -> known.values().stream()
                        .filter(Standing::quarantined).count())
                .description("workers quarantined, as this Boss knows them").register(meters);
        Gauge.builder("boss.workers.drained", standings, known -> known.values().stream()
                        .filter(Standing::drained).count())
                .description("workers drained, as this Boss knows them").register(meters);
    }

    private MongoCollection<Document> workers() {
        return mongo.getCollection(WorkerRegistry.COLLECTION);
    }

    /** Every drained or quarantined node, at start-up: what keeps them out after a restart. */
    private void load() {
        Instant now = clock.instant();
        for (Document d : workers().find(Filters.or(Filters.exists(DRAIN), Filters.exists(QUARANTINE)))
                .projection(Projections.include(DRAIN, QUARANTINE, REV, INCARNATION))) {
            standings.put(String.valueOf(d.get("_id")), of(d, now));
        }
        if (!standings.isEmpty()) {
            log.info("fleet standings loaded drainedOrQuarantined={}", standings.size());
        }
    }

    private static Standing of(Document d, Instant readAt) {
        if (d == null) {
            return new Standing(0, null, false, false, readAt);
        }
        long rev = d.get(REV) instanceof Number n ? n.longValue() : 0;
        return new Standing(rev, d.get(INCARNATION), d.get(DRAIN) != null, d.get(QUARANTINE) != null, readAt);
    }

    /** Whether the node may claim; from memory, read again when older than the refresh on a shared store. */
    public boolean mayClaim(String node) {
        Standing known = standings.get(node);
        if (durability.isEmbedded()) {
            return known == null || known.eligible();
        }
        Instant now = clock.instant();
        if (known != null && Duration.between(known.readAt(), now).abs().compareTo(refresh) < 0) {
            return known.eligible();
        }
        return reload(node).eligible();
    }

    /** Whether the node may claim, by the store's word where replicas share one (after a claim landed). */
    public boolean stillMayClaim(String node) {
        if (durability.isEmbedded()) {
            return mayClaim(node);
        }
        return reload(node).eligible();
    }

    /** Reads the node's standing from the store into memory, unless memory already holds a newer one. */
    Standing reload(String node) {
        Instant now = clock.instant();
        Document d = workers().find(Filters.eq("_id", node))
                .projection(Projections.include(DRAIN, QUARANTINE, REV, INCARNATION)).first();
        Standing read = of(d, now);
        // No document: the node was forgotten, and nothing holds it back. Another document than the one
        // memory read: its rev counts from nothing again, so it is taken as it is.
        Standing kept = standings.merge(node, read, (before, after) -> d == null
                || !java.util.Objects.equals(before.incarnation(), after.incarnation()) || after.rev() >= before.rev()
                ? after : before);
        if (kept.eligible() && durability.isEmbedded()) {
            standings.remove(node, kept); // embedded: absence is eligibility, so memory holds only the excluded
        }
        if (standings.size() > maxKnown) {
            // Node names come from requests: bound what is cached (embedded keeps only the excluded anyway).
            standings.entrySet().removeIf(e -> e.getValue().eligible());
        }
        return kept;
    }

    /**
     * Drains a node, known or not (a machine may be drained before its Worker first starts). A node's own
     * drain never replaces an operator's, which only an operator lifts.
     */
    public void drain(String node, DrainedBy by, String reason) {
        Document drain = new Document("by", by.wire()).append("reason", reason).append("at", Date.from(clock.instant()));
        if (by == DrainedBy.NODE) {
            // Which start of the Worker asked: only a later start (another bootId) lifts this drain.
            Document stored = workers().find(Filters.eq("_id", node)).projection(new Document("bootId", 1)).first();
            if (stored != null && stored.get("bootId") instanceof String bootId) {
                drain.append("bootId", bootId);
            }
        }
        Bson change = Updates.combine(Updates.set(DRAIN, drain), Updates.inc(REV, 1L));
        if (by == DrainedBy.OPERATOR) {
            workers().updateOne(Filters.eq("_id", node), Updates.combine(change, newNode()),
                    new UpdateOptions().upsert(true));
        } else if (workers().updateOne(Filters.and(Filters.eq("_id", node), Filters.ne(DRAIN + ".by", "operator")),
                change).getMatchedCount() == 0) {
            // Unknown, or drained by an operator: insert only if unknown; an operator's drain stays as it is.
            workers().updateOne(Filters.eq("_id", node), Updates.combine(Updates.setOnInsert(DRAIN, drain),
                    Updates.setOnInsert(REV, 1L), newNode()), new UpdateOptions().upsert(true));
        }
        durability.sync();
        reload(node);
        log.warn("worker drained node={} by={} reason={}", node, by.wire(), reason);
    }

    /** What a node's document needs when a drain creates it: the registry reads labels. */
    private Bson newNode() {
        return Updates.combine(Updates.setOnInsert("labels", List.of()),
                Updates.setOnInsert(WorkerRegistry.created(clock.instant())));
    }

    /** Lifts drain and quarantine and forgets the node's streak: only an operator calls this. */
    public void undrain(String node) {
        long matched = workers().updateOne(Filters.eq("_id", node), Updates.combine(Updates.unset(DRAIN),
                Updates.unset(QUARANTINE), Updates.set(Endings.ENDINGS, List.of()), Updates.inc(Endings.SEQ, 1L),
                Updates.inc(REV, 1L))).getMatchedCount();
        if (matched == 0) {
            throw ApiProblem.notFound("worker", node);
        }
        durability.sync();
        reload(node);
        log.warn("worker undrained node={} by=operator", node);
    }

    /**
     * A node that registers again after draining itself takes work again, when it is a new start of the
     * Worker (a restarted pod): a registration from the same start (its GPUs changed while its preStop
     * waited for the running job) must not undo the drain its preStop asked for. A Worker that sends no
     * {@code bootId} (older ones) is taken to have restarted. A drain that recorded no {@code bootId} (the
     * pod stopped before its Worker first registered) is not lifted by one that sends it: nothing tells
     * whether that registration is the stopping process's.
     */
    private void registered(String node, String bootId) {
        Bson ownDrain = Filters.and(Filters.eq("_id", node), Filters.eq(DRAIN + ".by", DrainedBy.NODE.wire()));
        // $ne alone would also match a drain with no bootId at all.
        Bson filter = bootId == null ? ownDrain
                : Filters.and(ownDrain, Filters.exists(DRAIN + ".bootId"), Filters.ne(DRAIN + ".bootId", bootId));
        if (workers().updateOne(filter, Updates.combine(Updates.unset(DRAIN), Updates.inc(REV, 1L))).getModifiedCount() > 0) {
            log.info("worker's own drain lifted: it registered again node={}", node);
        }
        reload(node);
    }
}
