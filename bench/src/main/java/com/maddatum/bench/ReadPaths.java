package com.maddatum.bench;

import static com.maddatum.bench.BenchMain.boss;
import static com.maddatum.bench.BenchMain.submit;

import com.maddatum.testsupport.HttpJson;
import com.maddatum.testsupport.JarProcess;
import com.mongodb.client.MongoClient;
import com.mongodb.client.MongoClients;
import com.mongodb.client.MongoDatabase;
import de.bwaldvogel.mongo.MongoServer;
import de.bwaldvogel.mongo.backend.h2.H2Backend;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Date;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.bson.Document;
import org.bson.types.ObjectId;

/**
 * What a dashboard, a curl user and Prometheus poll, as history grows: each polled route's median at
 * 1k, 10k and 100k finished jobs (with their jobs and outcomes) on the embedded store, and the claim
 * p99 with and without a dashboard polling at the same time.
 */
final class ReadPaths {

    /** The routes something polls; {@code {job}} is a recent job's id. */
    static final List<String> ROUTES = List.of("/stats", "/projects", "/jobs?size=50",
            "/jobs?project=history&status=done&size=50", "/retrieve/order?size=100", "/workers",
            "/projects/history/leaderboard?limit=20", "/projects/history/outcomes?limit=500",
            "/actuator/prometheus", "/jobs/{job}", "/retrieve/outcome/{job}");

    /** What the dashboard asks every 2 s with every panel looked at once. */
    static final List<String> DASHBOARD = List.of("/stats", "/projects", "/jobs?size=50", "/workers",
            "/projects/history/outcomes?limit=500", "/projects/history/leaderboard?limit=10");

    private ReadPaths() {}

    static Map<String, Object> measure(BenchMain.Config config) throws Exception {
        int[] sizes = config.smoke() ? new int[] {100, 300} : new int[] {1_000, 10_000, 100_000};
        int requests = config.size(100, 5);
        Path data = Files.createDirectories(config.work().resolve("read-paths"));
        Map<String, Map<String, Double>> medians = new LinkedHashMap<>();
        Map<String, Object> claims = null;
        int have = 0;
        for (int size : sizes) {
            String lastJob = insertFinishedJobs(data.resolve("boss.mv"), have, size);
            have = size;
            try (JarProcess boss = boss(config, data, Map.of())) {
                HttpJson api = new HttpJson(boss.url());
                // Warm the JIT and the caches first, then take the routes in turn, so that no route is
                // measured while the JVM is still warming and all see the same moments of the machine.
                Map<String, List<Double>> took = new LinkedHashMap<>();
                for (int round = -config.size(20, 3); round < requests; round++) {
                    for (String route : ROUTES) {
                        String path = route.replace("{job}", lastJob);
                        long started = System.nanoTime();
                        check(api.get(path), path);
                        if (round >= 0) {
                            took.computeIfAbsent(route, r -> new ArrayList<>()).add((System.nanoTime() - started) / 1e6);
                        }
                    }
                }
                took.forEach((route, times) -> medians.computeIfAbsent(route, r -> new LinkedHashMap<>())
                        .put(Integer.toString(size), Stats.round(new Stats(times).median(), 2)));
                if (size == sizes[sizes.length - 1]) {
                    claims = claimsUnderADashboard(config, api);
                }
            }
        }
        Map<String, Object> ratios = new LinkedHashMap<>();
        double worst = 0;
        String first = Integer.toString(sizes[0]);
        String last = Integer.toString(sizes[sizes.length - 1]);
        for (Map.Entry<String, Map<String, Double>> route : medians.entrySet()) {
            // Below a millisecond the clock's and the network's noise are the measurement: floor at 1 ms.
            double ratio = Math.max(1.0, route.getValue().get(last)) / Math.max(1.0, route.getValue().get(first));
            ratios.put(route.getKey(), Stats.round(ratio, 2));
            worst = Math.max(worst, ratio);
        }
        Map<String, Object> result = new LinkedHashMap<>();
        result.put("medianMsByFinishedJobs", medians);
        result.put("ratioLargestToSmallest", ratios);
        result.put("worstRatio", Stats.round(worst, 2));
        result.put("claims", claims);
        double claimRatio = claims == null ? Double.NaN : (double) claims.get("ratio");
        result.put("goal", "every polled route t(100k)/t(1k) <= 1.5 (medians, floored at 1 ms); claim p99 with a "
                + "dashboard polling <= 1.5x without");
        result.put("met", worst <= 1.5 && claimRatio <= 1.5);
        return result;
    }

    private static void check(HttpJson.Reply reply, String path) {
        if (reply.status() != 200) {
            throw new IllegalStateException(path + " answered " + reply.status() + ": " + reply.body());
        }
    }

