package com.maddatum.boss.order;

import org.springframework.scheduling.annotation.Scheduled;
import org.springframework.stereotype.Component;

/** Re-queues orders whose worker went quiet, and fails them once their attempts are used up. */
@Component
class LeaseReaper {

    private final OrderService orders;

    LeaseReaper(OrderService orders) {
        this.orders = orders;
    }

    @Scheduled(fixedDelayString = "${boss.lease.reap-interval:5s}", initialDelayString = "${boss.lease.reap-interval:5s}")
    void reap() {
        orders.reapExpired();
    }
}
