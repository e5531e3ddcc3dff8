package com.maddatum.worker.poll;

import static com.maddatum.worker.poll.ScriptedBoss.json;
import static com.maddatum.worker.poll.ScriptedBoss.orderId;
import static org.assertj.core.api.Assertions.assertThat;

import com.maddatum.worker.config.WorkerSettings;
import com.maddatum.worker.runner.TestRunners;
import com.maddatum.worker.runner.WorkDirJanitor;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;
import mockwebserver3.MockResponse;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.JsonNode;

/** The Worker's slots against a scripted Boss that misbehaves, with real fixture scripts. */
class JobPollerTest {

    private static final Duration A_WHILE = Duration.ofSeconds(30);

    @TempDir
    Path root;

    private static String nap(double seconds, boolean ignoreTerm) {
        return "{\"scriptName\":\"napper.py\",\"seconds\":" + seconds + ",\"ignoreTerm\":" + ignoreTerm + "}";
    }

    private static MockResponse html() {
        return new MockResponse.Builder().code(200).addHeader("Content-Type", "text/html")
                .body("<html><body>502 Bad Gateway: redeploying</body></html>").build();
    }

    @Test
    void heartbeatsAnsweredWithHtmlNullOrCutOffJsonKeepGoingAndTheJobEndsNormally() throws Exception {
        try (WorkerHarness worker = new WorkerHarness(root, 1, Duration.ofMillis(100))) {
            MockResponse[] hostile = {html(), json("null"), json("{\"cancelRequested\":fa")};
            worker.boss.heartbeat = (order, n) -> hostile[n % hostile.length];
            worker.boss.order(1, nap(1.5, false));
            worker.start();

            JsonNode outcome = worker.boss.callback(A_WHILE);
            assertThat(outcome.get("status").asInt()).isEqualTo(200);
            assertThat(outcome.get("orderId").asString()).isEqualTo(orderId(1));
            // One a tenth of a second for a 1.5 s job; a single escaped exception would have stopped them at 1.
            assertThat(worker.boss.beatsOf(orderId(1))).isGreaterThanOrEqualTo(6);
        }
    }

    @Test
    void theOutcomeIsOnDiskBeforeTheLastLogLinesAreShipped() throws Exception {
        try (WorkerHarness worker = new WorkerHarness(root, 1, Duration.ofMillis(100))) {
            Path spooled = worker.settings.spoolDir().resolve(orderId(1) + "-1.json");
            List<Boolean> spooledWhenTheOutcomeLineWasShipped = new java.util.concurrent.CopyOnWriteArrayList<>();
            worker.boss.onLogs = (order, text) -> {
                if (text.contains("\"loss\"")) { // the batch with the script's last line, the Outcome
                    spooledWhenTheOutcomeLineWasShipped.add(java.nio.file.Files.exists(spooled));
                }
            };
            worker.boss.order(1, nap(0, false));
            worker.start();
            assertThat(worker.boss.callback(A_WHILE).get("status").asInt()).isEqualTo(200);
            // A crash while the last logs go out must not lose the Outcome: it was kept first.
            assertThat(spooledWhenTheOutcomeLineWasShipped).containsExactly(true);
        }
    }

