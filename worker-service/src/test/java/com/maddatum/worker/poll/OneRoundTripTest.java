package com.maddatum.worker.poll;

import static com.maddatum.worker.poll.ScriptedBoss.orderId;
import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.JsonNode;

/**
 * One round trip per job each way, against a Boss that speaks it: the job comes inside the claim, the first
 * heartbeat waits an interval, the last log lines go with the outcome, and the callback claims the next order.
 */
class OneRoundTripTest {

    private static final Duration A_WHILE = Duration.ofSeconds(30);

    @TempDir
    Path root;

    private static String nap(double seconds) {
        return "{\"scriptName\":\"napper.py\",\"seconds\":" + seconds + "}";
    }

    @Test
    void theJobInsideTheClaimIsRunWithoutAskingForItAndTheLastLinesGoWithTheOutcome() throws Exception {
        try (WorkerHarness worker = new WorkerHarness(root, 1, Duration.ofSeconds(30))) {
            worker.boss.embedsJobs = true;
            List<String> shipped = new CopyOnWriteArrayList<>();
            worker.boss.onLogs = (order, text) -> shipped.add(text);
            worker.boss.order(1, nap(0));
            worker.start();

            JsonNode outcome = worker.boss.callback(A_WHILE);
            assertThat(outcome.get("status").asInt()).isEqualTo(200);
            assertThat(outcome.get("jobId").asString()).isEqualTo("job-1");
            assertThat(worker.boss.requests).noneMatch(r -> r.startsWith("/retrieve/job/"));
            assertThat(outcome.get("logs").get("text").asString()).contains("napping").contains("\"loss\"");
            assertThat(shipped).noneMatch(text -> text.contains("\"loss\""));
        }
    }

    @Test
    void noHeartbeatGoesAtTimeZero() throws Exception {
        try (WorkerHarness worker = new WorkerHarness(root, 1, Duration.ofSeconds(5))) {
            worker.boss.embedsJobs = true;
            worker.boss.order(1, nap(0.1));
            worker.start();
            assertThat(worker.boss.callback(A_WHILE).get("status").asInt()).isEqualTo(200);
            // The claim holds the lease: a job that ends before the first beat is due sends no heartbeat at all.
            assertThat(worker.boss.beatsOf(orderId(1))).isZero();
        }
    }

    @Test
    void aLongerJobBeatsAfterSecondsNotAWholeInterval() throws Exception {
        try (WorkerHarness worker = new WorkerHarness(root, 1, Duration.ofSeconds(60))) {
            worker.boss.embedsJobs = true;
            worker.boss.order(1, nap(JobExecution.FIRST_BEAT_AFTER.toMillis() / 1000.0 + 1.5));
            worker.start();
            assertThat(worker.boss.callback(A_WHILE).get("status").asInt()).isEqualTo(200);
            // The Boss hears it is running before the job ends, though the interval is a minute.
            assertThat(worker.boss.beatsOf(orderId(1))).isGreaterThanOrEqualTo(1);
        }
    }

    @Test
    void aLeaseShorterThanTheIntervalIsStillKeptByAnEarlierFirstBeat() throws Exception {
        try (WorkerHarness worker = new WorkerHarness(root, 1, Duration.ofSeconds(30))) {
            worker.boss.embedsJobs = true;
            worker.boss.lease = Duration.ofMillis(800);
            worker.boss.order(1, nap(1.0));
            worker.start();
            assertThat(worker.boss.callback(A_WHILE).get("status").asInt()).isEqualTo(200);
            assertThat(worker.boss.beatsOf(orderId(1))).isGreaterThanOrEqualTo(1);
        }
    }

    @Test
    void theCallbackClaimsTheNextOrderAndTheSlotRunsItWithoutAskingBored() throws Exception {
        try (WorkerHarness worker = new WorkerHarness(root, 1, Duration.ofSeconds(30))) {
            worker.boss.embedsJobs = true;
            worker.boss.order(1, nap(0)).order(2, nap(0));
            worker.start();

            JsonNode first = worker.boss.callback(A_WHILE);
            JsonNode second = worker.boss.callback(A_WHILE);
            assertThat(first.get("orderId").asString()).isEqualTo(orderId(1));
            assertThat(second.get("orderId").asString()).isEqualTo(orderId(2));
            assertThat(second.get("status").asInt()).isEqualTo(200);
            assertThat(worker.boss.callbackQueries.get(0)).contains("next=true");
            List<String> requests = List.copyOf(worker.boss.requests);
            int firstCallback = requests.indexOf("/callback?next=true");
            int secondCallback = requests.subList(firstCallback + 1, requests.size()).indexOf("/callback?next=true")
                    + firstCallback + 1;
            assertThat(secondCallback).isGreaterThan(firstCallback);
            assertThat(requests.subList(firstCallback, secondCallback)).noneMatch(r -> r.startsWith("/bored"))
                    .noneMatch(r -> r.startsWith("/retrieve/job/"));
        }
    }

    @Test
    void aNextOrderThatArrivesAsTheWorkerShutsDownGoesBackUnrun() throws Exception {
        WorkerHarness worker = new WorkerHarness(root, 1, Duration.ofSeconds(30));
        CountDownLatch stopping = new CountDownLatch(1);
        worker.runs.onClose(stopping::countDown); // after the poller's own hook: it takes no new work by now
        Thread[] shutdown = new Thread[1];
        worker.boss.embedsJobs = true;
        worker.boss.onCallback = (body, next) -> {
            if (next && shutdown[0] == null) {
                shutdown[0] = new Thread(() -> {
                    try {
                        worker.shutdown();
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                });
                shutdown[0].start();
                try {
                    stopping.await(10, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
        };
        try (worker) {
            worker.boss.order(1, nap(0)).order(2, nap(0));
            worker.start();
            assertThat(worker.boss.callback(A_WHILE).get("orderId").asString()).isEqualTo(orderId(1));
            JsonNode handedBack = worker.boss.callback(A_WHILE);
            assertThat(handedBack.get("orderId").asString()).isEqualTo(orderId(2));
            assertThat(handedBack.get("retryable").asBoolean()).isTrue();
            assertThat(handedBack.get("error").get("type").asString()).isEqualTo("WorkerShutdown");
            assertThat(worker.boss.beatsOf(orderId(2))).isZero();
            shutdown[0].join(A_WHILE.toMillis());
            assertThat(shutdown[0].isAlive()).isFalse();
        }
    }

    @Test
    void anOlderBossIsAskedForTheJobAndItsCallbackClaimsNothing() throws Exception {
        try (WorkerHarness worker = new WorkerHarness(root, 1, Duration.ofSeconds(30))) {
            worker.boss.order(1, nap(0));
            worker.start();
            JsonNode outcome = worker.boss.callback(A_WHILE);
            assertThat(outcome.get("status").asInt()).isEqualTo(200);
            assertThat(outcome.has("logs")).isFalse();
            assertThat(worker.boss.requests).contains("/retrieve/job/job-1");
            assertThat(worker.boss.callbackQueries).containsExactly("");
        }
    }
}
