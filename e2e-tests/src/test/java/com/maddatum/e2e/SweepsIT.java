package com.maddatum.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import com.maddatum.testsupport.HttpJson;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * Sweeps through the packaged jars: a grid run by two Workers, a random search repeated from its seed, failed
 * trials re-run by kind, a Boss killed mid-sweep, a clearly worse {@code nn.py} trial stopped early, and the
 * README's example from its {@code POST} to the best trial's model. One Boss and two Workers serve every test (the
 * kill test kills that Boss and restarts it on the same data; its Workers and the tests after it carry on with
 * it); {@code noop.py} stands in wherever the script does not matter.
 */
class SweepsIT {

    private static final Duration A_WHILE = Duration.ofMinutes(3);

    @TempDir
    static Path sharedDir;

    private static SystemUnderTest shared;

    @TempDir
    Path dir;

    @BeforeAll
    static void startBossAndTwoWorkers() throws Exception {
        shared = new SystemUnderTest(sharedDir).startBoss(Map.of());
        // Heartbeats carry a trial's progress and bring back the Boss's "stop": the quicker they come, the
        // shorter a trial may be and still be stopped before its end.
        Map<String, String> quickHeartbeats = Map.of("WORKER_HEARTBEAT_INTERVAL", "250ms");
        shared.startWorker("w1", quickHeartbeats);
        shared.startWorker("w2", quickHeartbeats);
    }

    @AfterAll
    static void stopThem() throws Exception {
        if (shared != null) {
            shared.close();
        }
    }

    /**
     * The grid's 12 configurations, with budget for 20: each runs once (the space is exhausted, not sampled
     * again), both Workers take trials, and the trials are numbered 1 to 12.
     */
    @Test
    void aGridSweepRunsEachOfItsConfigurationsExactlyOnceAcrossTwoWorkers() throws Exception {
        HttpJson boss = shared.boss;
        Map<String, Object> sweep = sweep("grid", 20, 3,
                noop("i", 0, "optimizer", "adam", "sleepSeconds", 0.3),
                List.of(Map.of("path", "i", "values", List.of(1, 2, 3, 4)),
                        Map.of("path", "optimizer", "values", List.of("adam", "sgd", "rmsprop"))));
        HttpJson.Reply created = boss.post("/sweeps", sweep);
        assertThat(created.status()).as(created.body()).isEqualTo(201);
        assertThat(created.json().get("planned").asInt()).as("the grid is smaller than maxJobs").isEqualTo(12);
        String id = created.json().get("sweepId").asString();

        JsonNode done = awaitDone(boss, id);
        assertThat(done.get("counts").get("done").asInt()).as(done.toString()).isEqualTo(12);
        assertThat(done.get("progress").get("done").asInt()).isEqualTo(12);
        assertThat(done.get("progress").get("planned").asInt()).isEqualTo(12);

        List<JsonNode> jobs = jobsOf(boss, id);
        Set<Map<String, Object>> expected = new HashSet<>();
        for (int i : List.of(1, 2, 3, 4)) {
            for (String optimizer : List.of("adam", "sgd", "rmsprop")) {
                expected.add(Map.of("i", i, "optimizer", optimizer));
            }
        }
        List<Map<String, Object>> ran = jobs.stream().map(j -> params(j.get("job").get("sweepParams"))).toList();
        assertThat(ran).as("one job per configuration, none twice").hasSize(12).doesNotHaveDuplicates();
        assertThat(new HashSet<>(ran)).isEqualTo(expected);
        assertThat(jobs.stream().map(j -> j.get("job").get("trial").asInt()).toList())
                .containsExactlyInAnyOrder(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12);
        Set<String> nodes = new HashSet<>();
        for (JsonNode job : jobs) {
            JsonNode detail = boss.get("/jobs/" + jobId(job)).json();
            assertThat(detail.get("order").get("attempt").asInt()).as("ran once: %s", detail).isEqualTo(1);
            assertThat(detail.get("job").get("i").asInt()).as("the parameter is in the job itself")
                    .isEqualTo(job.get("job").get("sweepParams").get("i").asInt());
            nodes.add(detail.get("outcome").get("node").asString());
        }
        assertThat(nodes).as("both Workers took trials").containsExactlyInAnyOrder("w1", "w2");
    }

