package com.maddatum.boss.fleet;

import com.maddatum.boss.config.BossProperties;
import com.maddatum.boss.store.StoreDurability;
import com.maddatum.boss.worker.WorkerRegistry;
import com.mongodb.client.MongoCollection;
import com.mongodb.client.model.Filters;
import com.mongodb.client.model.Projections;
import com.mongodb.client.model.Updates;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Date;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.UnaryOperator;
import java.util.stream.Collectors;
import org.bson.Document;
import org.bson.conversions.Bson;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.data.mongodb.core.MongoTemplate;
import org.springframework.stereotype.Component;

/**
 * Each node's last {@value #KEPT} attempt endings, in its {@code workers} document, and the quarantine
 * they decide. A change is one conditional write on the document's {@code endingsSeq}: the new record
 * and, when {@link Streak} says so, the quarantine with its evidence, together; a write that loses to
 * another replica's reads the record again and retries. So the record holds across replicas and
 * restarts, and a node is quarantined exactly once however many replicas see its failures.
 */
@Component
class Endings {

    private static final Logger log = LoggerFactory.getLogger(Endings.class);

    static final String ENDINGS = "endings";
    static final String SEQ = "endingsSeq";
    static final int KEPT = 20;
    private static final int TRIES = 8;

    private final MongoTemplate mongo;
    private final StoreDurability durability;
    private final Clock clock;
    private final Standings standings;
    private final int quarantineAfter;
    private final Duration leasePeriod;
    private final Counter quarantines;

    Endings(MongoTemplate mongo, StoreDurability durability, Clock clock, Standings standings,
            BossProperties properties, MeterRegistry meters) {
        this.mongo = mongo;
        this.durability = durability;
        this.clock = clock;
        this.standings = standings;
        this.quarantineAfter = properties.fleet().quarantineAfter();
        this.leasePeriod = properties.lease().timeout();
        this.quarantines = Counter.builder("boss.workers.quarantines")
                .description("workers this Boss quarantined").register(meters);
    }

    boolean enabled() {
        return quarantineAfter > 0;
    }

    /**
     * Adds an ending to the node's record. A lease expiry within one lease period of one already recorded
     * is the same loss (a node with many slots that died once), and is not recorded again: were each kept,
     * the last {@value #KEPT} endings of a node with more slots than that would never hold the K separate
     * losses a quarantine needs, however often it crashed.
     */
    void add(String node, RecordedEnding ending) {
        change(node, endings -> {
            if (ending.kind() == RecordedEnding.Kind.LEASE_EXPIRED && endings.stream().anyMatch(e ->
                    e.kind() == RecordedEnding.Kind.LEASE_EXPIRED
                            && Duration.between(e.at(), ending.at()).abs().compareTo(leasePeriod) < 0)) {
                return endings;
            }
            List<RecordedEnding> added = new ArrayList<>(endings);
            added.add(ending);
            return added;
        });
    }

    /** Turns the node's pending script failure on {@code orderId} into {@code kind}. */
    void settle(String node, String orderId, RecordedEnding.Kind kind) {
        change(node, endings -> endings.stream()
                .map(e -> e.kind() == RecordedEnding.Kind.SCRIPT_PENDING && orderId.equals(e.orderId()) ? e.as(kind) : e)
                .toList());
    }

    /**
     * The newest {@value #KEPT} settled endings and, apart, the newest {@value #KEPT} script failures still
     * waiting for their second opinion: a node that fails scripts fast piles up pending ones while the other
     * nodes take hours to give the opinions, and a pending failure trimmed before it settles can never
     * count against the node.
     */
    static List<RecordedEnding> trimmed(List<RecordedEnding> oldestFirst) {
        List<RecordedEnding> kept = new ArrayList<>();
        int settled = 0;
        int pending = 0;
        for (int i = oldestFirst.size() - 1; i >= 0; i--) {
            RecordedEnding ending = oldestFirst.get(i);
            boolean waits = ending.kind() == RecordedEnding.Kind.SCRIPT_PENDING;
            if (waits ? pending++ < KEPT : settled++ < KEPT) {
                kept.add(ending);
            }
        }
        java.util.Collections.reverse(kept);
        return kept;
    }

    private MongoCollection<Document> workers() {
        return mongo.getCollection(WorkerRegistry.COLLECTION);
    }

    private void change(String node, UnaryOperator<List<RecordedEnding>> edit) {
        for (int tries = 0; tries < TRIES; tries++) {
            Document d = workers().find(Filters.eq("_id", node))
                    .projection(Projections.include(ENDINGS, SEQ, Standings.QUARANTINE)).first();
            if (d == null) {
                return; // forgotten (or never seen): there is no node to hold it against
            }
            List<RecordedEnding> before = new ArrayList<>();
            for (Document e : d.getList(ENDINGS, Document.class, List.of())) {
                RecordedEnding parsed = RecordedEnding.fromDocument(e);
                if (parsed != null) {
                    before.add(parsed);
                }
            }
            List<RecordedEnding> after = edit.apply(before);
            if (after.equals(before)) {
                return;
            }
            after = trimmed(after);
            long seq = d.get(SEQ) instanceof Number n ? n.longValue() : 0;
            List<RecordedEnding> evidence = d.get(Standings.QUARANTINE) != null ? List.of()
                    : Streak.evidence(after, quarantineAfter, leasePeriod);
            List<Bson> updates = new ArrayList<>(List.of(
                    Updates.set(ENDINGS, after.stream().map(RecordedEnding::toDocument).toList()),
                    Updates.set(SEQ, seq + 1)));
            Document quarantine = evidence.isEmpty() ? null : quarantine(evidence);
            if (quarantine != null) {
                updates.add(Updates.set(Standings.QUARANTINE, quarantine));
                updates.add(Updates.inc(Standings.REV, 1L));
            }
            Bson expected = Filters.and(Filters.eq("_id", node),
                    seq == 0 ? Filters.exists(SEQ, false) : Filters.eq(SEQ, seq));
            if (workers().updateOne(expected, Updates.combine(updates)).getModifiedCount() == 1) {
                if (quarantine != null) {
                    durability.sync();
                    standings.reload(node);
                    quarantines.increment();
                    log.warn("worker quarantined node={} reason={} orders={}", node, quarantine.getString("reason"),
                            evidence.stream().map(RecordedEnding::orderId).toList());
                }
                return;
            }
        }
        log.warn("attempt ending not recorded: the node's record kept changing node={}", node);
    }

    private Document quarantine(List<RecordedEnding> evidence) {
        Map<String, Long> byError = evidence.stream().collect(Collectors.groupingBy(
                e -> e.kind().wire() + (e.errorType() == null ? "" : " " + e.errorType()), LinkedHashMap::new,
                Collectors.counting()));
        String reason = "the last " + quarantineAfter + " attempts on this node failed in ways that count against it ("
                + byError.entrySet().stream().map(e -> e.getValue() + "x " + e.getKey())
                        .collect(Collectors.joining(", ")) + ")";
        return new Document("reason", reason).append("at", Date.from(clock.instant()))
                .append("evidence", evidence.stream().map(RecordedEnding::toDocument).toList());
    }
}
