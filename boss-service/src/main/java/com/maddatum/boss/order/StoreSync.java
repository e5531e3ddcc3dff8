package com.maddatum.boss.order;

import com.maddatum.boss.config.BossProperties;
import com.maddatum.boss.store.StoreDurability;
import java.time.Clock;
import java.time.Instant;
import java.util.Map;
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
 * Both queries use an index on a real MongoDB ({@link OrderStore}). The embedded store belongs to this
 * process alone and every write to it passes the mirror, so there it runs only at start-up.
 */
@Component
class StoreSync implements InitializingBean {

    private static final Logger log = LoggerFactory.getLogger(StoreSync.class);

    private final OrderStore store;
    private final OrderMirror mirror;
    private final ReadyIndex ready;
    private final StoreDurability durability;
    private final Clock clock;
    private final BossProperties properties;
    private volatile Instant feedFrom;

    StoreSync(OrderStore store, OrderMirror mirror, ReadyIndex ready, StoreDurability durability, Clock clock,
            BossProperties properties) {
        this.store = store;
        this.mirror = mirror;
        this.ready = ready;
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

    /** One feed and one reconcile; returns how many orders it read. */
    int sync() {
        Instant started = clock.instant();
        int read = store.forEachModifiedSince(feedFrom, mirror::apply);
        read += reconcile();
        feedFrom = started.minus(properties.store().resyncOverlap());
        return read;
    }

    private int reconcile() {
        Map<ObjectId, Long> live = store.findLiveRevisions();
        int reread = 0;
        for (ObjectId id : mirror.liveIds()) {
            if (!live.containsKey(id)) {
                reread += reread(id);
            }
        }
        for (Map.Entry<ObjectId, Long> entry : live.entrySet()) {
            ObjectId id = entry.getKey();
            OrderFacts facts = mirror.facts(id);
            boolean behind = facts == null || facts.revision() < entry.getValue();
            boolean lostFromQueue = facts != null && facts.status() == OrderStatus.UNASSIGNED && !ready.contains(id);
            if (behind || lostFromQueue) {
                reread += reread(id);
            }
        }
        return reread;
    }

    private int reread(ObjectId id) {
        store.findById(id).ifPresentOrElse(mirror::apply, () -> mirror.forget(id));
        return 1;
    }
}