    /**
     * A random search over every kind of range, twice from one seed: the same configurations in the same trial
     * order. A third sweep with another seed chooses others, so the comparison could fail.
     */
    @Test
    void aRandomSweepWithAFixedSeedChoosesTheSameConfigurationsAgain() throws Exception {
        HttpJson boss = shared.boss;
        Map<String, Object> base = noop("learningRate", 0.1, "batch", 32, "optimizer", "adam",
                "layers", List.of(Map.of("dropout", 0.0)));
        List<Map<String, Object>> parameters = List.of(
                Map.of("path", "learningRate", "min", 0.0001, "max", 0.1, "distribution", "log_uniform"),
                Map.of("path", "layers.0.dropout", "min", 0.0, "max", 0.5, "distribution", "uniform"),
                Map.of("path", "batch", "min", 8, "max", 128, "distribution", "int_uniform"),
                Map.of("path", "optimizer", "values", List.of("adam", "sgd", "rmsprop")));
        List<String> ids = new ArrayList<>();
        for (long seed : new long[] {1234, 1234, 1235}) {
            Map<String, Object> sweep = sweep("random", 6, 3, base, parameters);
            sweep.put("seed", seed);
            HttpJson.Reply created = boss.post("/sweeps", sweep);
            assertThat(created.status()).as(created.body()).isEqualTo(201);
            ids.add(created.json().get("sweepId").asString());
        }
        List<List<Map<String, Object>>> chosen = new ArrayList<>();
        for (String id : ids) {
            assertThat(awaitDone(boss, id).get("counts").get("done").asInt()).isEqualTo(6);
            Map<Integer, Map<String, Object>> byTrial = new TreeMap<>();
            for (JsonNode job : jobsOf(boss, id)) {
                byTrial.put(job.get("job").get("trial").asInt(), params(job.get("job").get("sweepParams")));
            }
            assertThat(byTrial.keySet()).containsExactly(1, 2, 3, 4, 5, 6);
            for (Map<String, Object> params : byTrial.values()) {
                assertThat(((Number) params.get("learningRate")).doubleValue()).isBetween(0.0001, 0.1);
                assertThat(((Number) params.get("layers.0.dropout")).doubleValue()).isBetween(0.0, 0.5);
                assertThat(params.get("batch")).as("an int_uniform draw is an integer").isInstanceOf(Integer.class);
                assertThat((Integer) params.get("batch")).isBetween(8, 128);
            }
            chosen.add(new ArrayList<>(byTrial.values()));
        }
        assertThat(chosen.get(0)).doesNotHaveDuplicates();
        assertThat(chosen.get(1)).as("the same seed, the same configurations in the same order")
                .isEqualTo(chosen.get(0));
        assertThat(chosen.get(2)).as("another seed").isNotEqualTo(chosen.get(0));
    }

