package com.maddatum.worker.poll;

import com.maddatum.worker.client.BossClient;
import com.maddatum.worker.client.Order;
import com.maddatum.worker.runner.Progress;
import com.maddatum.worker.runner.StopReason;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One order's heartbeats, and what the Boss's answers mean for its run: cancelled, pruned (a sweep's
 * early stopping), or the lease gone. A 409 is a lost lease; a 404 alone is not (a replica that has not
 * caught up, a proxy's slip), but the same 404 twice in a row is. It only asks for a stop; the kill
 * happens on the slot's thread.
 *
 * <p>Each beat carries the progress points the script reported that the Boss has not yet taken
 * ({@link Progress}); a 200 takes them, any other answer leaves them to go again with the next beat
 * (the latest {@link Progress#MAX_PENDING} of them). A script that reported none sends no progress.
 */
final class Heartbeat implements Runnable {

    private static final Logger log = LoggerFactory.getLogger(Heartbeat.class);

    private final BossClient boss;
    private final Order order;
    private final String node;
    private final Consumer<StopReason> stop;
    private final Progress progress;
    private int notFoundInARow;
    private boolean pruned;

    Heartbeat(BossClient boss, Order order, String node, Consumer<StopReason> stop, Progress progress) {
        this.boss = boss;
        this.order = order;
        this.node = node;
        this.stop = stop;
        this.progress = progress;
    }

    @Override
    public void run() {
        Progress.Batch batch = progress.pending();
        BossClient.Beat beat = boss.heartbeat(order.id(), node, order.attempt(), batch.isEmpty() ? null : body(batch));
        if (beat == BossClient.Beat.OK || beat == BossClient.Beat.CANCEL || beat == BossClient.Beat.PRUNE) {
            progress.acknowledge(batch);
        }
        switch (beat) {
            case OK -> notFoundInARow = 0;
            case CANCEL -> {
                log.info("the Boss cancelled the job order={} attempt={}", order.id(), order.attempt());
                stop.accept(StopReason.CANCELLED);
            }
            case PRUNE -> {
                if (!pruned) {
                    pruned = true;
                    log.info("the Boss pruned the trial order={} attempt={} lastPoint={}", order.id(), order.attempt(),
                            progress.last());
                }
                stop.accept(StopReason.PRUNED);
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

    /** {@code {"step": LAST, "value": LAST, "points": [[step, value], ...]}}, oldest point first. */
    static Map<String, Object> body(Progress.Batch batch) {
        List<List<Object>> points = new ArrayList<>(batch.points().size());
        for (Progress.Point point : batch.points()) {
            points.add(List.of(point.step(), point.value()));
        }
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("step", batch.last().step());
        body.put("value", batch.last().value());
        body.put("points", points);
        return body;
    }
}
