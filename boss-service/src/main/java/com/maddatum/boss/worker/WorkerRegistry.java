package com.maddatum.boss.worker;

import com.maddatum.boss.config.BossProperties;
import com.maddatum.boss.store.StoreDurability;
import com.maddatum.boss.web.ApiProblem;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Date;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import com.mongodb.client.model.Filters;
import com.mongodb.client.model.UpdateOptions;
import org.bson.Document;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.data.domain.Sort;
import org.springframework.data.mongodb.core.MongoTemplate;
import org.springframework.data.mongodb.core.query.Criteria;
import org.springframework.data.mongodb.core.query.Query;
import org.springframework.data.mongodb.core.query.Update;
import org.springframework.scheduling.annotation.Scheduled;
import org.springframework.stereotype.Component;

/**
 * The {@code workers} collection, keyed by node name, with the labels a node offers cached in
 * memory because every claim needs them. "Last seen" is kept in memory and written through at
 * most every {@link #SEEN_WRITE_EVERY}, so polling workers do not cost a write per poll.
 *
 * <p>Node names come from requests, so what is kept of them is bounded: memory holds at most
 * {@code boss.workers.max-known} nodes (the least recently seen are dropped first, and read again from
 * the store if they come back), and the store forgets nodes not seen for {@code boss.workers.forget-after}
 * and, beyond {@code max-known}, the least recently seen.
 */
@Component
public class WorkerRegistry {

    private static final Logger log = LoggerFactory.getLogger(WorkerRegistry.class);

    public static final String NODE_NAME = "[A-Za-z0-9][A-Za-z0-9_.:@-]{0,127}";
    public static final String COLLECTION = "workers";
    /**
     * Set once when a node's document is made, never changed: a node forgotten and back has another, which
     * tells readers that counters kept in the old document (the fleet's {@code standingRev}) start over.
     */
    public static final String INCARNATION = "incarnation";

    /** The fields a node's document gets once, when it is made, whoever makes it (a registration, a poll, a drain). */
    public static Document created(Instant now) {
        return new Document(INCARNATION, new org.bson.types.ObjectId()).append("registeredAt", Date.from(now));
    }
    static final Duration SEEN_WRITE_EVERY = Duration.ofSeconds(10);
    static final int TRIM_BATCHES = 10;

    /** What memory keeps of a node. */
    /** What memory keeps of a node; {@code readAt}: when its registration was last read (or written) here. */
    private record Node(Set<String> labels, int slots, Long gpuMemoryMiB, Instant lastSeen, Instant lastSeenWritten,
            Instant readAt) {}



    /** A node heard from within {@code boss.workers.offline-after}: what it can run, and how many at once. */
    /**
     * A node heard from within {@code boss.workers.offline-after}: what it can run, how many at once, and the
     * most GPU memory one of its slots claims with, in MiB (a GPU shared by slots is shared; null: no GPU).
     */
    public record LiveNode(String name, Set<String> labels, int slots, Long gpuMemoryMiB) {

        /** Whether some slot of this node could be given an order needing {@code mib} of GPU memory (null: none). */
        public boolean hasGpuMemory(Long mib) {
            return mib == null || (gpuMemoryMiB != null && gpuMemoryMiB >= mib);
        }
    }

    private final MongoTemplate mongo;
    private final StoreDurability durability;
    private final Clock clock;
    private final BossProperties.Workers settings;
    private final Duration rereadEvery;
    private final Map<String, Node> nodes = new ConcurrentHashMap<>();
    private final List<java.util.function.BiConsumer<String, String>> registrationListeners =
            new java.util.concurrent.CopyOnWriteArrayList<>();