    /**
     * Six trials: two succeed, two fail with a 5xx (a retry may help), two with a 4xx the script reported (it
     * will not). rerun-failed re-runs the 5xx ones only, as new jobs of the same trials; ?all=true then the
     * rest, the 4xx ones included. The failures never stop the sweep.
     */
    @Test
    void rerunFailedRerunsOnlyTheRetryableTrialsAndAllTrueTheRest() throws Exception {
        HttpJson boss = shared.boss;
        Map<String, Object> base = noop("i", 0);
        base.put("exitWith", null);
        List<Object> exits = new ArrayList<>();
        exits.add(null);
        exits.add(503);
        exits.add(422);
        Map<String, Object> sweep = sweep("grid", 6, 2, base, List.of(
                Map.of("path", "exitWith", "values", exits), Map.of("path", "i", "values", List.of(1, 2))));
        HttpJson.Reply created = boss.post("/sweeps", sweep);
        assertThat(created.status()).as(created.body()).isEqualTo(201);
        String id = created.json().get("sweepId").asString();

        JsonNode done = awaitDone(boss, id);
        assertThat(done.get("counts").get("done").asInt()).as(done.toString()).isEqualTo(2);
        assertThat(done.get("counts").get("failed").asInt()).isEqualTo(4);
        Map<Integer, Object> exitByTrial = new TreeMap<>();
        for (JsonNode job : jobsOf(boss, id)) {
            exitByTrial.put(job.get("job").get("trial").asInt(), params(job.get("job").get("sweepParams")).get("exitWith"));
        }
        List<Integer> failed5xx = trialsWith(exitByTrial, 503);
        List<Integer> failed4xx = trialsWith(exitByTrial, 422);
        assertThat(failed5xx).hasSize(2);
        assertThat(failed4xx).hasSize(2);
        for (JsonNode job : jobsOf(boss, id)) {
            JsonNode detail = boss.get("/jobs/" + jobId(job)).json();
            Object exit = exitByTrial.get(job.get("job").get("trial").asInt());
            assertThat(detail.get("order").get("status").asString()).as(detail.toString())
                    .isEqualTo(exit == null ? "done" : "failed");
            if (exit != null) {
                assertThat(detail.get("outcome").get("status").asInt()).isEqualTo(exit);
            }
        }

        HttpJson.Reply rerun = boss.post("/sweeps/" + id + "/rerun-failed", Map.of());
        assertThat(rerun.status()).as(rerun.body()).isEqualTo(200);
        assertThat(ints(rerun.json().get("rerun"))).as("only the 5xx trials").containsExactlyInAnyOrderElementsOf(failed5xx);
        awaitDone(boss, id);
        Map<Integer, List<JsonNode>> runs = runsByTrial(boss, id);
        assertThat(runs.values().stream().mapToInt(List::size).sum()).isEqualTo(8);
        for (int trial : failed5xx) {
            List<JsonNode> jobs = runs.get(trial);
            assertThat(jobs).as("trial %d ran again, as a new job", trial).hasSize(2);
            JsonNode again = jobs.get(1);
            assertThat(again.get("job").get("rerunOf").asString()).isEqualTo(jobId(jobs.get(0)));
            assertThat(params(again.get("job").get("sweepParams"))).isEqualTo(params(jobs.get(0).get("job").get("sweepParams")));
            assertThat(again.get("order").get("status").asString()).as("noop fails the same way again").isEqualTo("failed");
        }
        for (int trial : failed4xx) {
            assertThat(runs.get(trial)).as("a 4xx stays failed").hasSize(1);
        }
        JsonNode board = boss.get("/sweeps/" + id + "/leaderboard").json();
        for (JsonNode entry : board.get("trials")) {
            if (failed5xx.contains(entry.get("trial").asInt())) {
                assertThat(entry.get("jobs")).as("the leaderboard lists a re-run trial's jobs: %s", entry).hasSize(2);
            }
        }

        HttpJson.Reply all = boss.post("/sweeps/" + id + "/rerun-failed?all=true", Map.of());
        assertThat(all.status()).as(all.body()).isEqualTo(200);
        List<Integer> expected = new ArrayList<>(failed4xx);
        expected.addAll(failed5xx); // their re-runs failed again, so they are failed trials once more
        assertThat(ints(all.json().get("rerun"))).containsExactlyInAnyOrderElementsOf(expected);
        awaitDone(boss, id);
        runs = runsByTrial(boss, id);
        for (int trial : failed4xx) {
            assertThat(runs.get(trial)).as("with all=true a 4xx trial runs again").hasSize(2);
        }
        for (int trial : failed5xx) {
            assertThat(runs.get(trial)).hasSize(3);
        }
        for (int trial : trialsWith(exitByTrial, null)) {
            assertThat(runs.get(trial)).as("a trial that succeeded never re-runs").hasSize(1);
        }
    }

