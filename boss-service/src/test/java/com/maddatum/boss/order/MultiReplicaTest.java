package com.maddatum.boss.order;

import static org.assertj.core.api.Assertions.assertThat;

import com.maddatum.boss.BossApplication;
import com.maddatum.boss.worker.WorkerRegistry;
import com.maddatum.testsupport.HttpJson;
import de.bwaldvogel.mongo.MongoServer;
import de.bwaldvogel.mongo.backend.h2.H2Backend;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.bson.types.ObjectId;
import tools.jackson.databind.JsonNode;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.boot.web.server.context.WebServerApplicationContext;
import org.springframework.context.ConfigurableApplicationContext;

/**
 * Two Boss replicas sharing one MongoDB-wire server (standing in for a real MongoDB, which the
 * Testcontainers store tests cover): orders created on either are claimed exactly once across both.
 */
class MultiReplicaTest {

    private static MongoServer mongo;
    private static ConfigurableApplicationContext a;
    private static ConfigurableApplicationContext b;

    @BeforeAll
    static void start() {
        mongo = new MongoServer(H2Backend.inMemory());
        String uri = mongo.bindAndGetConnectionString() + "/boss";
        a = replica(uri);
        b = replica(uri);
    }

    @AfterAll
    static void stop() {
        a.close();
        b.close();
        mongo.shutdownNow();
    }

    private static ConfigurableApplicationContext replica(String uri) {
        return new SpringApplicationBuilder(BossApplication.class).run(
                "--server.port=0", "--spring.mongodb.uri=" + uri, "--boss.store.resync-interval=1h",
                "--boss.lease.reap-interval=1h", "--logging.level.com.maddatum=WARN");
    }

    private static HttpJson client(ConfigurableApplicationContext context) {
        int port = ((WebServerApplicationContext) context).getWebServer().getPort();
        return new HttpJson("http://127.0.0.1:" + port);
    }

    private static void resyncBoth() {
        a.getBean(StoreSync.class).resync();
        b.getBean(StoreSync.class).resync();
    }

    @Test
    void aJobCreatedOnOneReplicaIsClaimedFromTheOther() {
        String orderId = client(a).post("/job/create", Map.of("scriptName", "noop.py")).json()
                .get("orderId").asString();
        resyncBoth();
        HttpJson.Reply claimed = client(b).post("/bored/on-b", "");
        assertThat(claimed.status()).isEqualTo(200);
        assertThat(claimed.json().get("_id").asString()).isEqualTo(orderId);
        // A still had it as a candidate: its claim attempt loses the compare-and-set and finds nothing.
        assertThat(client(a).post("/bored/on-a", "").status()).isEqualTo(204);
    }

    @Test
    void concurrentClaimsOnBothReplicasTakeEveryOrderExactlyOnce() throws Exception {
        Set<String> created = new HashSet<>();
        for (int i = 0; i < 600; i++) {
            HttpJson via = client(i % 2 == 0 ? a : b);
            created.add(via.post("/job/create", Map.of("scriptName", "noop.py", "i", i)).json().get("orderId").asString());
        }
        resyncBoth();
        ExecutorService pool = Executors.newFixedThreadPool(16);
        List<Future<List<String>>> clients = new ArrayList<>();
        for (int c = 0; c < 16; c++) {
            HttpJson via = client(c % 2 == 0 ? a : b);
            String node = "replica-client-" + c;
            clients.add(pool.submit(() -> {
                List<String> mine = new ArrayList<>();
                HttpJson.Reply reply;
                while ((reply = via.post("/bored/" + node, "")).status() == 200) {
                    mine.add(reply.json().get("_id").asString());
                }
                assertThat(reply.status()).isEqualTo(204);
                return mine;
            }));
        }
        List<String> claimed = new ArrayList<>();
        for (Future<List<String>> client : clients) {
            claimed.addAll(client.get(3, TimeUnit.MINUTES));
        }
        pool.shutdownNow();
        assertThat(claimed).hasSize(created.size()).doesNotHaveDuplicates();
        assertThat(new HashSet<>(claimed)).isEqualTo(created);
    }

    @Test
    void anApiOnlyReplicaDropsWhatTheOtherFinishedFromItsQueueAndItsCounts() {
        String jobId = client(a).post("/job/create", Map.of("scriptName", "noop.py", "projectName", "api-only")).json()
                .get("jobId").asString();
        resyncBoth();
        ObjectId orderId = b.getBean(OrderQueries.class).findByJobId(jobId).orElseThrow().id();
        assertThat(b.getBean(ReadyIndex.class).contains(orderId)).isTrue();

        // Only A serves workers: it claims and finishes the job; B never sees a verb for it.
        HttpJson.Reply claimed;
        String claimedId;
        do {
            claimed = client(a).post("/bored/a-worker?heartbeats=true", "");
            claimedId = claimed.json().get("_id").asString();
            client(a).post("/callback", Map.of("status", 200, "orderId", claimedId, "attempt",
                    claimed.json().get("attempt").asInt(), "node", "a-worker", "loss", 1.0));
        } while (!claimedId.equals(orderId.toHexString()));
        b.getBean(StoreSync.class).resync();

        assertThat(b.getBean(ReadyIndex.class).contains(orderId)).isFalse();
        assertThat(client(b).get("/stats").json()).isEqualTo(client(a).get("/stats").json());
        assertThat(client(b).get("/jobs?project=api-only&status=done").json().get("total").asLong()).isEqualTo(1);
        assertThat(client(b).get("/projects/api-only/leaderboard").json().get(0).get("jobId").asString())
                .isEqualTo(jobId);
    }

