package com.maddatum.boss.order;

import static org.assertj.core.api.Assertions.assertThat;

import com.maddatum.boss.support.BossApiTestBase;
import com.maddatum.testsupport.HttpJson;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import tools.jackson.databind.JsonNode;

class ClaimApiTest extends BossApiTestBase {

    @Autowired
    ClaimWaiters waiters;

    @Test
    void claimsHighestPriorityFirstThenOldest() {
        String low1 = submit(job("priority", 0)).get("orderId").asString();
        String high1 = submit(job("priority", 7)).get("orderId").asString();
        String low2 = submit(job()).get("orderId").asString();
        String high2 = submit(job("priority", 7)).get("orderId").asString();

        List<String> claimed = List.of(claim("w").get("_id").asString(), claim("w").get("_id").asString(),
                claim("w").get("_id").asString(), claim("w").get("_id").asString());
        assertThat(claimed).containsExactly(high1, high2, low1, low2);
        assertThat(boss.post("/bored/w", "").status()).isEqualTo(204);
    }

    @Test
    void answersWithTheSeedsOrderShapePlusLeaseFields() {
        JsonNode created = submit(job());
        JsonNode order = claim("shape-node");
        assertThat(order.get("_id").asString()).isEqualTo(created.get("orderId").asString());
        assertThat(order.get("jobId").asString()).isEqualTo(created.get("jobId").asString());
        assertThat(order.get("status").asString()).isEqualTo("assigned");
        assertThat(order.get("attempt").asInt()).isEqualTo(1);
        assertThat(order.get("assignedTo").asString()).isEqualTo("shape-node");
        assertThat(Instant.parse(order.get("leaseExpiresAt").asString())).isAfter(Instant.parse(order.get("createdDate").asString()));
    }

    @Test
    void givesLabelledJobsOnlyToNodesThatRegisteredThoseLabels() {
        boss.post("/worker-node/create", Map.of("name", "gpu-box", "labels", List.of("gpu", "cuda"), "slots", 2));
        String gpuJob = submit(job("requiredLabels", List.of("gpu"))).get("orderId").asString();
        assertThat(boss.post("/bored/plain-box", "").status()).isEqualTo(204);
        assertThat(claim("gpu-box").get("_id").asString()).isEqualTo(gpuJob);
    }

    @Test
    void sixteenConcurrentClientsClaimEveryOrderExactlyOnceInOrder() throws Exception {
        int orders = 2000;
        Map<String, int[]> rankOf = new HashMap<>();
        for (int i = 0; i < orders; i++) {
            int priority = i % 3;
            String id = submit(job("priority", priority, "i", i)).get("orderId").asString();
            rankOf.put(id, new int[] {priority, i});
        }
        ExecutorService pool = Executors.newFixedThreadPool(16);
        List<Future<List<String>>> clients = new ArrayList<>();
        for (int c = 0; c < 16; c++) {
            String node = "node-" + c;
            HttpJson client = new HttpJson("http://127.0.0.1:" + port);
            clients.add(pool.submit(() -> {
                List<String> mine = new ArrayList<>();
                while (true) {
                    HttpJson.Reply reply = client.post("/bored/" + node, "");
                    if (reply.status() == 204) {
                        return mine;
                    }
                    assertThat(reply.status()).isEqualTo(200);
                    mine.add(reply.json().get("_id").asString());
                }
            }));
        }
        Set<String> all = new HashSet<>();
        int total = 0;
        for (Future<List<String>> client : clients) {
            List<String> mine = client.get(5, TimeUnit.MINUTES);
            total += mine.size();
            all.addAll(mine);
            // Each client's own claims come in claim order: priority down, then creation order.
            for (int k = 1; k < mine.size(); k++) {
                int[] before = rankOf.get(mine.get(k - 1));
                int[] after = rankOf.get(mine.get(k));
                assertThat(before[0] > after[0] || (before[0] == after[0] && before[1] < after[1]))
                        .as("client claim %d after %d", after[1], before[1]).isTrue();
            }
        }
        pool.shutdownNow();
        assertThat(total).isEqualTo(orders);
        assertThat(all).hasSize(orders).isEqualTo(rankOf.keySet());
        assertThat(mongo.getCollection("orders").countDocuments(new org.bson.Document("status", "assigned")
                .append("attempt", 1).append("assignedTo", new org.bson.Document("$regex", "^node-"))))
                .isEqualTo(orders);
    }

