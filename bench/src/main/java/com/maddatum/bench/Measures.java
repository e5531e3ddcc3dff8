package com.maddatum.bench;

import static com.maddatum.bench.BenchMain.awaitDone;
import static com.maddatum.bench.BenchMain.boss;
import static com.maddatum.bench.BenchMain.count;
import static com.maddatum.bench.BenchMain.submit;
import static com.maddatum.bench.BenchMain.worker;

import com.maddatum.testsupport.HttpJson;
import com.maddatum.testsupport.JarProcess;
import com.mongodb.client.MongoClient;
import com.mongodb.client.MongoClients;
import com.mongodb.client.MongoCollection;
import com.mongodb.client.model.Filters;
import com.mongodb.client.model.FindOneAndUpdateOptions;
import com.mongodb.client.model.IndexOptions;
import com.mongodb.client.model.Indexes;
import com.mongodb.client.model.ReturnDocument;
import com.mongodb.client.model.Updates;
import de.bwaldvogel.mongo.MongoServer;
import de.bwaldvogel.mongo.backend.h2.H2Backend;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Date;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.bson.Document;
import org.bson.types.ObjectId;
import tools.jackson.databind.JsonNode;

/** The six measures of issue 7; each returns its numbers, its goal and whether the goal was met. */
final class Measures {

    private static final Pattern STARTED = Pattern.compile("noop started (\\d+\\.\\d+)");

    private Measures() {}

    private static Map<String, Object> noop(Object... fields) {
        Map<String, Object> job = new LinkedHashMap<>();
        job.put("scriptName", "noop.py");
        job.put("projectName", "bench");
        for (int i = 0; i < fields.length; i += 2) {
            job.put((String) fields[i], fields[i + 1]);
        }
        return job;
    }

