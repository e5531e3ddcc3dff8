package com.maddatum.worker.runner;

import java.util.ArrayDeque;
import java.util.List;

/**
 * The intermediate values a script reported with {@code ##progress} lines ({@link ProgressLines}), as
 * they wait to go out with a heartbeat: the latest {@link #MAX_PENDING} points the Boss has not yet
 * acknowledged, and the last point seen at all (what a pruned run's Outcome reports). Filled by the
 * stdout pump, read by the heartbeat and by whoever makes the Outcome.
 */
public final class Progress {

    /** Points kept for the Boss while it does not acknowledge them; older ones are dropped first. */
    public static final int MAX_PENDING = 1000;

    /** One reported value: {@code step} a whole number from 0, {@code value} finite. */
    public record Point(long step, double value) {}

    /**
     * What one heartbeat carries: the points not yet acknowledged, oldest first, and the number of the
     * newest of them, so that an acknowledgement drops exactly these and keeps any that came meanwhile.
     */
    public record Batch(List<Point> points, long upTo) {
        public boolean isEmpty() {
            return points.isEmpty();
        }

        /** The newest point of the batch; null when it is empty. */
        public Point last() {
            return points.isEmpty() ? null : points.get(points.size() - 1);
        }
    }

    private final ArrayDeque<Point> pending = new ArrayDeque<>();
    /** How many points were ever accepted: the newest pending one is number {@code accepted}. */
    private long accepted;
    private long dropped;
    private long malformed;
    private Point last;

    /** A point the script reported (the stdout pump calls this, {@link ProgressLines}). */
    public synchronized void add(Point point) {
        if (pending.size() == MAX_PENDING) {
            pending.removeFirst();
            dropped++;
        }
        pending.addLast(point);
        accepted++;
        last = point;
    }

    /** Counts a line that looked like progress but was not; returns the count so far. */
    synchronized long malformed() {
        return ++malformed;
    }

    /** The points not yet acknowledged. */
    public synchronized Batch pending() {
        return new Batch(List.copyOf(pending), accepted);
    }

    /** The Boss took {@code batch}: its points are not sent again. */
    public synchronized void acknowledge(Batch batch) {
        long firstPending = accepted - pending.size() + 1;
        for (long n = firstPending; n <= batch.upTo() && !pending.isEmpty(); n++) {
            pending.removeFirst();
        }
    }

    /** The last point the script reported; null when it reported none. */
    public synchronized Point last() {
        return last;
    }

    /** Points dropped unsent because more than {@link #MAX_PENDING} waited. */
    public synchronized long dropped() {
        return dropped;
    }

    /** Lines that began with the progress prefix but were not a progress point. */
    public synchronized long malformedLines() {
        return malformed;
    }
}
