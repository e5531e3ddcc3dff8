package com.maddatum.boss.order;

import com.maddatum.boss.store.StoreDurability;
import java.util.EnumSet;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.InitializingBean;
import org.springframework.scheduling.annotation.Scheduled;
import org.springframework.stereotype.Component;

/**
 * Loads the ready and in-flight orders into memory before the Boss serves its first request, so a
 * restarted Boss carries on where it stopped. With a real MongoDB shared by several Boss replicas
 * it repeats that every {@code boss.store.resync-interval}, which is how one replica learns of
 * orders created or re-queued by another (both queries use an index there). The embedded store
 * belongs to this process alone, so there it runs only at start-up.
 */
@Component
class StoreSync implements InitializingBean {

    private static final Logger log = LoggerFactory.getLogger(StoreSync.class);

    private final OrderStore store;
    private final OrderService orders;
    private final StoreDurability durability;

    StoreSync(OrderStore store, OrderService orders, StoreDurability durability) {
        this.store = store;
        this.orders = orders;
        this.durability = durability;
    }

    @Override
    public void afterPropertiesSet() {
        int loaded = sync();
        log.info("orders loaded from store live={}", loaded);
    }

    @Scheduled(fixedDelayString = "${boss.store.resync-interval:3s}", initialDelayString = "${boss.store.resync-interval:3s}")
    void resync() {
        if (!durability.isEmbedded()) {
            sync();
        }
    }

    private int sync() {
        var live = store.findByStatus(EnumSet.of(OrderStatus.UNASSIGNED, OrderStatus.ASSIGNED, OrderStatus.RUNNING));
        live.forEach(orders::mirror);
        return live.size();
    }
}