    /**
     * A janitor that meets something it cannot handle in a script's leftovers (it throws here; an
     * unreadable or too-deep directory did in practice) costs no outcome, this job's or any later one's,
     * and it only runs once the outcome is in the spool.
     */
    @Test
    void whatTheJanitorMeetsCostsNoOutcomeAndItRunsOnlyOnceTheOutcomeIsSpooled() throws Exception {
        List<List<String>> spooledAtPrune = new java.util.concurrent.CopyOnWriteArrayList<>();
        Function<WorkerSettings, WorkDirJanitor> failing = settings -> new WorkDirJanitor(settings) {
            @Override
            public synchronized int prune() {
                try (java.util.stream.Stream<Path> files = java.nio.file.Files.list(settings.spoolDir())) {
                    spooledAtPrune.add(files.map(f -> f.getFileName().toString()).sorted().toList());
                } catch (java.io.IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
                throw new java.io.UncheckedIOException(new java.nio.file.AccessDeniedException("work/old-run/locked"));
            }
        };
        try (WorkerHarness worker = new WorkerHarness(root, 1, Duration.ofMillis(100), Duration.ofSeconds(1),
                Duration.ofSeconds(1), new com.maddatum.worker.runner.ProcessRunner(java.time.Clock.systemUTC()), failing)) {
            worker.boss.order(1, nap(0, false));
            worker.boss.order(2, nap(0, false));
            worker.start();
            List<String> reported = new ArrayList<>();
            for (int i = 0; i < 2; i++) {
                JsonNode outcome = worker.boss.callback(A_WHILE);
                assertThat(outcome).as("outcome %s", i).isNotNull();
                assertThat(outcome.get("status").asInt()).isEqualTo(200);
                reported.add(outcome.get("orderId").asString());
            }
            assertThat(reported).containsExactlyInAnyOrder(orderId(1), orderId(2));
            // Each job's outcome file was on disk when the janitor ran (it is deleted once delivered).
            assertThat(spooledAtPrune).hasSize(2);
            assertThat(spooledAtPrune.get(0)).containsExactly(orderId(1) + "-1.json");
            assertThat(spooledAtPrune.get(1)).containsExactly(orderId(2) + "-1.json");
        }
    }

    @Test
    void anUnreadableJobHandsTheOrderBackAndTheSlotCarriesOn() throws Exception {
        try (WorkerHarness worker = new WorkerHarness(root, 1, Duration.ofMillis(100))) {
            worker.boss.jobAnswer = html();
            worker.boss.order(1, nap(0, false));
            worker.start();
            JsonNode handedBack = worker.boss.callback(A_WHILE);
            assertThat(handedBack.get("status").asInt()).isEqualTo(503);
            assertThat(handedBack.get("retryable").asBoolean()).isTrue();
            assertThat(handedBack.get("error").get("type").asString()).isEqualTo("JobNotFetched");
            assertThat(handedBack.get("orderId").asString()).isEqualTo(orderId(1));

            worker.boss.jobAnswer = null;
            worker.boss.order(2, nap(0, false));
            assertThat(worker.boss.callback(A_WHILE).get("status").asInt()).isEqualTo(200);
        }
    }

    @Test
    void oneNotFoundHeartbeatIsNotALostLease() throws Exception {
        try (WorkerHarness worker = new WorkerHarness(root, 1, Duration.ofMillis(100))) {
            worker.boss.heartbeat = (order, n) -> n == 1 ? new MockResponse.Builder().code(404).build()
                    : json("{\"cancelRequested\":false}");
            worker.boss.order(1, nap(1, false));
            worker.start();
            JsonNode outcome = worker.boss.callback(A_WHILE);
            assertThat(outcome.get("status").asInt()).isEqualTo(200);
            assertThat(outcome.get("exitCode").asInt()).isZero();
        }
    }

    @Test
    void theSameNotFoundTwiceInARowIsALostLeaseAndTheRunIsKilledWithoutAnOutcome() throws Exception {
        try (WorkerHarness worker = new WorkerHarness(root, 1, Duration.ofMillis(100))) {
            // Only the first order is unknown: the second's heartbeats (two of which a slow start can see before a
            // 0 s nap ends) are answered as usual, so it must run to its outcome.
            worker.boss.heartbeat = (order, n) -> order.equals(orderId(1)) ? new MockResponse.Builder().code(404).build()
                    : json("{\"cancelRequested\":false}");
            worker.boss.order(1, nap(60, false));
            worker.boss.order(2, nap(0, false));
            worker.start();
            // The next order runs once the first was killed; the first never reports.
            JsonNode next = worker.boss.callback(A_WHILE);
            assertThat(next.get("orderId").asString()).isEqualTo(orderId(2));
            assertThat(worker.boss.beatsOf(orderId(1))).isBetween(2L, 5L);
        }
    }

    @Test
    void aKillOnOneSlotDoesNotHoldUpTheHeartbeatsOfAnother() throws Exception {
        try (WorkerHarness worker = new WorkerHarness(root, 2, Duration.ofMillis(100), Duration.ofSeconds(1),
                Duration.ofMillis(1500), new com.maddatum.worker.runner.ProcessRunner(java.time.Clock.systemUTC()))) {
            worker.boss.heartbeat = (order, n) -> order.equals(orderId(1)) && n >= 3
                    ? json("{\"cancelRequested\":true}") : json("{\"cancelRequested\":false}");
            worker.boss.order(1, nap(60, true)); // ignores SIGTERM: its kill takes the whole 1.5 s grace
            worker.boss.order(2, nap(3, false));
            worker.start();

            List<JsonNode> outcomes = new ArrayList<>(List.of(worker.boss.callback(A_WHILE), worker.boss.callback(A_WHILE)));
            JsonNode cancelled = outcomes.stream().filter(o -> o.get("orderId").asString().equals(orderId(1))).findFirst()
                    .orElseThrow();
            assertThat(cancelled.get("status").asInt()).isEqualTo(499);
            // Heartbeats every 100 ms on the other slot, however long the kill took.
            assertThat(worker.boss.longestGap(orderId(2))).isLessThan(Duration.ofSeconds(1));
        }
    }

    @Test
    void aRunWhoseProcessOutlivesSigkillTakesItsSlotOutOfServiceAndStopsItsHeartbeats() throws Exception {
        List<Process> real = new ArrayList<>();
        try (WorkerHarness worker = new WorkerHarness(root, 1, Duration.ofMillis(100), Duration.ofSeconds(1),
                Duration.ofMillis(200), TestRunners.unkillable(real))) {
            worker.boss.heartbeat = (order, n) -> json("{\"cancelRequested\":" + (n >= 2) + "}");
            worker.boss.order(1, nap(60, false));
            worker.boss.order(2, nap(0, false));
            worker.start();

            JsonNode outcome = worker.boss.callback(A_WHILE);
            assertThat(outcome.get("status").asInt()).isEqualTo(499);
            long deadline = System.nanoTime() + A_WHILE.toNanos(); // marked once the outcome is out
            while (worker.gauge("worker.slots.broken") < 1 && System.nanoTime() < deadline) {
                Thread.sleep(10);
            }
            assertThat(worker.gauge("worker.slots.broken")).isEqualTo(1.0);
            long beats = worker.boss.beatsOf(orderId(1));
            int polls = worker.boss.boredCalls.size();
            Thread.sleep(1000); // ten heartbeat intervals and twenty ticks: nothing more may come
            assertThat(worker.boss.beatsOf(orderId(1))).isEqualTo(beats);
            assertThat(worker.boss.boredCalls).hasSize(polls);
            assertThat(worker.boss.callback(Duration.ZERO)).isNull();
        } finally {
            TestRunners.destroy(real);
        }
    }

    @Test
    void onShutdownEveryRunningJobIsKilledAtOnceAndHandedBack() throws Exception {
        Duration killGrace = Duration.ofSeconds(2);
        try (WorkerHarness worker = new WorkerHarness(root, 3, Duration.ofMillis(200), Duration.ofMillis(300), killGrace,
                new com.maddatum.worker.runner.ProcessRunner(java.time.Clock.systemUTC()))) {
            for (int i = 1; i <= 3; i++) {
                worker.boss.order(i, nap(60, true)); // each ignores SIGTERM: only SIGKILL after the grace stops it
            }
            worker.start();
            long deadline = System.nanoTime() + A_WHILE.toNanos();
            while (worker.gauge("worker.slots.busy") < 3 && System.nanoTime() < deadline) {
                Thread.sleep(20);
            }
            Thread.sleep(300); // the scripts are up and have set their SIGTERM handlers

            long start = System.nanoTime();
            worker.shutdown();
            Duration took = Duration.ofNanos(System.nanoTime() - start);
            // 0.3 s of grace, one 2 s kill grace for all three together, the output's drain; one after
            // another the kills alone would take 6 s.
            assertThat(took).isLessThan(Duration.ofMillis(300).plus(killGrace).plusSeconds(2));
            for (int i = 0; i < 3; i++) {
                JsonNode handedBack = worker.boss.callback(Duration.ZERO);
                assertThat(handedBack).as("outcome %s", i).isNotNull();
                assertThat(handedBack.get("status").asInt()).isEqualTo(503);
                assertThat(handedBack.get("retryable").asBoolean()).isTrue();
                assertThat(handedBack.get("error").get("type").asString()).isEqualTo("WorkerShutdown");
            }
        }
    }
}