    /**
     * Claim p99 with no reader, then with a dashboard asking its routes every 2 s, as the real page
     * does with every panel open; claims are paced like busy workers, so the run spans many refreshes.
     */
    private static Map<String, Object> claimsUnderADashboard(BenchMain.Config config, HttpJson api) throws Exception {
        int claims = config.size(400, 30);
        for (int i = 0; i < 2 * claims; i++) {
            submit(api, Map.of("scriptName", "noop.py", "projectName", "claims"));
        }
        double alone = claimP99(api, claims);
        AtomicBoolean polling = new AtomicBoolean(true);
        AtomicInteger refreshes = new AtomicInteger();
        Thread dashboard = new Thread(() -> {
            while (polling.get()) {
                for (String route : DASHBOARD) {
                    api.get(route);
                }
                refreshes.incrementAndGet();
                try {
                    Thread.sleep(2000);
                } catch (InterruptedException e) {
                    return;
                }
            }
        }, "dashboard");
        dashboard.start();
        double withDashboard;
        try {
            withDashboard = claimP99(api, claims);
        } finally {
            polling.set(false);
            dashboard.interrupt();
            dashboard.join();
        }
        Map<String, Object> result = new LinkedHashMap<>();
        result.put("claims", claims);
        result.put("p99MsAlone", Stats.round(alone, 2));
        result.put("p99MsWithDashboard", Stats.round(withDashboard, 2));
        result.put("dashboardRefreshes", refreshes.get());
        result.put("ratio", Stats.round(withDashboard / alone, 2));
        return result;
    }

    private static double claimP99(HttpJson api, int claims) throws InterruptedException {
        List<Double> took = new ArrayList<>();
        for (int i = 0; i < claims; i++) {
            long started = System.nanoTime();
            HttpJson.Reply reply = api.post("/bored/bench-claimer?heartbeats=true", "");
            took.add((System.nanoTime() - started) / 1e6);
            check(reply, "/bored");
            Thread.sleep(20);
        }
        return new Stats(took).percentile(99);
    }

    /**
     * Adds finished jobs (job, done order, outcome), all in project "history" on 20 nodes, straight into
     * the embedded store's file while no Boss has it open. Returns the newest job's id.
     */
    private static String insertFinishedJobs(Path file, int from, int to) {
        H2Backend backend = new H2Backend(file.toString());
        MongoServer server = new MongoServer(backend);
        Random random = new Random(from);
        String lastJob = null;
        try (MongoClient client = MongoClients.create(server.bindAndGetConnectionString())) {
            MongoDatabase db = client.getDatabase("boss");
            List<Document> jobs = new ArrayList<>();
            List<Document> orders = new ArrayList<>();
            List<Document> outcomes = new ArrayList<>();
            long base = System.currentTimeMillis() - 86_400_000L;
            for (int i = from; i < to; i++) {
                ObjectId jobId = new ObjectId();
                ObjectId orderId = new ObjectId();
                ObjectId outcomeId = new ObjectId();
                Date at = new Date(base + i);
                double loss = random.nextDouble() * 1000;
                String node = "old-node-" + (i % 20);
                jobs.add(new Document("_id", jobId).append("scriptName", "noop.py").append("projectName", "history")
                        .append("learningRate", random.nextDouble()).append("i", i));
                orders.add(new Document("_id", orderId).append("jobId", jobId.toHexString()).append("createdDate", at)
                        .append("status", "done").append("priority", 0).append("requiredLabels", List.of())
                        .append("projectName", "history").append("scriptName", "noop.py").append("attempt", 1)
                        .append("maxAttempts", 3).append("assignedTo", node).append("finishedAt", at)
                        .append("outcomeId", outcomeId).append("loss", loss).append("modifiedAt", at)
                        .append("history", List.of(new Document("status", "done").append("at", at)))
                        .append("rev", orderId.toHexString() + ":3"));
                outcomes.add(new Document("_id", outcomeId).append("status", 200).append("jobId", jobId.toHexString())
                        .append("loss", loss).append("metric", -loss).append("metricName", "neg_mse")
                        .append("orderId", orderId).append("attempt", 1).append("node", node)
                        .append("projectName", "history").append("finishedAt", at).append("receivedAt", at));
                lastJob = jobId.toHexString();
                if (jobs.size() == 5000) {
                    flush(db, jobs, orders, outcomes);
                }
            }
            flush(db, jobs, orders, outcomes);
            for (int n = 0; n < 20; n++) {
                db.getCollection("workers").replaceOne(new Document("_id", "old-node-" + n),
                        new Document("_id", "old-node-" + n).append("labels", List.of("cpu"))
                                .append("lastSeenAt", new Date()),
                        new com.mongodb.client.model.ReplaceOptions().upsert(true));
            }
        } finally {
            server.shutdownNow();
            backend.close();
        }
        return lastJob;
    }

    private static void flush(MongoDatabase db, List<Document> jobs, List<Document> orders, List<Document> outcomes) {
        if (!jobs.isEmpty()) {
            db.getCollection("jobs").insertMany(jobs);
            db.getCollection("orders").insertMany(orders);
            db.getCollection("outcomes").insertMany(outcomes);
        }
        jobs.clear();
        orders.clear();
        outcomes.clear();
    }
}