    /**
     * The Boss is killed with SIGKILL while trials run and others are still to come, and restarted on the same
     * data: the sweep goes on to its planned number of trials, with every configuration run once.
     */
    @Test
    void aBossKilledMidSweepCarriesOnAfterRestartWithoutRunningAConfigurationTwice() throws Exception {
        HttpJson boss = shared.boss;
        List<Object> values = new ArrayList<>();
        for (int i = 1; i <= 10; i++) {
            values.add(i);
        }
        HttpJson.Reply created = boss.post("/sweeps", sweep("grid", 10, 2, noop("i", 0, "sleepSeconds", 1),
                List.of(Map.of("path", "i", "values", values))));
        assertThat(created.status()).as(created.body()).isEqualTo(201);
        String id = created.json().get("sweepId").asString();
        JsonNode before = boss.await("/sweeps/" + id, s -> s.get("progress").get("done").asInt() >= 2
                && s.get("counts").get("running").asInt() > 0, A_WHILE);
        assertThat(before.get("progress").get("done").asInt()).as(before.toString()).isGreaterThanOrEqualTo(2);

        // The other tests' Boss: they find it restarted, on the same port and data, as its Workers do.
        shared.bossProcess.kill9();
        shared.bossProcess.restart();
        int existed = boss.get("/sweeps/" + id + "/leaderboard").json().get("trials").size();
        assertThat(existed).as("trials were still to come when the Boss died").isLessThan(10);

        JsonNode done = awaitDone(boss, id);
        assertThat(done.get("counts").get("done").asInt()).as(done.toString()).isEqualTo(10);
        List<JsonNode> jobs = jobsOf(boss, id);
        List<Object> ran = jobs.stream().map(j -> params(j.get("job").get("sweepParams")).get("i")).toList();
        assertThat(ran).as("every configuration once").hasSize(10).doesNotHaveDuplicates()
                .containsExactlyInAnyOrderElementsOf(values);
        assertThat(jobs.stream().map(j -> j.get("job").get("trial").asInt()).toList())
                .containsExactlyInAnyOrder(1, 2, 3, 4, 5, 6, 7, 8, 9, 10);
    }

    /**
     * nn.py on the wine data, one trial at a time: two sensible learning rates, then a tiny one whose validation
     * loss hardly moves. With the median rule from step 10 against the two before it, the tiny one is stopped
     * long before its 300 epochs (150 per fold), ends done with pruned: true, and ranks below both.
     */
    @Test
    void aClearlyWorseNnTrialIsStoppedEarlyAndRanksBelowTheFinishedOnes() throws Exception {
        HttpJson boss = shared.boss;
        int budget = 150 * 2; // epochs per fold, folds: the steps of a trial that runs to its end
        Map<String, Object> base = new LinkedHashMap<>();
        base.put("scriptName", "nn.py");
        base.put("dataFileName", "wine_data.csv");
        base.put("depedentVariable", "proline");
        base.put("crossValidateOnly", true);
        base.put("cvFolds", 2);
        base.put("epochs", 150);
        base.put("patienceRate", 0); // nn.py's own early stopping off: only the sweep stops a trial
        base.put("batchSize", 8);
        base.put("optimizer", "adam");
        base.put("learningRate", 0.01);
        base.put("hiddenLayers", List.of(Map.of("activation", "relu", "widthModifier", 1, "dropout", 0.1)));
        Map<String, Object> sweep = sweep("grid", 3, 1, base,
                List.of(Map.of("path", "learningRate", "values", List.of(0.01, 0.003, 0.000001))));
        sweep.put("earlyStop", Map.of("type", "median", "minSteps", 10, "minTrials", 2));
        HttpJson.Reply created = boss.post("/sweeps", sweep);
        assertThat(created.status()).as(created.body()).isEqualTo(201);
        String id = created.json().get("sweepId").asString();

        JsonNode done = awaitDone(boss, id);
        assertThat(done.get("counts").get("done").asInt()).as(done.toString()).isEqualTo(2);
        assertThat(done.get("counts").get("pruned").asInt()).isEqualTo(1);
        assertThat(done.get("best").get("pruned").asBoolean()).isFalse();

        JsonNode board = boss.get("/sweeps/" + id + "/leaderboard").json();
        List<JsonNode> entries = new ArrayList<>();
        board.get("trials").forEach(entries::add);
        assertThat(entries).as(board.toString()).hasSize(3);
        JsonNode last = entries.get(2);
        assertThat(last.get("trial").asInt()).as("the tiny learning rate ranks last: %s", board).isEqualTo(3);
        assertThat(last.get("pruned").asBoolean()).isTrue();
        assertThat(last.get("status").asString()).isEqualTo("done");
        for (JsonNode finished : entries.subList(0, 2)) {
            assertThat(finished.get("pruned").asBoolean()).isFalse();
            assertThat(finished.get("value").asDouble()).isLessThan(last.get("value").asDouble());
        }

        JsonNode pruned = boss.get("/jobs/" + last.get("jobId").asString()).json();
        assertThat(pruned.get("order").get("status").asString()).as(pruned.toString()).isEqualTo("done");
        JsonNode outcome = pruned.get("outcome");
        assertThat(field(outcome, "pruned").asBoolean()).as(outcome.toString()).isTrue();
        int stoppedAt = field(outcome, "prunedAt").get("step").asInt();
        assertThat(stoppedAt).as("stopped past minSteps, before its budget").isBetween(10, budget - 1);
        JsonNode curve = boss.get("/sweeps/" + id + "/trials/3/curve").json();
        assertThat(curve.size()).as("it reported fewer steps than a full run").isBetween(1, budget - 1);
        for (JsonNode finished : entries.subList(0, 2)) {
            JsonNode detail = boss.get("/jobs/" + finished.get("jobId").asString()).json();
            assertThat(field(detail.get("outcome"), "epochsRun").asInt()).as(detail.toString()).isEqualTo(150);
        }
    }

