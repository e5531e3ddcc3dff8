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
 * footprint, model quality, transfers, and sweeps (tpe against random). Ratios are taken inside one run,
 * because the machine is shared.
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

        /**
         * The services' JVM flags: as the tests start them (the client compiler only; the default), or as the
         * images run them ({@code -Dbench.jvm=deployed}: both compilers). Measured on 2026-12-04 on 2 cores, the
         * deployed flags were slower in every measure here (C2 compiling takes a core from runs under a minute
         * long): see ANALYSIS.md.
         */
        static List<String> jvmFlags() {
            return "deployed".equals(System.getProperty("bench.jvm")) ? JarProcess.DEPLOYED : JarProcess.TEST_FLAGS;
        }

        /**
         * {@link #jvmFlags()}, plus a flight recording (JFR's "profile" settings, written when the service
         * stops) into the folder {@code -Dbench.jfr} names, when it names one: how ANALYSIS.md's profiles are taken.
         */
        static List<String> jvmFlags(String service) {
            String folder = System.getProperty("bench.jfr", "");
            if (folder.isBlank()) {
                return jvmFlags();
            }
            List<String> flags = new ArrayList<>(jvmFlags());
            flags.add("-XX:StartFlightRecording=settings=profile,dumponexit=true,filename="
                    + Path.of(folder).toAbsolutePath().resolve(service + "-" + System.nanoTime() + ".jfr"));
            return flags;
        }
    }

    public static void main(String[] args) throws Exception {
        List<String> arguments = List.of(args);
        boolean smoke = arguments.contains("--smoke");
        Path repo = Path.of(System.getProperty("repo.dir", ".")).toAbsolutePath().normalize();
        Path out = smoke ? repo.resolve("bench/target/bench") : repo.resolve("bench");
        int only = arguments.indexOf("--only");
        Config config = new Config(smoke, repo, out, Files.createTempDirectory("bench-"));
        if (arguments.contains("--report")) {
            // Rewrites RESULTS.md from results.json, measuring nothing.
            write(config, HttpJson.MAPPER.readValue(Files.readString(out.resolve("results.json")), LinkedHashMap.class));
        } else if (only >= 0 && only + 1 < arguments.size()) {
            rerun(config, arguments.get(only + 1));
        } else {
            run(config);
        }
    }

    private static Map<String, Measure> measures(Config config) {
        Map<String, Measure> all = new LinkedHashMap<>();
        all.put("dispatchLatency", () -> Measures.dispatchLatency(config));
        all.put("perJobOverhead", () -> Measures.perJobOverhead(config));
        all.put("claimThroughput", () -> Measures.claimThroughput(config));
        all.put("growth", () -> Measures.growth(config));
        all.put("readPaths", () -> ReadPaths.measure(config));
        all.put("modelQuality", () -> Measures.modelQuality(config));
        all.put("transfers", () -> Transfers.measure(config));
        all.put("sweeps", () -> Sweeps.measure(config));
        return all;
    }

    /** Runs every measure (a failing one is reported, not fatal) and writes the two result files. */
    public static Map<String, Object> run(Config config) throws Exception {
        Files.createDirectories(config.out());
        Map<String, Object> results = new LinkedHashMap<>();
        results.put("mode", config.smoke() ? "smoke" : "full");
        results.put("machine", Machine.describe(config.python()));
        Map<String, Object> measures = new LinkedHashMap<>();
        results.put("measures", measures);
        measures(config).forEach((name, measure) -> measure(measures, name, measure));
        return write(config, results);
    }

    /**
     * Runs one measure again and puts it into the existing results, with the machine and date it ran
     * on, so that one change can be measured without repeating the half hour of the others.
     */
    @SuppressWarnings("unchecked")
    static Map<String, Object> rerun(Config config, String name) throws Exception {
        Path existing = config.out().resolve("results.json");
        Map<String, Object> results = Files.exists(existing)
                ? HttpJson.MAPPER.readValue(Files.readString(existing), LinkedHashMap.class) : new LinkedHashMap<>();
        results.putIfAbsent("mode", config.smoke() ? "smoke" : "full");
        results.putIfAbsent("machine", Machine.describe(config.python()));
        Map<String, Object> measures = (Map<String, Object>) results.computeIfAbsent("measures", k -> new LinkedHashMap<>());
        Measure measure = measures(config).get(name);
        if (measure == null) {
            throw new IllegalArgumentException("no measure " + name + "; there are " + measures(config).keySet());
        }
        measure(measures, name, measure);
        Map<String, Object> rerunOn = new LinkedHashMap<>(Machine.describe(config.python()));
        ((Map<String, Object>) measures.get(name)).put("measuredSeparatelyOn", rerunOn);
        Map<String, Object> ordered = new LinkedHashMap<>();
        measures(config).keySet().stream().filter(measures::containsKey).forEach(k -> ordered.put(k, measures.get(k)));
        results.put("measures", ordered);
        return write(config, results);
    }

    private static Map<String, Object> write(Config config, Map<String, Object> results) throws Exception {
        Files.createDirectories(config.out());
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
        return JarProcess.start(config.bossJar(), config.work().resolve("boss-" + System.nanoTime() + ".log"), env,
                Config.jvmFlags("boss"));
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
        env.putAll(workerEnv());
        return JarProcess.start(config.workerJar(), home.resolve("worker.log"), env, Config.jvmFlags("worker"));
    }

    /**
     * {@code -Dbench.workerEnv=NAME=value;...}: variables every Worker of the bench gets, to measure a setting
     * against the default in the same hour (WORKER_WARM_INTERPRETER_PRELOAD= for no preload; ';' between
     * them, as a value may hold commas). Recorded with the machine.
     */
    static Map<String, String> workerEnv() {
        Map<String, String> env = new LinkedHashMap<>();
        for (String pair : System.getProperty("bench.workerEnv", "").split(";")) {
            int at = pair.indexOf('=');
            if (at > 0) {
                env.put(pair.substring(0, at), pair.substring(at + 1));
            } else if (!pair.isBlank()) {
                throw new IllegalArgumentException("bench.workerEnv: not NAME=value: " + pair);
            }
        }
        return env;
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

    /**
     * The job once finished, waited for as a user would, with the Boss's long poll ({@code waitSeconds}: one
     * request per change of the order). Polling instead (it was every 2 ms until 2026-12-04) took the Boss's and
     * the Worker's CPU on this 2-core machine while the very job measured was being dispatched.
     */
    static JsonNode awaitDone(HttpJson boss, String jobId, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            long wait = Math.max(1, Math.min(30, (deadline - System.nanoTime()) / 1_000_000_000L));
            JsonNode detail = boss.get("/jobs/" + jobId + "?waitSeconds=" + wait).json();
            String status = detail.path("order").path("status").asString();
            boolean finished = status.equals("done") || status.equals("failed") || status.equals("cancelled");
            if (finished && (!detail.path("order").has("outcomeId") || detail.has("outcome"))) {
                return detail;
            }
            if (finished) {
                Thread.sleep(5); // finished, its outcome not readable yet: answered at once from now on
            }
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
