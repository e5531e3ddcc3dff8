package com.maddatum.worker.poll;

import com.maddatum.worker.client.BossClient;
import com.maddatum.worker.client.Order;
import com.maddatum.worker.runner.StopReason;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One order's heartbeats, and what the Boss's answers mean for its run: cancelled, or the lease gone.
 * A 409 is a lost lease; a 404 alone is not (a replica that has not caught up, a proxy's slip), but
 * the same 404 twice in a row is. It only asks for a stop; the kill happens on the slot's thread.
 */
final class Heartbeat implements Runnable {

    private static final Logger log = LoggerFactory.getLogger(Heartbeat.class);

    private final BossClient boss;
    private final Order order;
    private final String node;
    private final Consumer<StopReason> stop;
    private int notFoundInARow;

    Heartbeat(BossClient boss, Order order, String node, Consumer<StopReason> stop) {
        this.boss = boss;
        this.order = order;
        this.node = node;
        this.stop = stop;
    }

    @Override
    public void run() {
        BossClient.Beat beat = boss.heartbeat(order.id(), node, order.attempt(), null);
        switch (beat) {
            case OK -> notFoundInARow = 0;
            case CANCEL -> {
                log.info("the Boss cancelled the job order={} attempt={}", order.id(), order.attempt());
                stop.accept(StopReason.CANCELLED);
            }
            case LEASE_LOST -> {
                log.warn("the Boss says our lease is gone order={} attempt={}", order.id(), order.attempt());
                stop.accept(StopReason.LEASE_LOST);
            }
            case NOT_FOUND -> {
                if (++notFoundInARow >= 2) {
                    log.warn("the Boss does not know the order, twice in a row order={} attempt={}", order.id(),
                            order.attempt());
                    stop.accept(StopReason.LEASE_LOST);
                } else {
                    log.warn("the Boss does not know the order, will ask again order={} attempt={}", order.id(),
                            order.attempt());
                }
            }
            case UNREACHABLE -> log.warn("heartbeat not delivered order={} attempt={}", order.id(), order.attempt());
        }
    }
}
