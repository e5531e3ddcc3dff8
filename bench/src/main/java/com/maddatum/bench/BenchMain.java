package com.maddatum.bench;

import com.maddatum.testsupport.HttpJson;
import com.maddatum.testsupport.JarProcess;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.SerializationFeature;
import tools.jackson.databind.json.JsonMapper;

/**
 * Measures the packaged Boss and Worker and writes RESULTS.md and results.json: dispatch latency,
 * per-job overhead against bare Python, claim throughput, claim cost as finished orders pile up,
 * footprint, and model quality. Ratios are taken inside one run, because the machine is shared.
 *
 * <pre>bench/run.sh            full sizes, writes bench/RESULTS.md
 * bench/run.sh --smoke    tiny sizes, writes bench/target/bench/ (what CI runs)</pre>
 */
public final class BenchMain {

    record Config(boolean smoke, Path repo, Path out, Path work) {
        Path bossJar() {
            return repo.resolve("boss-service/target/boss-service.jar");
        }

        Path workerJar() {
            return repo.resolve("worker-service/target/worker-service.jar");
        }

        Path scripts() {
            return repo.resolve("python-scripts");
        }

        String python() {
            return Files.isExecutable(Path.of("/usr/bin/python3")) ? "/usr/bin/python3" : "python3";
        }

        int size(int full, int smoke) {
            return this.smoke ? smoke : full;
        }
    }

    public static void main(String[] args) throws Exception {
        boolean smoke = List.of(args).contains("--smoke");
        Path repo = Path.of(System.getProperty("repo.dir", ".")).toAbsolutePath().normalize();
        Path out = smoke ? repo.resolve("bench/target/bench") : repo.resolve("bench");
        run(new Config(smoke, repo, out, Files.createTempDirectory("bench-")));
    }

    /** Runs every measure (a failing one is reported, not fatal) and writes the two result files. */
    public static Map<String, Object> run(Config config) throws Exception {
        Files.createDirectories(config.out());
        Map<String, Object> results = new LinkedHashMap<>();
        results.put("mode", config.smoke() ? "smoke" : "full");
        results.put("machine", Machine.describe(config.python()));
        Map<String, Object> measures = new LinkedHashMap<>();
        results.put("measures", measures);
        measure(measures, "dispatchLatency", () -> Measures.dispatchLatency(config));
        measure(measures, "perJobOverhead", () -> Measures.perJobOverhead(config));
        measure(measures, "claimThroughput", () -> Measures.claimThroughput(config));
        measure(measures, "growth", () -> Measures.growth(config));
        measure(measures, "modelQuality", () -> Measures.modelQuality(config));
        JsonMapper json = JsonMapper.builder().enable(SerializationFeature.INDENT_OUTPUT).build();
        Files.writeString(config.out().resolve("results.json"), json.writeValueAsString(results));
        Files.writeString(config.out().resolve("RESULTS.md"), Report.markdown(results));
        System.out.println("wrote " + config.out().resolve("RESULTS.md"));
        return results;
    }

    interface Measure {
        Map<String, Object> run() throws Exception;
    }

    private static void measure(Map<String, Object> measures, String name, Measure measure) {
        long started = System.nanoTime();
        System.out.println("bench: " + name + " ...");
        Map<String, Object> result;
        try {
            result = measure.run();
        } catch (Exception | AssertionError e) {
            result = new LinkedHashMap<>();
            result.put("error", e.toString());
            e.printStackTrace();
        }
        result.put("benchSeconds", Stats.round((System.nanoTime() - started) / 1e9, 1));
        measures.put(name, result);
        System.out.println("bench: " + name + " " + result);
    }

    // ---- shared helpers ---------------------------------------------------------------------------

    static JarProcess boss(Config config, Path dataDir, Map<String, String> extra) throws Exception {
        Map<String, String> env = new LinkedHashMap<>(extra);
        env.put("BOSS_STORE_DATA_DIR", dataDir.toString());
        env.put("LOGGING_LEVEL_COM_MADDATUM", "WARN");
        return JarProcess.start(config.bossJar(), config.work().resolve("boss-" + System.nanoTime() + ".log"), env);
    }

    static JarProcess worker(Config config, JarProcess boss, String name, Map<String, String> extra) throws Exception {
        Path home = Files.createDirectories(config.work().resolve(name + "-" + System.nanoTime()));
        Map<String, String> env = new LinkedHashMap<>(extra);
        env.put("WORKER_BOSS_URL", boss.url());
        env.put("WORKER_NODE_NAME", name);
        env.put("WORKER_SCRIPTS_DIR", config.scripts().toString());
        env.put("WORKER_WORK_DIR", home.resolve("work").toString());
        env.put("WORKER_SPOOL_DIR", home.resolve("spool").toString());
        env.put("WORKER_SLOTS", "1");
        env.put("LOGGING_LEVEL_COM_MADDATUM", "WARN");
        return JarProcess.start(config.workerJar(), home.resolve("worker.log"), env);
    }

    static String submit(HttpJson boss, Map<String, Object> job) {
        HttpJson.Reply reply = boss.post("/job/create", job);
        if (reply.status() != 201) {
            throw new IllegalStateException("submit: " + reply.status() + " " + reply.body());
        }
        return reply.json().get("jobId").asString();
    }

    static long count(HttpJson boss, String status) {
        return boss.get("/jobs?size=1&status=" + status).json().get("total").asLong();
    }

    static JsonNode awaitDone(HttpJson boss, String jobId, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            JsonNode detail = boss.get("/jobs/" + jobId).json();
            String status = detail.path("order").path("status").asString();
            // The order is finished first and its outcome written right after (see OutcomeService).
            boolean finished = status.equals("done") || status.equals("failed") || status.equals("cancelled");
            if (finished && (!detail.path("order").has("outcomeId") || detail.has("outcome"))) {
                return detail;
            }
            Thread.sleep(2);
        }
        throw new IllegalStateException("job " + jobId + " did not finish in " + timeout);
    }

    static List<Double> list() {
        return new ArrayList<>();
    }

    static void delete(Path dir) throws IOException {
        if (Files.exists(dir)) {
            try (var files = Files.walk(dir)) {
                files.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
    }
}
