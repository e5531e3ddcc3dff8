package com.maddatum.worker.run;

import com.maddatum.worker.config.WorkerSettings;
import com.maddatum.worker.runner.ProcessRunner;
import java.time.Duration;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.boot.convert.DurationStyle;
import org.springframework.context.event.ContextClosedEvent;
import org.springframework.context.event.EventListener;
import org.springframework.stereotype.Component;

/**
 * The shutdown sequence and its worst case, in one place. It begins when Spring starts to close (on
 * SIGTERM), and every wait in it ends at its phase's deadline, counted from that moment:
 * <ol>
 *   <li>grace: running scripts get {@code worker.shutdown-grace} to finish (the web server's graceful
 *       shutdown, at most {@code spring.lifecycle.timeout-per-shutdown-phase}, runs meanwhile);</li>
 *   <li>kill: every run left is stopped at once, and the slowest takes
 *       {@link ProcessRunner#killBound} of {@code worker.kill-grace};</li>
 *   <li>report: the outcomes kept in the spool go to the Boss for at most {@link #REPORT}, each request
 *       for at most {@link #REQUEST}; local callbacks wait for the next start, in the spool;</li>
 *   <li>close: the rest of Spring's close and the JVM's exit, {@link #CLOSE}.</li>
 * </ol>
 * So {@link #total} bounds the whole of it, and Docker's {@code stop_grace_period} must be at least that:
 * {@code ComposeFileTest} checks compose's against {@link #main}.
 */
@Component
public class ShutdownBudget {

    public static final Duration REPORT = Duration.ofSeconds(10);
    public static final Duration REQUEST = Duration.ofSeconds(2);
    public static final Duration CLOSE = Duration.ofSeconds(5);

    private final Duration grace;
    private final Duration kill;
    private final Duration report;
    private final Duration request;
    private final Duration web;
    private volatile long begun;
    private volatile boolean started;

    @Autowired
    public ShutdownBudget(WorkerSettings settings,
            @Value("${spring.lifecycle.timeout-per-shutdown-phase:30s}") Duration webShutdown) {
        this(settings.shutdownGrace(), ProcessRunner.killBound(settings.killGrace()), webShutdown, REPORT, REQUEST);
    }

    /** Phases of these lengths; {@code kill} is the whole kill phase, {@code web} the web server's graceful shutdown. */
    public ShutdownBudget(Duration grace, Duration kill, Duration web, Duration report, Duration request) {
        this.grace = grace;
        this.kill = kill;
        this.web = web;
        this.report = report;
        this.request = request;
    }

    /** The longest the Worker takes from SIGTERM to its exit. */
    public static Duration total(Duration shutdownGrace, Duration killGrace, Duration webShutdown) {
        return new ShutdownBudget(shutdownGrace, ProcessRunner.killBound(killGrace), webShutdown, REPORT, REQUEST)
                .killsEnd().plus(REPORT).plus(CLOSE);
    }

    /** Starts the clock; later calls change nothing. */
    @EventListener(ContextClosedEvent.class)
    public synchronized void begin() {
        if (!started) {
            begun = System.nanoTime();
            started = true;
        }
    }

    public boolean begun() {
        return started;
    }

    public Duration untilGraceEnds() {
        return left(grace);
    }

    public Duration untilKillsEnd() {
        return left(killsEnd());
    }

    public Duration untilReportEnds() {
        return left(killsEnd().plus(report));
    }

    /** A delivery's timeout once shutdown has begun: {@link #REQUEST}, or what is left of the report phase. */
    public Duration requestTimeout() {
        Duration left = untilReportEnds();
        return left.compareTo(request) >= 0 ? request : left.isZero() ? Duration.ofMillis(1) : left;
    }

    /** The kill phase ends after the grace, or after the web server's shutdown if that may take longer. */
    private Duration killsEnd() {
        return (grace.compareTo(web) >= 0 ? grace : web).plus(kill);
    }

    private Duration left(Duration fromStart) {
        if (!started) {
            return fromStart;
        }
        long left = begun + fromStart.toNanos() - System.nanoTime();
        return Duration.ofNanos(Math.max(0, left));
    }

    /** Prints {@link #total} in seconds for {@code <shutdown-grace> <kill-grace> <timeout-per-shutdown-phase>} ("60s"). */
    public static void main(String[] args) {
        System.out.println(total(DurationStyle.detectAndParse(args[0]), DurationStyle.detectAndParse(args[1]),
                DurationStyle.detectAndParse(args[2])).toSeconds());
    }
}
