package com.maddatum.boss.order;

import com.maddatum.boss.config.BossProperties;
import com.maddatum.boss.store.StoreDurability;
import com.maddatum.boss.store.StoreFailures;
import java.time.Clock;
import java.time.Instant;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import org.bson.types.ObjectId;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.InitializingBean;
import org.springframework.scheduling.annotation.Scheduled;
import org.springframework.stereotype.Component;

/**
 * Fills memory from the store before the Boss serves its first request, so a restarted Boss carries
 * on where it stopped. With a real MongoDB shared by several Boss replicas it then keeps memory in
 * step with what the others write, every {@code boss.store.resync-interval}:
 * <ol>
 *   <li>the feed: every order written since the last resync (less {@code boss.store.resync-overlap},
 *       for clocks that differ between replicas), through the same {@link OrderMirror#apply} as this
 *       replica's own writes, so a replayed change is harmless;</li>
 *   <li>the reconcile: the store's live orders against memory's, so an order memory still thinks
 *       live but that another replica finished is read again (and dropped from the queue), and an
 *       unassigned order missing from this replica's queue is put back.</li>
 * </ol>
 * Both queries use an index on a real MongoDB ({@link OrderStore}). The feed trusts the writers' clocks
 * to agree within the overlap; what it could still miss (a replica whose clock is far off, an order
 * deleted by hand) the audit finds: every {@code boss.store.audit-interval} it compares the store's
 * counts by status with memory's and, when they still differ after a resync, reloads memory from the
 * store. The embedded store belongs to this process alone and every write to it passes the mirror, so
 * there none of this runs after start-up.
 */
@Component
class StoreSync implements InitializingBean {

    private static final Logger log = LoggerFactory.getLogger(StoreSync.class);

    private final OrderStore store;
    private final OrderMirror mirror;
    private final ReadyIndex ready;
    private final OrderCatalog catalog;
    private final StoreDurability durability;
    private final Clock clock;
    private final BossProperties properties;
    private volatile Instant feedFrom;
    private static final int MAX_REPORTED = 10_000;
    private final Set<ObjectId> unreadableReported = java.util.concurrent.ConcurrentHashMap.newKeySet();

    StoreSync(OrderStore store, OrderMirror mirror, ReadyIndex ready, OrderCatalog catalog, StoreDurability durability,
            Clock clock, BossProperties properties) {
        this.store = store;
        this.mirror = mirror;
        this.ready = ready;
        this.catalog = catalog;
        this.durability = durability;
        this.clock = clock;
        this.properties = properties;
    }

    @Override
    public void afterPropertiesSet() {
        Instant started = clock.instant();
        int loaded = store.forEach(mirror::apply);
        feedFrom = started.minus(properties.store().resyncOverlap());
        log.info("orders loaded from store orders={} live={}", loaded, mirror.liveIds().size());
    }

    @Scheduled(fixedDelayString = "${boss.store.resync-interval:3s}", initialDelayString = "${boss.store.resync-interval:3s}")
    void resync() {
        if (!durability.isEmbedded()) {
            sync();
        }
    }

    /** One feed and one reconcile; returns how many orders it read. The audit's run and the timer's take turns. */
    synchronized int sync() {
        Instant started = clock.instant();
        int read = store.forEachModifiedSince(feedFrom, mirror::apply);
        read += reconcile();
        feedFrom = started.minus(properties.store().resyncOverlap());
        return read;
    }

    @Scheduled(fixedDelayString = "${boss.store.audit-interval:5m}", initialDelayString = "${boss.store.audit-interval:5m}")
    void audit() {
        if (!durability.isEmbedded()) {
            auditNow();
        }
    }

    /**
     * Returns whether memory was found behind the store on an order nobody had written recently, and
     * repaired. Equal counts by status end it cheaply. Otherwise every order's revision is compared with
     * memory's, and only the orders memory lacks, or holds at an older revision, are read again; orders
     * memory holds that the store no longer has are dropped. Busy replicas writing while this runs cause
     * re-reads of the orders they touched, which are harmless, never a reload of everything; a document
     * no version can read costs one failed re-read per audit, not a reload.
     */
    boolean auditNow() {
        Instant started = clock.instant();
        for (int attempt = 0; attempt < 2; attempt++) {
            sync(); // writes in flight, or since the last feed, are not a discrepancy
            if (store.countByStatus().equals(catalog.countByStatus())) {
                return false;
            }
        }
        // Only what memory knew before the scan may be forgotten: an order created while it runs may
        // have been written after the scan passed its place.
        Set<ObjectId> knownBefore = mirror.knownIds();
        Set<ObjectId> stored = new HashSet<>();
        Instant quietSince = started.minus(properties.store().resyncOverlap());
        int[] behind = {0, 0};
        int unreadable = store.forEachStamp(stamp -> {
            stored.add(stamp.id());
            if (mirror.revisionOf(stamp.id()) < stamp.revision() && reread(stamp.id())) {
                behind[0]++;
                if (stamp.modifiedAt() == null || stamp.modifiedAt().isBefore(quietSince)) {
                    behind[1]++; // not a write racing this audit: memory had really missed it
                }
            }
        });
        int forgotten = 0;
        for (ObjectId id : knownBefore) {
            if (!stored.contains(id)) {
                mirror.forget(id);
                forgotten++;
            }
        }
        boolean repaired = behind[1] > 0 || forgotten > 0;
        if (repaired) {
            log.warn("memory disagreed with the store and was repaired reread={} missed={} forgotten={} unreadable={}",
                    behind[0], behind[1], forgotten, unreadable);
        } else {
            log.debug("audit found only writes in flight reread={} unreadable={}", behind[0], unreadable);
        }
        return repaired;
    }

    private int reconcile() {
        Map<ObjectId, Long> live = store.findLiveRevisions();
        int reread = 0;
        for (ObjectId id : mirror.liveIds()) {
            if (!live.containsKey(id)) {
                reread(id);
                reread++;
            }
        }
        for (Map.Entry<ObjectId, Long> entry : live.entrySet()) {
            ObjectId id = entry.getKey();
            OrderFacts facts = mirror.facts(id);
            boolean behind = facts == null || facts.revision() < entry.getValue();
            boolean lostFromQueue = facts != null && facts.status() == OrderStatus.UNASSIGNED && !ready.contains(id);
            if (behind || lostFromQueue) {
                reread(id);
                reread++;
            }
        }
        return reread;
    }

    /**
     * Reads one order again into memory; false when it cannot be read. An unreadable live order is met
     * again by every reconcile: it is logged as an error once, then quietly, until it can be read.
     */
    private boolean reread(ObjectId id) {
        try {
            store.findById(id).ifPresentOrElse(mirror::apply, () -> mirror.forget(id));
            unreadableReported.remove(id);
            return true;
        } catch (RuntimeException e) {
            if (StoreFailures.isStoreFailure(e)) {
                throw e;
            }
            if (unreadableReported.size() >= MAX_REPORTED) {
                unreadableReported.clear();
            }
            if (unreadableReported.add(id)) {
                log.error("unreadable order skipped order={} error={}", id, e.toString());
            } else {
                log.debug("unreadable order skipped again order={}", id);
            }
            return false;
        }
    }
}