    /**
     * The README's sweep, as written there but cut to two short trials: POST /sweeps with curl, the best trial
     * from GET /sweeps/{id}, and its model.pt downloaded with the README's curl.
     */
    @Test
    void theReadmesSweepGoesFromOneCurlToTheBestTrialsModel() throws Exception {
        ObjectNode body = (ObjectNode) HttpJson.MAPPER.readTree(readmeSweepBody());
        body.put("maxJobs", 2);
        body.put("parallelism", 2);
        ((ObjectNode) body.get("base")).put("epochs", 20);
        String url = shared.bossProcess.url();
        JsonNode created = HttpJson.MAPPER.readTree(curl(dir, "-s", "--fail-with-body", "-XPOST", url + "/sweeps",
                "-H", "content-type: application/json", "-d", body.toString()));
        assertThat(created.get("planned").asInt()).as(created.toString()).isEqualTo(2);
        String id = created.get("sweepId").asString();

        JsonNode done = awaitDone(shared.boss, id);
        assertThat(done.get("counts").get("done").asInt()).as(done.toString()).isEqualTo(2);
        String best = HttpJson.MAPPER.readTree(curl(dir, "-s", url + "/sweeps/" + id)).get("best").get("jobId").asString();
        JsonNode board = shared.boss.get("/sweeps/" + id + "/leaderboard").json();
        assertThat(board.get("trials").get(0).get("jobId").asString()).as("best is the leaderboard's first")
                .isEqualTo(best);

        curl(dir, "-sS", "-OJ", url + "/jobs/" + best + "/artifacts/model.pt");
        Path model = dir.resolve("model.pt");
        assertThat(model).exists();
        JsonNode listed = null;
        JsonNode listing = shared.boss.get("/jobs/" + best + "/artifacts").json();
        for (JsonNode artifact : listing.isArray() ? listing : listing.get("artifacts")) {
            if (artifact.get("name").asString().equals("model.pt")) {
                listed = artifact;
            }
        }
        assertThat(listed).as(listing.toString()).isNotNull();
        assertThat(sha256(model)).isEqualTo(listed.get("sha256").asString());
    }

    /** The JSON body of the README's {@code curl -XPOST .../sweeps ... -d '...'}. */
    private static String readmeSweepBody() throws Exception {
        String readme = Files.readString(Path.of(System.getProperty("repo.dir"), "README.md"));
        int section = readme.indexOf("### Sweeps");
        assertThat(section).as("the README has a Sweeps section").isPositive();
        Matcher post = Pattern.compile("-XPOST [^\\n]*/sweeps [^\\n]*-d '([^']*)'").matcher(readme.substring(section));
        assertThat(post.find()).as("the Sweeps section POSTs a sweep with curl").isTrue();
        return post.group(1);
    }