    @Test
    void aJobReadOnOneReplicaCountsTheWorkersThatTalkToTheOther() {
        // The gpu Workers are configured with replica a's address; a person asks replica b.
        client(a).post("/worker-node/create", Map.of("name", "mr-gpu-1", "labels", List.of("mr-gpu"), "slots", 2));
        String jobId = client(b).post("/job/create", Map.of("scriptName", "noop.py", "requiredLabels",
                List.of("mr-gpu"))).json().get("jobId").asString();
        JsonNode queue = client(b).get("/jobs/" + jobId).json().get("queue");
        assertThat(queue.get("eligibleWorkers").get("live").asInt()).isEqualTo(1);
        assertThat(queue.get("waitingBecause").asString()).doesNotContain("no live Worker");
        client(b).post("/jobs/" + jobId + "/cancel", "");
    }

    /**
     * A Worker whose GPU failed registers again as CPU-only through the other replica: this replica must
     * stop handing it GPU work once its copy of the registration is older than standing-refresh.
     */
    @Test
    void aNodeThatRegistersAgainOnTheOtherReplicaIsSeenAsItIsNowOnThisOne() {
        WorkerRegistry onA = a.getBean(WorkerRegistry.class);
        client(a).post("/worker-node/create", Map.of("name", "mr-gpu", "labels", List.of("gpu"),
                "gpus", List.of(Map.of("index", 0, "model", "H100", "memoryMb", 81559))));
        assertThat(onA.labelsOf("mr-gpu")).containsExactly("gpu");
        assertThat(client(b).post("/worker-node/create", Map.of("name", "mr-gpu", "labels", List.of("cpu"),
                "cpuOnlyBecause", "GPU 0 failed")).status()).isEqualTo(200);

        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (!onA.labelsOf("mr-gpu").equals(Set.of("cpu")) && System.nanoTime() < deadline) {
            Thread.onSpinWait(); // a reads the registration again within boss.fleet.standing-refresh (1s)
        }
        assertThat(onA.labelsOf("mr-gpu")).containsExactly("cpu");
        assertThat(onA.live()).filteredOn(n -> n.name().equals("mr-gpu"))
                .singleElement().satisfies(n -> assertThat(n.gpuMemoryMiB()).isNull());
    }

    /**
     * A node forgotten (its document removed) and back (a new document, whose standing revision starts
     * again from nothing) is taken as it is now, not as the replica last read the old document.
     */
    @Test
    void aNodeForgottenAndBackIsNotHeldDrainedByAnOlderReadOfItsOldDocument() {
        client(a).post("/workers/mr-back/drain", Map.of("reason", "one"));
        client(a).post("/workers/mr-back/undrain", "");
        client(a).post("/workers/mr-back/drain", Map.of("reason", "two"));
        var standingsOnB = b.getBean(com.maddatum.boss.fleet.Standings.class);
        assertThat(standingsOnB.mayClaim("mr-back")).isFalse(); // b has read rev 3, drained
        a.getBean(org.springframework.data.mongodb.core.MongoTemplate.class).getCollection("workers")
                .deleteOne(new org.bson.Document("_id", "mr-back"));
        assertThat(client(a).post("/worker-node/create", Map.of("name", "mr-back")).status()).isEqualTo(200);

        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (!standingsOnB.mayClaim("mr-back") && System.nanoTime() < deadline) {
            Thread.onSpinWait(); // b reads the node again within boss.fleet.standing-refresh (1s)
        }
        assertThat(standingsOnB.mayClaim("mr-back")).isTrue();
        assertThat(standingsOnB.stillMayClaim("mr-back")).isTrue();
    }

    @Test
    void aNodeDrainedOnOneReplicaGetsNoWorkFromTheOther() {
        client(b).post("/worker-node/create", Map.of("name", "mr-drain", "labels", List.of("mr-drain")));
        assertThat(client(b).post("/bored/mr-drain?heartbeats=true", "").status()).isEqualTo(204); // b now knows it eligible
        assertThat(client(a).post("/workers/mr-drain/drain", Map.of("reason", "maintenance")).status()).isEqualTo(200);
        String jobId = client(a).post("/job/create", Map.of("scriptName", "noop.py", "requiredLabels",
                List.of("mr-drain"))).json().get("jobId").asString();
        resyncBoth();

        // Whether b's memory still said eligible (read less than a second ago) or not, nothing is handed out:
        // a claim that lands is checked against the store and given back.
        assertThat(client(b).post("/bored/mr-drain?heartbeats=true", "").status()).isEqualTo(204);
        assertThat(client(b).get("/workers/mr-drain").json().get("state").asString()).isEqualTo("drained");
        resyncBoth();
        assertThat(client(a).get("/jobs/" + jobId).json().get("order").get("status").asString()).isEqualTo("unassigned");

        client(a).post("/workers/mr-drain/undrain", "");
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        int status;
        while ((status = client(b).post("/bored/mr-drain?heartbeats=true", "").status()) == 204
                && System.nanoTime() < deadline) {
            Thread.onSpinWait(); // b reads the node again within boss.fleet.standing-refresh (1s)
        }
        assertThat(status).isEqualTo(200);
    }
}
