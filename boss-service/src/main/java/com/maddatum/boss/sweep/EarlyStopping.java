package com.maddatum.boss.sweep;

import com.maddatum.boss.config.BossProperties;
import com.maddatum.boss.order.HeartbeatAdvice;
import com.maddatum.boss.order.Order;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Date;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.bson.Document;
import org.bson.types.ObjectId;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.stereotype.Component;

/**
 * Early stopping, decided on each heartbeat of a sweep's trial: the points the heartbeat brings
 * ({@code progress.points}, {@code [[step, value], ...]}, and {@code progress.step}/{@code value}) are kept,
 * and when the sweep has {@code earlyStop} the {@link MedianRule} is asked at the latest step. A trial it stops
 * hears {@code stop: "pruned"} in the heartbeat's answer, and again on every later heartbeat of the same job:
 * the decision is kept in the trial.
 */
@Component
class EarlyStopping implements HeartbeatAdvice {

    static final String PRUNED = "pruned";
    /** The most points one heartbeat may bring (the contract's); beyond, the latest are kept. */
    static final int MAX_POINTS_PER_BEAT = 1000;

    private static final Logger log = LoggerFactory.getLogger(EarlyStopping.class);

    private final TrialStore trials;
    private final TrialPoints points;
    private final SweepStore sweeps;
    private final Clock clock;
    private final int maxPoints;

    EarlyStopping(TrialStore trials, TrialPoints points, SweepStore sweeps, Clock clock, BossProperties properties) {
        this.trials = trials;
        this.points = points;
        this.sweeps = sweeps;
        this.clock = clock;
        this.maxPoints = properties.sweeps().maxPointsPerTrial();
    }

    @Override
    public String stopFor(Order order, Document progress) {
        if (order.sweepId() == null || !ObjectId.isValid(order.sweepId())) {
            return null; // not a sweep's trial (a job may name a sweep of its own making)
        }
        // The sweep first, by _id: a job naming a sweep that does not exist costs no look-up of trials.
        Sweep sweep = sweeps.find(new ObjectId(order.sweepId())).orElse(null);
        if (sweep == null) {
            return null;
        }
        Optional<Trial> found = trials.findByJobId(order.sweepId(), order.jobId());
        if (found.isEmpty()) {
            return null;
        }
        Trial trial = found.get();
        if (trial.stop() != null && order.jobId().equals(trial.stop().getString("jobId"))) {
            return PRUNED;
        }
        List<TrialPoints.Point> fresh = pointsOf(progress);
        if (fresh.isEmpty()) {
            return null;
        }
        List<TrialPoints.Point> curve = points.record(trial.sweepId(), trial.trial(), order.jobId(), fresh, maxPoints);
        if (sweep.earlyStop() == null || sweep.status() != SweepStatus.RUNNING) {
            return null;
        }
        double step = fresh.stream().mapToDouble(TrialPoints.Point::step).max().orElseThrow();
        List<Double> own = curve.stream().filter(p -> p.step() <= step).map(TrialPoints.Point::value).toList();
        MedianRule.Decision decision = MedianRule.decide(step, own, points.othersAt(trial.sweepId(), step,
                trial.trial()), sweep.earlyStop().minSteps(), sweep.earlyStop().minTrials());
        if (decision == null || !decision.prune()) {
            return null;
        }
        Document remembered = new Document("jobId", order.jobId()).append("step", decision.step())
                .append("value", decision.best()).append("median", decision.median())
                .append("others", decision.others()).append("at", Date.from(clock.instant()));
        if (trials.stop(trial, order.jobId(), remembered)) {
            log.info("trial pruned sweep={} trial={} step={} value={} median={}", trial.sweepId(), trial.trial(),
                    decision.step(), decision.best(), decision.median());
        }
        return PRUNED;
    }

    /**
     * The points a heartbeat brings: {@code points} (the latest {@value #MAX_POINTS_PER_BEAT}) and the
     * {@code step}/{@code value} pair. Entries that are not a step of 0 or more with a finite value are left
     * out: a Worker's slip must not cost it its heartbeat.
     */
    static List<TrialPoints.Point> pointsOf(Document progress) {
        List<TrialPoints.Point> found = new ArrayList<>();
        if (progress == null) {
            return found;
        }
        if (progress.get("points") instanceof List<?> list) {
            for (Object entry : list.subList(Math.max(0, list.size() - MAX_POINTS_PER_BEAT), list.size())) {
                if (entry instanceof List<?> pair && pair.size() >= 2) {
                    add(found, pair.get(0), pair.get(1));
                } else if (entry instanceof Map<?, ?> map) {
                    add(found, map.get("step"), map.get("value"));
                }
            }
        }
        add(found, progress.get("step"), progress.get("value"));
        return found;
    }

    private static void add(List<TrialPoints.Point> found, Object step, Object value) {
        if (step instanceof Number s && value instanceof Number v && Double.isFinite(s.doubleValue())
                && s.doubleValue() >= 0 && Double.isFinite(v.doubleValue())) {
            TrialPoints.Point point = new TrialPoints.Point(s.doubleValue(), v.doubleValue());
            if (!found.contains(point)) {
                found.add(point);
            }
        }
    }
}