    WorkerRegistry(MongoTemplate mongo, StoreDurability durability, Clock clock, BossProperties properties,
            MeterRegistry meters) {
        this.mongo = mongo;
        this.durability = durability;
        this.clock = clock;
        this.settings = properties.workers();
        this.rereadEvery = properties.fleet().standingRefresh();
        if (!durability.isEmbedded()) {
            // all() and forgetStale(): the fleet newest-seen first, and the nodes not seen since a cutoff.
            // (The embedded server ignores non-unique indexes; the fleet is small there anyway.)
            mongo.indexOps(COLLECTION).createIndex(new org.springframework.data.mongodb.core.index.Index()
                    .on("lastSeenAt", Sort.Direction.DESC).named("fleet_lastSeenAt"));
        }
        Gauge.builder("boss.workers.online", nodes, known -> known.values().stream()
                        .filter(n -> Duration.between(n.lastSeen(), clock.instant()).compareTo(settings.offlineAfter()) <= 0)
                        .count())
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
        int slots = registration.slots() == null ? 1 : registration.slots();
        Update update = new Update()
                .set("labels", nodeLabels)
                .set("slots", slots)
                .set("host", registration.host())
                .set("gpus", registration.gpus() == null ? List.of() : registration.gpus().stream()
                        .map(g -> new Document("index", g.index()).append("model", g.model())
                                .append("memoryMb", g.memoryMb()))
                        .toList())
                .set("scripts", registration.scripts() == null ? List.of() : registration.scripts())
                .set("failedGpus", registration.failedGpus() == null ? List.of() : registration.failedGpus().stream()
                        .map(g -> new Document("index", g.index()).append("model", g.model())
                                .append("memoryMb", g.memoryMb()).append("reason", g.reason()))
                        .toList())
                .set("lastSeenAt", Date.from(now));
        if (registration.bootId() == null) {
            update.unset("bootId");
        } else {
            update.set("bootId", registration.bootId());
        }
        if (!registration.listsItsDataFiles()) {
            update.unset(DATA_FILES); // says nothing: no list, or a full one that may have been cut short
        } else {
            update.set(DATA_FILES, registration.dataFiles().stream().sorted().distinct().toList());
        }
        if (registration.cpuOnlyBecause() == null) {
            update.unset("cpuOnlyBecause");
        } else {
            update.set("cpuOnlyBecause", registration.cpuOnlyBecause());
        }
        upsert(name, update, now);
        advertised = null; // this registration may change what the fleet advertises
        registrationListeners.forEach(listener -> listener.accept(name, registration.bootId()));
        durability.sync();
        remember(name, new Node(Set.copyOf(nodeLabels), slots, slotGpuMemory(registration.gpus(), slots), now, now, now));
        return find(name);
    }

    /**
     * Told the node's name each time a node registers, before the registration is answered (a drain the
     * node asked for itself is lifted then, see the fleet package).
     */
    public void onRegister(java.util.function.BiConsumer<String, String> listener) {
        registrationListeners.add(listener);
    }

    /** The node's document, as stored. */
    public java.util.Optional<Document> one(String node) {
        return java.util.Optional.ofNullable(find(node));
    }

    /** The labels a node registered; a node that never registered (the seed's worker) has none. */
    public Set<String> labelsOf(String node) {
        return known(node).labels();
    }

    /** The node as memory holds it, read from the store (or made up: no labels, one slot) when memory has none. */
    private Node known(String node) {
        Node known = nodes.get(node);
        Instant now = clock.instant();
        if (known != null && (durability.isEmbedded()
                || Duration.between(known.readAt(), now).abs().compareTo(rereadEvery) < 0)) {
            // Embedded: only this Boss writes the store, so memory is the truth. With replicas sharing a
            // MongoDB, a node may register again on another one (a Worker whose GPU failed comes back
            // CPU-only): its copy here is read again once older than boss.fleet.standing-refresh, or this
            // replica would keep handing GPU work to a node that can no longer run it.
            return known;
        }
        Offer offer = Offer.of(mongo.getCollection(COLLECTION).find(Filters.eq("_id", node)).projection(Offer.FIELDS).first());
        Node loaded = known == null
                ? new Node(offer.labels(), offer.slots(), offer.gpuMemoryMiB(), Instant.EPOCH, Instant.EPOCH, now)
                : new Node(offer.labels(), offer.slots(), offer.gpuMemoryMiB(), known.lastSeen(), known.lastSeenWritten(), now);
        remember(node, loaded);
        return loaded;
    }

    public void seen(String node) {
        Instant now = clock.instant();
        Node before = known(node);
        Instant written = before.lastSeenWritten();
        boolean write = Duration.between(written, now).compareTo(SEEN_WRITE_EVERY) >= 0;
        remember(node, new Node(before.labels(), before.slots(), before.gpuMemoryMiB(), now, write ? now : written,
                before.readAt()));
        if (write) {
            upsert(node, new Update().set("lastSeenAt", Date.from(now)).setOnInsert("labels", List.of()), now);
        }
    }

    /*
     * Node names are kept as string ids through the driver's own collection: Spring Data would turn a
     * name that happens to be 24 hex digits into an ObjectId, and that node would then break the fleet view.
     */
    private void upsert(String node, Update update, Instant now) {
        created(now).forEach(update::setOnInsert);
        mongo.getCollection(COLLECTION).updateOne(Filters.eq("_id", node), update.getUpdateObject(),
                new UpdateOptions().upsert(true));
    }

    private Document find(String node) {
        return mongo.getCollection(COLLECTION).find(Filters.eq("_id", node)).first();
    }

    private void remember(String name, Node node) {
        nodes.put(name, node);
        if (nodes.size() > settings.maxKnown()) {
            // Over the cap: drop the least recently seen tenth (they are read again if they come back).
            nodes.entrySet().stream().sorted(Comparator.comparing(e -> e.getValue().lastSeen()))
                    .limit(Math.max(1, settings.maxKnown() / 10)).map(Map.Entry::getKey).toList()
                    .forEach(nodes::remove);
        }
    }