    private static Map<String, Object> noop(Object... fields) {
        Map<String, Object> job = new LinkedHashMap<>();
        job.put("scriptName", "noop.py");
        for (int i = 0; i < fields.length; i += 2) {
            job.put((String) fields[i], fields[i + 1]);
        }
        return job;
    }

    private static Map<String, Object> sweep(String method, int maxJobs, int parallelism, Map<String, Object> base,
            List<Map<String, Object>> parameters) {
        Map<String, Object> sweep = new LinkedHashMap<>();
        sweep.put("name", "e2e " + method);
        sweep.put("projectName", "sweeps-e2e");
        sweep.put("base", base);
        sweep.put("parameters", parameters);
        sweep.put("method", method);
        sweep.put("maxJobs", maxJobs);
        sweep.put("parallelism", parallelism);
        sweep.put("seed", 7);
        sweep.put("metric", Map.of("name", "loss", "goal", "minimize"));
        return sweep;
    }

    /** Waits for the sweep to be done with every planned trial ended; returns GET /sweeps/{id}. */
    private static JsonNode awaitDone(HttpJson boss, String id) throws InterruptedException {
        JsonNode sweep = boss.await("/sweeps/" + id, s -> "done".equals(s.path("status").asString())
                && s.get("progress").get("done").asInt() == s.get("progress").get("planned").asInt(), A_WHILE);
        assertThat(sweep.path("status").asString()).as("sweep %s: %s", id, sweep).isEqualTo("done");
        return sweep;
    }

    /** Every job of the sweep (re-runs included), from GET /jobs?sweep=. */
    private static List<JsonNode> jobsOf(HttpJson boss, String id) {
        JsonNode page = boss.get("/jobs?sweep=" + id + "&size=100").json();
        List<JsonNode> jobs = new ArrayList<>();
        page.get("items").forEach(jobs::add);
        assertThat(jobs).as(page.toString()).hasSize(page.get("total").asInt());
        return jobs;
    }

    /** The sweep's jobs by trial, first run first (a re-run names the job it re-runs). */
    private static Map<Integer, List<JsonNode>> runsByTrial(HttpJson boss, String id) {
        Map<Integer, List<JsonNode>> runs = new TreeMap<>();
        List<JsonNode> jobs = new ArrayList<>(jobsOf(boss, id));
        jobs.sort((a, b) -> jobId(a).compareTo(jobId(b))); // ObjectIds grow with time
        for (JsonNode job : jobs) {
            runs.computeIfAbsent(job.get("job").get("trial").asInt(), t -> new ArrayList<>()).add(job);
        }
        return runs;
    }

    private static String jobId(JsonNode item) {
        return item.get("order").get("jobId").asString();
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> params(JsonNode sweepParams) {
        return HttpJson.MAPPER.treeToValue(sweepParams, LinkedHashMap.class);
    }

    private static List<Integer> trialsWith(Map<Integer, Object> exitByTrial, Integer exit) {
        return exitByTrial.entrySet().stream().filter(e -> exit == null ? e.getValue() == null : exit.equals(e.getValue()))
                .map(Map.Entry::getKey).toList();
    }

    private static List<Integer> ints(JsonNode array) {
        List<Integer> ints = new ArrayList<>();
        array.forEach(n -> ints.add(n.asInt()));
        return ints;
    }

    /** An outcome field where the Boss keeps it: at the top, or under details for a script's extras. */
    private static JsonNode field(JsonNode outcome, String name) {
        return outcome.has(name) ? outcome.get(name) : outcome.path("details").path(name);
    }

    /** curl as the README uses it, in {@code dir}; its stdout. */
    private static String curl(Path dir, String... arguments) throws Exception {
        List<String> command = new ArrayList<>(List.of("curl"));
        command.addAll(List.of(arguments));
        Process process = new ProcessBuilder(command).directory(dir.toFile())
                .redirectError(ProcessBuilder.Redirect.INHERIT).start();
        String out = new String(process.getInputStream().readAllBytes());
        assertThat(process.waitFor()).as("%s: %s", command, out).isZero();
        return out;
    }

    private static String sha256(Path file) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(file)));
    }
}