    @Test
    void longPollIsAnsweredSoonAfterAJobIsCreated() throws Exception {
        CompletableFuture<HttpJson.Reply> poll = boss.postAsync("/bored/poller?waitSeconds=20", "");
        awaitWaiters(1);
        String orderId = submit(job()).get("orderId").asString();
        HttpJson.Reply reply = poll.get(5, TimeUnit.SECONDS);
        assertThat(reply.status()).isEqualTo(200);
        assertThat(reply.json().get("_id").asString()).isEqualTo(orderId);
        assertThat(waiters.waiting()).isZero();
    }

    @Test
    void longPollWithNoWorkEndsWith204AfterItsWait() throws Exception {
        long start = System.nanoTime();
        HttpJson.Reply reply = boss.postAsync("/bored/idle?waitSeconds=1", "").get(10, TimeUnit.SECONDS);
        assertThat(reply.status()).isEqualTo(204);
        assertThat(Duration.ofNanos(System.nanoTime() - start)).isGreaterThanOrEqualTo(Duration.ofMillis(900));
    }

    @Test
    void longPollWaitersAreServedFirstComeFirstServed() throws Exception {
        CompletableFuture<HttpJson.Reply> first = boss.postAsync("/bored/first?waitSeconds=20", "");
        awaitWaiters(1);
        CompletableFuture<HttpJson.Reply> second = boss.postAsync("/bored/second?waitSeconds=20", "");
        awaitWaiters(2);
        submit(job());
        assertThat(first.get(5, TimeUnit.SECONDS).json().get("assignedTo").asString()).isEqualTo("first");
        submit(job());
        assertThat(second.get(5, TimeUnit.SECONDS).json().get("assignedTo").asString()).isEqualTo("second");
    }

    /** Waits (bounded) until the Boss has registered the long polls; not a sleep standing in for a result. */
    private void awaitWaiters(int count) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (waiters.waiting() < count && System.nanoTime() < deadline) {
            Thread.sleep(5);
        }
        assertThat(waiters.waiting()).isEqualTo(count);
    }

    @Test
    void anOrderThatCannotBeClaimedIsSkippedOnceInsteadOfFailingEveryClaim() {
        String broken = submit(job("priority", 9)).get("orderId").asString();
        String healthy = submit(job()).get("orderId").asString();
        // A document this Boss cannot read (written by hand, or by another tool): attempt is not a number.
        mongo.getCollection("orders").updateOne(new org.bson.Document("_id", new org.bson.types.ObjectId(broken)),
                new org.bson.Document("$set", new org.bson.Document("attempt", "x")));
        double skippedBefore = skippedClaims();
        HttpJson.Reply first = boss.post("/bored/careful?heartbeats=true", "");
        assertThat(first.status()).isEqualTo(200);
        assertThat(first.json().get("_id").asString()).isEqualTo(healthy);
        for (int i = 0; i < 3; i++) {
            assertThat(boss.post("/bored/careful?heartbeats=true", "").status()).isEqualTo(204);
        }
        assertThat(skippedClaims() - skippedBefore).isEqualTo(1);
        // Repaired by hand, it can be cancelled like any other (the next test's clean-up does).
        mongo.getCollection("orders").updateOne(new org.bson.Document("_id", new org.bson.types.ObjectId(broken)),
                new org.bson.Document("$set", new org.bson.Document("attempt", 0)));
    }

    private double skippedClaims() {
        for (String line : boss.get("/actuator/prometheus").body().split("\n")) {
            if (line.startsWith("boss_claims_skipped_total ")) {
                return Double.parseDouble(line.substring(line.indexOf(' ') + 1));
            }
        }
        return 0;
    }
}
