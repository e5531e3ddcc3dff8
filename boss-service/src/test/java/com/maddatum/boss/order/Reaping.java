package com.maddatum.boss.order;

/** Lets tests outside the order package run the lease reaper now instead of on its schedule. */
public final class Reaping {

    private Reaping() {}

    public static int reapNow(OrderService orders) {
        return orders.reapExpired();
    }
}
