package com.maddatum.boss.worker;

import com.maddatum.boss.config.BossProperties;
import com.maddatum.boss.store.StoreDurability;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import com.maddatum.boss.web.ApiProblem;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.bson.Document;
import org.springframework.data.mongodb.core.MongoTemplate;
import org.springframework.data.mongodb.core.query.Criteria;
import org.springframework.data.mongodb.core.query.Query;
import org.springframework.data.mongodb.core.query.Update;
import org.springframework.stereotype.Component;

/**
 * The {@code workers} collection, keyed by node name, with the labels a node offers cached in
 * memory because every claim needs them. "Last seen" is kept in memory and written through at
 * most every {@link #SEEN_WRITE_EVERY}, so polling workers do not cost a write per poll.
 */
@Component
public class WorkerRegistry {

    public static final String NODE_NAME = "[A-Za-z0-9][A-Za-z0-9_.:@-]{0,127}";
    static final String COLLECTION = "workers";
    static final Duration SEEN_WRITE_EVERY = Duration.ofSeconds(10);

    private final MongoTemplate mongo;
    private final StoreDurability durability;
    private final Clock clock;
    private final Map<String, Set<String>> labels = new ConcurrentHashMap<>();
    private final Map<String, Instant> lastSeen = new ConcurrentHashMap<>();
    private final Map<String, Instant> lastSeenWritten = new ConcurrentHashMap<>();

    WorkerRegistry(MongoTemplate mongo, StoreDurability durability, Clock clock, BossProperties properties,
            MeterRegistry meters) {
        this.mongo = mongo;
        this.durability = durability;
        this.clock = clock;
        Duration offlineAfter = properties.workers().offlineAfter();
        Gauge.builder("boss.workers.online", lastSeen, seen -> seen.values().stream()
                        .filter(at -> Duration.between(at, clock.instant()).compareTo(offlineAfter) <= 0).count())
                .description("workers heard from within boss.workers.offline-after").register(meters);
    }

    /** Node names appear in URLs, logs and the store; keep them to a safe alphabet. */
    public static String checkNodeName(String name, String field) {
        if (name == null || !name.matches(NODE_NAME)) {
            throw ApiProblem.invalidField(field,
                    "A node name is 1-128 characters of letters, digits and _ . : @ -, starting with a letter or digit.");
        }
        return name;
    }

    Document register(WorkerRegistration registration) {
        String name = checkNodeName(registration.effectiveName(), "name");
        Instant now = clock.instant();
        List<String> nodeLabels = registration.labels() == null ? List.of() : List.copyOf(registration.labels());
        Update update = new Update()
                .set("labels", nodeLabels)
                .set("slots", registration.slots() == null ? 1 : registration.slots())
                .set("host", registration.host())
                .set("gpus", registration.gpus() == null ? List.of() : registration.gpus().stream()
                        .map(g -> new Document("index", g.index()).append("model", g.model())
                                .append("memoryMb", g.memoryMb()))
                        .toList())
                .set("scripts", registration.scripts() == null ? List.of() : registration.scripts())
                .set("lastSeenAt", Date.from(now))
                .setOnInsert("registeredAt", Date.from(now));
        mongo.upsert(Query.query(Criteria.where("_id").is(name)),
                update, COLLECTION);
        durability.sync();
        labels.put(name, Set.copyOf(nodeLabels));
        lastSeen.put(name, now);
        lastSeenWritten.put(name, now);
        return mongo.findById(name, Document.class, COLLECTION);
    }

    /** The labels a node registered; a node that never registered (the seed's worker) has none. */
    public Set<String> labelsOf(String node) {
        return labels.computeIfAbsent(node, n -> Optional
                .ofNullable(mongo.findById(n, Document.class, COLLECTION))
                .map(d -> Set.copyOf(d.getList("labels", String.class, List.of())))
                .orElse(Set.of()));
    }

    public void seen(String node) {
        Instant now = clock.instant();
        lastSeen.put(node, now);
        Instant written = lastSeenWritten.get(node);
        if (written == null || Duration.between(written, now).compareTo(SEEN_WRITE_EVERY) >= 0) {
            lastSeenWritten.put(node, now);
            mongo.upsert(Query.query(Criteria.where("_id").is(node)),
                    new Update().set("lastSeenAt", Date.from(now)).setOnInsert("registeredAt", Date.from(now))
                            .setOnInsert("labels", List.of()),
                    COLLECTION);
        }
    }

    List<Document> all() {
        return mongo.findAll(Document.class, COLLECTION);
    }

    /** The freshest "last seen": memory beats the store, which is written through lazily. */
    Instant lastSeen(Document worker) {
        Instant inMemory = lastSeen.get(worker.getString("_id"));
        Date stored = worker.getDate("lastSeenAt");
        Instant fromStore = stored == null ? null : stored.toInstant();
        if (inMemory == null) {
            return fromStore;
        }
        return fromStore == null || inMemory.isAfter(fromStore) ? inMemory : fromStore;
    }
}