    /** Wall times of {@code n} bare {@code python -u noop.py} runs in a row, ms. */
    private static List<Double> bareRuns(BenchMain.Config config, Path noop, int n) throws Exception {
        List<Double> times = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            long started = System.nanoTime();
            Process process = new ProcessBuilder(config.python(), "-u", noop.toString(), "{\"_id\":\"bare\"}")
                    .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
            process.waitFor();
            times.add((System.nanoTime() - started) / 1e6);
        }
        return times;
    }

    /**
     * 1. Created to the script's first line, one idle long-polling worker, sequential noop jobs: three rounds of
     * 200, pooled. One round's p99 (its second-worst job) moved by up to 20 ms from run to run on two shared
     * cores (bench/ANALYSIS.md, 2026-12-04); 600 jobs make the p99 their sixth-worst, and each round's is
     * reported beside it.
     */
    static Map<String, Object> dispatchLatency(BenchMain.Config config) throws Exception {
        int rounds = config.size(3, 1);
        int jobs = rounds * config.size(200, 10);
        List<Double> latencies = new ArrayList<>();
        Map<String, List<Double>> parts = new LinkedHashMap<>();
        for (String part : List.of("submitToCreated", "createdToClaimed", "claimedToHandedOver", "handedOverToFirstLine")) {
            parts.put(part, new ArrayList<>());
        }
        List<Integer> roundStarts = new ArrayList<>();
        try (JarProcess boss = boss(config, config.work().resolve("dispatch"), Map.of());
                JarProcess worker = worker(config, boss, "bench-dispatch", Map.of("WORKER_LONG_POLL", "20s"))) {
            HttpJson api = new HttpJson(boss.url());
            // Twenty warm-up jobs are not counted: the services' JIT compiles the dispatch path during the first
            // ones (a long-running Worker has it compiled), which with five left compiler threads in the first
            // measured jobs on two cores.
            for (int i = -config.size(20, 2); i < jobs; i++) {
                // An idle Worker: parked in its long poll again, and its slot's next interpreter started (about
                // 60 ms of Python's start-up on 2 cores; with the 30 ms used until 2026-12-04 that start-up ran
                // into the next job's creation and dispatch, which is not an idle Worker).
                Thread.sleep(250);
                long created = System.currentTimeMillis();
                // Submitted and waited for in one request, answered when the job has finished: nothing of the
                // bench's wakes up the Boss while the job is dispatched.
                JsonNode answer = api.post("/job/create?waitSeconds=60", noop("i", i)).json();
                String jobId = answer.path("jobId").asString();
                JsonNode detail = answer.has("outcome") ? answer : awaitDone(api, jobId, Duration.ofSeconds(60));
                Matcher started = STARTED.matcher(detail.path("outcome").path("logTail").asString());
                if (!started.find()) {
                    throw new IllegalStateException("no start time in the log of " + jobId + ": " + detail);
                }
                if (i >= 0) {
                    double firstLine = Double.parseDouble(started.group(1)) * 1000;
                    if (i % (jobs / rounds) == 0) {
                        roundStarts.add(latencies.size());
                    }
                    latencies.add(firstLine - created);
                    // Where it went, from the job's own record (one machine, one clock): the order's creation
                    // on the Boss, its claim, the Worker's hand-over to the script's process, its first line.
                    double stored = micros(detail.path("order").path("createdDate").asString());
                    double claimed = lastAt(detail.path("order"), "assigned");
                    double handedOver = micros(detail.path("outcome").path("startedAt").asString());
                    parts.get("submitToCreated").add(stored - created);
                    parts.get("createdToClaimed").add(claimed - stored);
                    parts.get("claimedToHandedOver").add(handedOver - claimed);
                    parts.get("handedOverToFirstLine").add(firstLine - handedOver);
                }
            }
        }
        Stats stats = new Stats(latencies);
        List<Double> roundP99s = new ArrayList<>();
        for (int r = 0; r < roundStarts.size(); r++) {
            int to = r + 1 < roundStarts.size() ? roundStarts.get(r + 1) : latencies.size();
            roundP99s.add(Stats.round(new Stats(latencies.subList(roundStarts.get(r), to)).percentile(99), 1));
        }
        Map<String, Object> result = new LinkedHashMap<>();
        result.put("latencyMs", stats.summary(1));
        result.put("p99ByRound", roundP99s);
        result.put("breakdownMs", partsSummary(parts));
        result.put("goal", "p99 <= 50 ms");
        result.put("met", stats.percentile(99) <= 50);
        result.put("anchors", "seed: polls once a minute (0-60 s); clearml-agent and W&B sweep agent: 5 s; JobRunr: 15 s");
        return result;
    }

    /** 2. N noop jobs through the Boss and one single-slot worker, against N bare `python noop.py` runs. */
    static Map<String, Object> perJobOverhead(BenchMain.Config config) throws Exception {
        int jobs = config.size(300, 10);
        Path noop = config.scripts().resolve("noop.py");
        // Bare runs before and after the services run, none beside them: the floor is the lower of the two
        // medians, so a burst of the machine's (or of this JVM's start-up) on one side cannot make the ratio.
        bareRuns(config, noop, config.size(5, 1)); // warm-up: the page cache, this JVM's first spawns
        List<Double> bareBefore = bareRuns(config, noop, config.size(30, 3));
        double totalMs;
        Map<String, Object> profile;
        try (JarProcess boss = boss(config, config.work().resolve("overhead"), Map.of());
                JarProcess worker = worker(config, boss, "bench-overhead", Map.of())) {
            HttpJson api = new HttpJson(boss.url());
            awaitDone(api, submit(api, noop("warm-up", true)), Duration.ofSeconds(60));
            long baseline = count(api, "done");
            Map<String, double[]> storeBefore = storeTimers(api);
            long started = System.nanoTime();
            List<String> ids = new ArrayList<>();
            for (int i = 0; i < jobs; i++) {
                ids.add(submit(api, noop("i", i)));
            }
            // One slot claims oldest first: the last job is the last to finish (a retried one is waited for
            // after it). A long poll, not a loop of counts, which took the CPU the jobs need.
            awaitDone(api, ids.get(ids.size() - 1), Duration.ofSeconds(120));
            while (count(api, "done") < baseline + jobs) {
                Thread.sleep(20);
            }
            totalMs = (System.nanoTime() - started) / 1e6;
            profile = profile(api, new HttpJson(worker.url()), jobs, storeBefore);
            // Read after the clock stopped: the breakdown costs the measure nothing.
            List<JsonNode> details = new ArrayList<>();
            for (String id : ids) {
                details.add(awaitDone(api, id, Duration.ofSeconds(60)));
            }
            profile.put("breakdownMs", breakdown(details));
        }
        List<Double> bareAfter = bareRuns(config, noop, config.size(30, 3));
        List<Double> bare = new ArrayList<>(bareBefore);
        bare.addAll(bareAfter);
        double before = new Stats(bareBefore).median();
        double after = new Stats(bareAfter).median();
        double bareMs = Math.min(before, after); // a burst on one side makes that side slower, never faster
        double ratio = totalMs / (jobs * bareMs);
        Map<String, Object> result = new LinkedHashMap<>();
        result.put("jobs", jobs);
        result.put("bareNoopMs", new Stats(bare).summary(1));
        result.put("bareNoopMsBeforeAndAfter", List.of(Stats.round(before, 1), Stats.round(after, 1)));
        result.put("bareNoopMsFloor", Stats.round(bareMs, 1));
        if (Math.max(before, after) > 1.1 * bareMs) {
            result.put("bareNoopWarning", "the two medians differ by over 10%: the machine was not quiet");
        }
        result.put("totalSeconds", Stats.round(totalMs / 1000, 2));
        result.put("perJobMs", Stats.round(totalMs / jobs, 1));
        result.put("overheadPerJobMs", Stats.round(totalMs / jobs - bareMs, 1));
        result.put("ratio", Stats.round(ratio, 3));
        result.put("goal", "ratio <= 1.10");
        result.put("met", ratio <= 1.10);
        result.put("profile", profile);
        result.put("anchors", "Celery 5 + Redis here: ~1.0 default; ~78x the floor in at-least-once mode");
        return result;
    }

    /**
     * Where each job's time went, from its own record: the Boss's history (assigned = claimed, done = outcome
     * stored) and the Worker's outcome (the script's start and end as the Worker saw them), one clock (one
     * machine). In the order the jobs were claimed: the claim gap is from the previous job's outcome stored to
     * this one's claim. p50 / p95 / mean per part; the means add up to the time a job takes.
     */
    static Map<String, Object> breakdown(List<JsonNode> details) {
        record Times(double assigned, double started, double finished, double done) {}
        List<Times> times = new ArrayList<>();
        for (JsonNode detail : details) {
            double assigned = lastAt(detail.path("order"), "assigned"); // the last claim: the attempt that ran
            double done = lastAt(detail.path("order"), "done");
            JsonNode outcome = detail.path("outcome");
            if (Double.isNaN(assigned) || Double.isNaN(done) || !outcome.has("startedAt")) {
                continue;
            }
            times.add(new Times(assigned, micros(outcome.path("startedAt").asString()),
                    micros(outcome.path("finishedAt").asString()), done));
        }
        times.sort(java.util.Comparator.comparingDouble(Times::assigned));
        Map<String, List<Double>> parts = new LinkedHashMap<>();
        for (String part : List.of("claimGap", "claimToStart", "script", "endToStored")) {
            parts.put(part, new ArrayList<>());
        }
        for (int i = 0; i < times.size(); i++) {
            Times t = times.get(i);
            if (i > 0) {
                parts.get("claimGap").add(t.assigned() - times.get(i - 1).done());
            }
            parts.get("claimToStart").add(t.started() - t.assigned());
            parts.get("script").add(t.finished() - t.started());
            parts.get("endToStored").add(t.done() - t.finished());
        }
        Map<String, Object> result = partsSummary(parts);
        result.put("jobs", times.size());
        return result;
    }

    /** p50, p95 and mean of each part, in milliseconds. */
    private static Map<String, Object> partsSummary(Map<String, List<Double>> parts) {
        Map<String, Object> result = new LinkedHashMap<>();
        parts.forEach((part, values) -> {
            Stats stats = new Stats(values);
            result.put(part, Map.of("p50", Stats.round(stats.median(), 1), "p95", Stats.round(stats.percentile(95), 1),
                    "mean", Stats.round(values.stream().mapToDouble(Double::doubleValue).average().orElse(Double.NaN),
                            1)));
        });
        return result;
    }

    /** When the order's history last recorded {@code status}, in milliseconds since the epoch; NaN if never. */
    private static double lastAt(JsonNode order, String status) {
        double at = Double.NaN;
        for (JsonNode entry : order.path("history")) {
            if (entry.path("status").asString().equals(status)) {
                at = micros(entry.path("at").asString());
            }
        }
        return at;
    }

    /** An ISO instant to milliseconds since the epoch, keeping its microseconds. */
    private static double micros(String instant) {
        Instant at = Instant.parse(instant);
        return at.getEpochSecond() * 1000.0 + at.getNano() / 1e6;
    }

    /**
     * Where a job's time goes, from the services' own metrics: the Boss's mean time per route
     * (http.server.requests) times the calls a job makes, and the worker's script time per job.
     */
    private static Map<String, Object> profile(HttpJson boss, HttpJson worker, int jobs) {
        return profile(boss, worker, jobs, Map.of());
    }

    /** {@code storeBefore}: the store timers when the timed jobs began (what came before is not theirs). */
    private static Map<String, Object> profile(HttpJson boss, HttpJson worker, int jobs,
            Map<String, double[]> storeBefore) {
        Map<String, Object> profile = new LinkedHashMap<>();
        Map<String, double[]> routes = timers(boss, "http_server_requests_seconds", "method", "uri");
        Map<String, Object> bossMsPerJob = new LinkedHashMap<>();
        routes.forEach((route, pair) -> {
            if (pair[1] > 0 && !route.contains("/jobs") && !route.contains("actuator")) {
                bossMsPerJob.put(route, Map.of("callsPerJob", Stats.round(pair[1] / jobs, 2),
                        "meanMs", Stats.round(pair[0] / pair[1] * 1000, 2)));
            }
        });
        profile.put("bossRoutes", bossMsPerJob);
        profile.put("bossStore", storeCommands(boss, jobs, storeBefore));
        if (worker == null) {
            return profile;
        }
        double sum = 0;
        double count = 0;
        for (String row : worker.get("/actuator/prometheus").body().split("\n")) {
            if (row.startsWith("worker_script_duration_seconds_sum")) {
                sum = Double.parseDouble(row.substring(row.lastIndexOf(' ') + 1));
            } else if (row.startsWith("worker_script_duration_seconds_count")) {
                count = Double.parseDouble(row.substring(row.lastIndexOf(' ') + 1));
            }
        }
        profile.put("workerScriptMsPerJob", count == 0 ? null : Stats.round(sum / count * 1000, 1));
        return profile;
    }

    private static Map<String, double[]> storeTimers(HttpJson boss) {
        return timers(boss, "mongodb_driver_commands_seconds", "command", "collection");
    }

    /**
     * A timer of a service's {@code /actuator/prometheus}, as {sum of seconds, count} by the values of
     * {@code labels} (joined with a space; "?" for one a row lacks), summed over its other labels.
     */
    private static Map<String, double[]> timers(HttpJson service, String metric, String... labels) {
        Map<String, double[]> timers = new LinkedHashMap<>();
        Pattern line = Pattern.compile("^" + metric + "_(sum|count)\\{(.*)\\} ([0-9.eE+-]+)$");
        for (String row : service.get("/actuator/prometheus").body().split("\n")) {
            Matcher m = line.matcher(row);
            if (m.find()) {
                List<String> key = new ArrayList<>();
                for (String label : labels) {
                    Matcher value = Pattern.compile("\\b" + label + "=\"([^\"]*)\"").matcher(m.group(2));
                    key.add(value.find() ? value.group(1) : "?");
                }
                double[] pair = timers.computeIfAbsent(String.join(" ", key), k -> new double[2]);
                pair[m.group(1).equals("sum") ? 0 : 1] += Double.parseDouble(m.group(3));
            }
        }
        return timers;
    }

    /**
     * The Boss's commands to its store (the driver's {@code mongodb_driver_commands_seconds}) since
     * {@code before} was read (empty: since the Boss started), per job: how many of each (command on collection) and their mean, and the store's time per job all told
     * (the wire round trip and the store's own work; not the Boss's commits, which are not commands).
     */
    private static Map<String, Object> storeCommands(HttpJson boss, int jobs, Map<String, double[]> before) {
        Map<String, double[]> commands = storeTimers(boss);
        before.forEach((key, pair) -> commands.computeIfPresent(key, (k, now) -> new double[] {now[0] - pair[0],
                now[1] - pair[1]}));
        Map<String, Object> perJob = new LinkedHashMap<>();
        double totalSeconds = 0;
        double totalCalls = 0;
        for (Map.Entry<String, double[]> entry : commands.entrySet()) {
            double[] pair = entry.getValue();
            if (pair[1] >= jobs / 2.0) { // what each job does, not start-up and housekeeping
                perJob.put(entry.getKey(), Map.of("callsPerJob", Stats.round(pair[1] / jobs, 2),
                        "meanMs", Stats.round(pair[0] / pair[1] * 1000, 2)));
            }
            totalSeconds += pair[0];
            totalCalls += pair[1];
        }
        Map<String, Object> result = new LinkedHashMap<>();
        result.put("commandsPerJob", Stats.round(totalCalls / jobs, 1));
        result.put("msPerJob", Stats.round(totalSeconds / jobs * 1000, 1));
        result.put("byCommand", perJob);
        return result;
    }

    /** 3. 16 concurrent HTTP clients claim until the orders are gone, on the embedded store. */
    static Map<String, Object> claimThroughput(BenchMain.Config config) throws Exception {
        int orders = config.size(5000, 200);
        List<Double> rates = new ArrayList<>();
        long duplicates = 0;
        Map<String, Object> throughputProfile = null;
        List<Double> unsyncedRates = new ArrayList<>();
        int rounds = config.size(3, 1);
        for (int round = 0; round < rounds + 1; round++) {
            // The extra last round turns off the commit per write, to show what that commit costs.
            boolean synced = round < rounds;
            Map<String, String> env = synced ? Map.of() : Map.of("BOSS_STORE_SYNC_WRITES", "false");
            try (JarProcess boss = boss(config, config.work().resolve("throughput-" + round), env)) {
                HttpJson api = new HttpJson(boss.url());
                ExecutorService pool = Executors.newFixedThreadPool(16);
                try {
                    List<Future<?>> creates = new ArrayList<>();
                    for (int c = 0; c < 8; c++) {
                        int from = c;
                        creates.add(pool.submit(() -> {
                            for (int i = from; i < orders; i += 8) {
                                submit(api, noop("i", i));
                            }
                            return null;
                        }));
                    }
                    for (Future<?> create : creates) {
                        create.get();
                    }
                    long started = System.nanoTime();
                    List<Future<List<String>>> clients = new ArrayList<>();
                    for (int c = 0; c < 16; c++) {
                        String node = "claimer-" + c;
                        clients.add(pool.submit(() -> {
                            List<String> mine = new ArrayList<>();
                            HttpJson.Reply reply;
                            while ((reply = api.post("/bored/" + node, "")).status() == 200) {
                                mine.add(reply.json().get("_id").asString());
                            }
                            return mine;
                        }));
                    }
                    List<String> claimed = new ArrayList<>();
                    for (Future<List<String>> client : clients) {
                        claimed.addAll(client.get(10, TimeUnit.MINUTES));
                    }
                    double seconds = (System.nanoTime() - started) / 1e9;
                    duplicates += claimed.size() - new HashSet<>(claimed).size();
                    if (new HashSet<>(claimed).size() != orders) {
                        throw new IllegalStateException("claimed " + new HashSet<>(claimed).size() + " of " + orders);
                    }
                    (synced ? rates : unsyncedRates).add(orders / seconds);
                    if (round == 0) {
                        throughputProfile = profile(api, null, orders);
                    }
                } finally {
                    pool.shutdownNow();
                }
            }
        }
        Stats stats = new Stats(rates);
        Map<String, Object> result = new LinkedHashMap<>();
        result.put("orders", orders);
        result.put("clients", 16);
        result.put("claimsPerSecond", stats.summary(0));
        result.put("duplicates", duplicates);
        result.put("goal", ">= 1000 claims/s, no order claimed twice");
        result.put("met", stats.median() >= 1000 && duplicates == 0);
        result.put("anchors", "db-scheduler 2k-10k executions/s; Slurm 500 jobs/s");
        result.put("realMongoDb", "not measured: no MongoDB server runs on this machine");
        result.put("profile", throughputProfile);
        result.put("claimsPerSecondWithoutCommitPerWrite", new Stats(unsyncedRates).summary(0));
        List<Double> alone = new ArrayList<>();
        try {
            // A first round to compile the store's code (this JVM runs both compilers), not counted.
            storeAloneClaims(config.work().resolve("store-alone-warm-up"), orders, 16);
            for (int round = 0; round < rounds; round++) {
                alone.add(storeAloneClaims(config.work().resolve("store-alone-" + round), orders, 16));
            }
        } catch (Exception e) { // the Boss's figures above stand without it
            result.put("storeAloneError", e.toString());
            return result;
        }
        Stats aloneStats = new Stats(alone);
        result.put("storeAloneClaimsPerSecond", aloneStats.summary(0));
        result.put("boss/storeAlone", Stats.round(stats.median() / aloneStats.median(), 3));
        result.put("storeAloneIs", "the embedded store by itself (mongo-java-server, H2 backend, through the driver "
                + "and its wire protocol, in the bench's JVM with both compilers after a round of warm-up, which "
                + "favours it over the Boss's C1-only flags) doing each claim's store work as the Boss does it: "
                + "the order read by _id, the compare-and-set on rev with a commit, the job read by _id; 16 "
                + "threads, no HTTP, no Spring: an upper bound of the claims this store gives on this machine");
        return result;
    }

    /**
     * Claims per second of the embedded store alone: {@code orders} orders and their jobs shaped as the Boss
     * stores them (a unique index on {@code rev}, as the Boss's compare-and-set uses), then {@code clients}
     * threads each taking the next id from memory (the Boss keeps the claimable ones in memory too) and
     * doing what a claim does to the store: read the order by {@code _id}, move it with a write conditional
     * on its revision (status, node, attempt, claim time, a history entry, the next revision), commit the
     * store as the Boss's {@code boss.store.sync-writes} does, and read the job by {@code _id}.
     */
    static double storeAloneClaims(Path dir, int orders, int clients) throws Exception {
        Files.createDirectories(dir);
        H2Backend backend = new H2Backend(dir.resolve("store.mv").toString());
        MongoServer server = new MongoServer(backend);
        ExecutorService pool = Executors.newFixedThreadPool(clients);
        try (MongoClient client = MongoClients.create(server.bindAndGetConnectionString())) {
            MongoCollection<Document> orderDocs = client.getDatabase("boss").getCollection("orders");
            MongoCollection<Document> jobDocs = client.getDatabase("boss").getCollection("jobs");
            orderDocs.createIndex(Indexes.ascending("rev"), new IndexOptions().unique(true));
            orderDocs.createIndex(Indexes.ascending("jobId"), new IndexOptions().unique(true)); // as the Boss's
            ConcurrentLinkedQueue<ObjectId> ready = new ConcurrentLinkedQueue<>();
            Date now = new Date();
            for (int i = 0; i < orders; i++) {
                ObjectId id = new ObjectId();
                String jobId = "job-" + i;
                jobDocs.insertOne(new Document(noop("i", i)).append("_id", jobId).append("createdAt", now));
                orderDocs.insertOne(new Document("_id", id).append("jobId", jobId).append("createdDate", now)
                        .append("status", "unassigned").append("priority", 0).append("requiredLabels", List.of())
                        .append("projectName", "bench").append("scriptName", "noop.py").append("attempt", 0)
                        .append("maxAttempts", 3).append("timeoutSeconds", 86400)
                        .append("history", List.of(new Document("status", "unassigned").append("at", now)
                                .append("attempt", 0).append("reason", "created")))
                        .append("rev", id.toHexString() + ":0").append("modifiedAt", now));
                ready.add(id);
            }
            backend.commit();
            long started = System.nanoTime();
            List<Future<Integer>> workers = new ArrayList<>();
            for (int c = 0; c < clients; c++) {
                String node = "claimer-" + c;
                workers.add(pool.submit(() -> {
                    int mine = 0;
                    ObjectId id;
                    while ((id = ready.poll()) != null) {
                        Document order = orderDocs.find(Filters.eq("_id", id)).first();
                        Date at = new Date();
                        Document moved = orderDocs.findOneAndUpdate(Filters.eq("rev", order.getString("rev")),
                                Updates.combine(Updates.set("status", "assigned"), Updates.set("assignedTo", node),
                                        Updates.set("attempt", 1), Updates.set("claimedAt", at),
                                        Updates.set("leaseUntil", new Date(at.getTime() + 60_000)),
                                        Updates.push("history", new Document("status", "assigned").append("at", at)
                                                .append("node", node).append("attempt", 1).append("reason", "claimed")),
                                        Updates.set("rev", id.toHexString() + ":1"), Updates.set("modifiedAt", at)),
                                new FindOneAndUpdateOptions().returnDocument(ReturnDocument.AFTER));
                        if (moved == null) {
                            throw new IllegalStateException("lost the compare-and-set of " + id);
                        }
                        backend.commit();
                        jobDocs.find(Filters.eq("_id", order.getString("jobId"))).first();
                        mine++;
                    }
                    return mine;
                }));
            }
            int claimed = 0;
            for (Future<Integer> worker : workers) {
                claimed += worker.get(10, TimeUnit.MINUTES);
            }
            double seconds = (System.nanoTime() - started) / 1e9;
            if (claimed != orders) {
                throw new IllegalStateException("claimed " + claimed + " of " + orders);
            }
            return orders / seconds;
        } finally {
            pool.shutdownNow();
            server.shutdownNow();
            backend.close();
        }
    }

    /** 4 and 5. Claim latency with 1k, 10k, 100k finished orders in the embedded store; footprint. */
    static Map<String, Object> growth(BenchMain.Config config) throws Exception {
        int[] sizes = config.smoke() ? new int[] {100, 300} : new int[] {1_000, 10_000, 100_000};
        int claims = config.size(200, 20);
        Path data = Files.createDirectories(config.work().resolve("growth"));
        Map<String, Object> bySize = new LinkedHashMap<>();
        Map<String, Object> footprint = new LinkedHashMap<>();
        double first = Double.NaN;
        double last = Double.NaN;
        int have = 0;
        for (int size : sizes) {
            insertFinishedOrders(data.resolve("boss.mv"), have, size);
            have = size;
            long starting = System.nanoTime();
            try (JarProcess boss = boss(config, data, Map.of())) {
                double startupSeconds = (System.nanoTime() - starting) / 1e9;
                HttpJson api = new HttpJson(boss.url());
                for (int i = 0; i < claims; i++) {
                    submit(api, noop("i", i));
                }
                List<Double> latencies = new ArrayList<>();
                for (int i = 0; i < claims; i++) {
                    long started = System.nanoTime();
                    HttpJson.Reply reply = api.post("/bored/growth", "");
                    latencies.add((System.nanoTime() - started) / 1e6);
                    if (reply.status() != 200) {
                        throw new IllegalStateException("claim " + i + " got " + reply.status());
                    }
                }
                Stats stats = new Stats(latencies);
                Map<String, Object> row = new LinkedHashMap<>(stats.summary(2));
                row.put("bossStartupSeconds", Stats.round(startupSeconds, 2));
                bySize.put(Integer.toString(size), row);
                if (Double.isNaN(first)) {
                    first = stats.median();
                }
                last = stats.median();
                if (size == sizes[sizes.length - 1]) {
                    footprint.put("finishedOrders", size);
                    footprint.put("bossRssMiB", rssMiB(boss.pid()));
                    footprint.put("bossHeapUsedMiB", heapMiB(api));
                    footprint.put("bossStartupSeconds", Stats.round(startupSeconds, 2));
                }
            }
        }
        footprint.put("workerStartupSeconds", workerStartup(config));
        double ratio = last / first;
        Map<String, Object> result = new LinkedHashMap<>();
        result.put("claimLatencyMsByFinishedOrders", bySize);
        result.put("ratioLargestToSmallest", Stats.round(ratio, 3));
        result.put("goal", "t(100k) / t(1k) <= 1.5");
        result.put("met", ratio <= 1.5);
        result.put("anchors", "mongo-java-server's sorted claim: 10 ms -> 900 ms over the same range");
        result.put("footprint", footprint);
        return result;
    }

    /** Adds finished orders straight into the embedded store's file while no Boss has it open. */
    private static void insertFinishedOrders(Path file, int from, int to) {
        H2Backend backend = new H2Backend(file.toString());
        MongoServer server = new MongoServer(backend);
        try (MongoClient client = MongoClients.create(server.bindAndGetConnectionString())) {
            MongoCollection<Document> orders = client.getDatabase("boss").getCollection("orders");
            List<Document> batch = new ArrayList<>();
            Date now = new Date();
            for (int i = from; i < to; i++) {
                ObjectId id = new ObjectId();
                batch.add(new Document("_id", id).append("jobId", "finished-" + i).append("createdDate", now)
                        .append("status", "done").append("priority", 0).append("requiredLabels", List.of())
                        .append("projectName", "history").append("scriptName", "noop.py").append("attempt", 1)
                        .append("maxAttempts", 3).append("assignedTo", "old-node").append("finishedAt", now)
                        .append("history", List.of(new Document("status", "done").append("at", now)))
                        .append("rev", id.toHexString() + ":3"));
                if (batch.size() == 5000) {
                    orders.insertMany(batch);
                    batch.clear();
                }
            }
            if (!batch.isEmpty()) {
                orders.insertMany(batch);
            }
        } finally {
            server.shutdownNow();
            backend.close();
        }
    }

    private static double rssMiB(long pid) throws Exception {
        for (String line : Files.readAllLines(Path.of("/proc/" + pid + "/status"))) {
            if (line.startsWith("VmRSS:")) {
                return Stats.round(Long.parseLong(line.replaceAll("\\D", "")) / 1024.0, 1);
            }
        }
        return Double.NaN;
    }

    static double heapMiB(HttpJson api) {
        double bytes = 0;
        for (String line : api.get("/actuator/prometheus").body().split("\n")) {
            if (line.startsWith("jvm_memory_used_bytes{") && line.contains("area=\"heap\"")) {
                bytes += Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
            }
        }
        return Stats.round(bytes / 1024 / 1024, 1);
    }

    private static Map<String, Object> workerStartup(BenchMain.Config config) throws Exception {
        List<Double> seconds = new ArrayList<>();
        try (JarProcess boss = boss(config, config.work().resolve("startup"), Map.of())) {
            for (int i = 0; i < config.size(3, 1); i++) {
                long started = System.nanoTime();
                try (JarProcess worker = worker(config, boss, "bench-startup-" + i, Map.of())) {
                    seconds.add((System.nanoTime() - started) / 1e9);
                }
            }
        }
        return new Stats(seconds).summary(2);
    }

    /** 6. nn.py with the tuned example against RidgeCV (sk.py), same folds, for several seeds. */
    static Map<String, Object> modelQuality(BenchMain.Config config) throws Exception {
        Path examples = config.repo().resolve("examples");
        List<Double> ratios = new ArrayList<>();
        Map<String, Object> bySeed = new LinkedHashMap<>();
        for (int seed = 0; seed < config.size(5, 1); seed++) {
            Map<String, Object> overrides = new LinkedHashMap<>(Map.of("seed", seed));
            if (config.smoke()) {
                overrides.put("epochs", 10);
            }
            double nn = loss(config, "nn.py", examples.resolve("diabetes_good_job.json"), overrides);
            double ridge = loss(config, "sk.py", examples.resolve("diabetes_ridge_job.json"), Map.of("seed", seed));
            ratios.add(nn / ridge);
            bySeed.put(Integer.toString(seed), Map.of("nnMse", Stats.round(nn, 1), "ridgeCvMse", Stats.round(ridge, 1),
                    "ratio", Stats.round(nn / ridge, 3)));
        }
        Stats stats = new Stats(ratios);
        Map<String, Object> result = new LinkedHashMap<>();
        result.put("bySeed", bySeed);
        result.put("medianRatio", Stats.round(stats.median(), 3));
        result.put("goal", "CV MSE ratio nn / RidgeCV <= 1.05");
        result.put("met", stats.median() <= 1.05);
        result.put("anchors", "RidgeCV about 2,990 here");
        return result;
    }

    /** Runs a script on an example job (with overrides) as a bare process and returns its Outcome's loss. */
    static double loss(BenchMain.Config config, String script, Path example, Map<String, Object> overrides)
            throws Exception {
        @SuppressWarnings("unchecked")
        Map<String, Object> job = HttpJson.MAPPER.readValue(Files.readString(example), LinkedHashMap.class);
        job.put("_id", "bench");
        job.putAll(overrides);
        Process process = new ProcessBuilder(config.python(), config.scripts().resolve(script).toString(),
                HttpJson.json(job)).redirectError(ProcessBuilder.Redirect.DISCARD).start();
        String[] lines = new String(process.getInputStream().readAllBytes()).trim().split("\n");
        process.waitFor();
        JsonNode outcome = HttpJson.MAPPER.readTree(lines[lines.length - 1]);
        if (outcome.get("status").asInt() != 200) {
            throw new IllegalStateException(script + " failed: " + outcome);
        }
        return outcome.get("loss").asDouble();
    }
}