    /**
     * The nodes heard from within {@code boss.workers.offline-after}. Walks the nodes in memory (at most
     * {@code boss.workers.max-known}), never the store.
     */
    public List<LiveNode> live() {
        Instant now = clock.instant();
        Instant cutoff = now.minus(settings.offlineAfter());
        Map<String, LiveNode> live = new java.util.LinkedHashMap<>();
        if (!durability.isEmbedded()) {
            // Replicas sharing a MongoDB: a Worker may talk to another replica only, so this one's memory
            // does not know it; the store does.
            storedLive(now).forEach(node -> live.put(node.name(), node));
        }
        nodes.forEach((name, node) -> {
            if (!node.lastSeen().isBefore(cutoff)) {
                // The store's registration, read within the second, is fresher than memory's copy, which a
                // registration on another replica does not reach.
                live.putIfAbsent(name, new LiveNode(name, node.labels(), node.slots(), node.gpuMemoryMiB()));
            }
        });
        return List.copyOf(live.values());
    }

    private record StoredLive(Instant readAt, List<LiveNode> nodes) {}

    private volatile StoredLive storedLive;

    /**
     * The nodes the store has seen within {@code offline-after} (plus the write-through interval, since
     * "last seen" is written lazily), read at most once a second: every view of a waiting job asks.
     */
    private List<LiveNode> storedLive(Instant now) {
        StoredLive cached = storedLive;
        if (cached != null && Duration.between(cached.readAt(), now).abs().compareTo(Duration.ofSeconds(1)) < 0) {
            return cached.nodes();
        }
        Date since = Date.from(now.minus(settings.offlineAfter()).minus(SEEN_WRITE_EVERY));
        List<LiveNode> found = new ArrayList<>();
        for (Document d : mongo.getCollection(COLLECTION).find(Filters.gte("lastSeenAt", since))
                .projection(Offer.FIELDS).limit(settings.maxKnown())) {
            Offer offer = Offer.of(d);
            found.add(new LiveNode(String.valueOf(d.get("_id")), offer.labels(), offer.slots(), offer.gpuMemoryMiB()));
        }
        storedLive = new StoredLive(now, List.copyOf(found));
        return found;
    }

    static final String DATA_FILES = "dataFiles";
    /** How long a reading of what the fleet advertises is used; a registration here forgets it at once. */
    static final Duration ADVERTISED_FOR = Duration.ofSeconds(1);

    private record Advertised(Instant readAt, Optional<Set<String>> files) {}

    private volatile Advertised advertised;

    /**
     * Every data file name registered Workers advertise, or empty when that says nothing: no node is known,
     * or some known node advertises nothing (a Worker that registered without {@code dataFiles}, such as the
     * seed's, or with a full list, which may have been cut short; or a node only known from its polls or a
     * drain). Read from the store (with replicas, a Worker
     * may have registered on another one), at most once a second, since every job submitted with a
     * {@code dataFileName} that is no dataset asks; only the field is read, never the rest of the documents.
     */
    public Optional<Set<String>> advertisedDataFiles() {
        Instant now = clock.instant();
        Advertised cached = advertised;
        if (cached != null && Duration.between(cached.readAt(), now).abs().compareTo(ADVERTISED_FOR) < 0) {
            return cached.files();
        }
        Set<String> files = new java.util.HashSet<>();
        boolean any = false;
        boolean silent = false;
        for (Document node : mongo.getCollection(COLLECTION).find().projection(new Document(DATA_FILES, 1))
                .limit(settings.maxKnown())) {
            any = true;
            if (!(node.get(DATA_FILES) instanceof List<?> names)
                    || names.size() >= WorkerRegistration.MAX_DATA_FILES) {
                silent = true;
                break;
            }
            names.forEach(n -> files.add(String.valueOf(n)));
        }
        Optional<Set<String>> answer = any && !silent ? Optional.of(Set.copyOf(files)) : Optional.empty();
        advertised = new Advertised(now, answer);
        return answer;
    }

    int knownInMemory() {
        return nodes.size();
    }

    /** Every known node, at most {@code max-known}: the fleet view reads this. */
    public List<Document> all() {
        Query query = new Query().with(Sort.by(Sort.Direction.DESC, "lastSeenAt")).limit(settings.maxKnown());
        return mongo.find(query, Document.class, COLLECTION);
    }

    /** The freshest "last seen": memory beats the store, which is written through lazily. */
    public Instant lastSeen(Document worker) {
        Node inMemory = nodes.get(String.valueOf(worker.get("_id")));
        Date stored = worker.getDate("lastSeenAt");
        Instant fromStore = stored == null ? null : stored.toInstant();
        if (inMemory == null || inMemory.lastSeen().equals(Instant.EPOCH)) {
            return fromStore;
        }
        return fromStore == null || inMemory.lastSeen().isAfter(fromStore) ? inMemory.lastSeen() : fromStore;
    }

    /**
     * Removes nodes not seen for {@code forget-after}, then the least recently seen beyond
     * {@code max-known}, a thousand at a time and at most {@link #TRIM_BATCHES} thousand a run, so that
     * names sent by a misbehaving client go within minutes and never all at once.
     */
    @Scheduled(fixedDelayString = "PT10M", initialDelayString = "PT1M")
    int forgetStale() {
        Instant cutoff = clock.instant().minus(settings.forgetAfter());
        // A node an operator drained, or a quarantined one, is kept however long it is away: it must not come
        // back with work. A node's own drain (a stopped pod's preStop; pod names are never reused) is not.
        long forgotten = mongo.remove(Query.query(Criteria.where("lastSeenAt").lt(Date.from(cutoff))
                .and("drain.by").ne("operator").and("quarantine").exists(false)), COLLECTION).getDeletedCount();
        long excess;
        // At most TRIM_BATCHES batches a run: a flood of names is trimmed over a few runs, never in one
        // long stall; and a batch that deletes nothing (others registering as fast) ends the run.
        for (int batch = 0; batch < TRIM_BATCHES
                && (excess = mongo.count(new Query(), COLLECTION) - settings.maxKnown()) > 0; batch++) {
            Query oldest = new Query(Criteria.where("drain.by").ne("operator").and("quarantine").exists(false))
                    .with(Sort.by(Sort.Direction.ASC, "lastSeenAt")).limit((int) Math.min(excess, 1000));
            oldest.fields().include("_id");
            List<Object> ids = mongo.find(oldest, Document.class, COLLECTION).stream().map(d -> d.get("_id")).toList();
            long deleted = ids.isEmpty() ? 0 : mongo.getCollection(COLLECTION).deleteMany(Filters.in("_id", ids))
                    .getDeletedCount();
            forgotten += deleted;
            if (deleted == 0) {
                break;
            }
        }
        nodes.entrySet().removeIf(e -> e.getValue().lastSeen().isAfter(Instant.EPOCH)
                && e.getValue().lastSeen().isBefore(cutoff));
        if (forgotten > 0) {
            durability.sync();
            log.info("workers forgotten count={} notSeenSince={}", forgotten, cutoff);
        }
        return (int) forgotten;
    }

    /**
     * The most GPU memory one slot of the node can claim with, or null without a GPU. Slots sharing a GPU
     * each claim their share of it (the Worker binds slot i to GPU i mod n of the healthy GPUs it lists), so
     * a node with two slots on one 80 GB card offers 40 GB a slot, not 80: this is what tells whether
     * another node could run an order, and what the queue place and the autoscaler count on.
     */
    static Long slotGpuMemory(int slots, List<Long> memories) {
        List<Long> gpus = memories.stream().filter(java.util.Objects::nonNull).toList();
        if (gpus.isEmpty() || slots < 1) {
            return null;
        }
        long best = 0;
        for (int j = 0; j < gpus.size(); j++) {
            int sharing = slots / gpus.size() + (j < slots % gpus.size() ? 1 : 0);
            if (sharing > 0) {
                best = Math.max(best, gpus.get(j) / sharing);
            } else {
                best = Math.max(best, gpus.get(j)); // fewer slots than GPUs: the Worker may move a slot to any
            }
        }
        return best;
    }

    private static Long slotGpuMemory(List<WorkerRegistration.Gpu> gpus, int slots) {
        return gpus == null ? null : slotGpuMemory(slots, gpus.stream().map(WorkerRegistration.Gpu::memoryMb).toList());
    }

    /** What a node offers to claims, as its document says; a node that never registered: no labels, one slot. */
    private record Offer(Set<String> labels, int slots, Long gpuMemoryMiB) {

        /** Only what a claim needs: the document also holds the node's endings and up to 1,000 script names. */
        static final Document FIELDS = new Document("labels", 1).append("slots", 1).append("gpus.memoryMb", 1);

        static Offer of(Document stored) {
            if (stored == null) {
                return new Offer(Set.of(), 1, null);
            }
            int slots = stored.get("slots") instanceof Number n ? n.intValue() : 1;
            List<Long> memories = stored.get("gpus") instanceof List<?> gpus ? gpus.stream()
                    .filter(Document.class::isInstance).map(g -> ((Document) g).get("memoryMb"))
                    .map(m -> m instanceof Number n ? n.longValue() : null).toList() : List.of();
            return new Offer(Set.copyOf(stored.getList("labels", String.class, List.of())), slots,
                    slotGpuMemory(slots, memories));
        }
    }
}
