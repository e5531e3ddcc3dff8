package com.maddatum.bench;

import com.maddatum.testsupport.HttpJson;
import com.maddatum.testsupport.JarProcess;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import tools.jackson.databind.JsonNode;

/**
 * 8. {@code tpe} against {@code random} on a diabetes sweep with the same budget: for each seed, one sweep of each
 * method, {@code maxJobs} trials each, run one at a time (parallelism 1, so that TPE suggests each trial from all
 * the trials before it); the median over seeds of each sweep's best loss, against RidgeCV on the same folds.
 *
 * <p>The form, and why: everything is the real thing, end to end. The packaged Boss runs the sweeps (its driver,
 * its samplers, its leaderboard), two packaged Workers run each trial as a job, and the trial is {@code sk.py}'s
 * ridge regression with 5-fold CV on {@code diabetes.csv}, as a person would sweep it. What is cheap is the model:
 * a ridge trial takes about a second (mostly Python's start), where an {@code nn.py} trial takes 3 to 8 CPU
 * seconds (importing torch alone is over 2), so 400 {@code nn.py} trials would take 30 to 50 minutes on 2 cores.
 * The network against RidgeCV is measured by {@code modelQuality}; here the samplers are. The search space is
 * one where each trial lands matters: the regularisation over seven decades, the PCA components kept (1 to 10:
 * few lose much of the signal), and the scaler (min-max scaling makes a large alpha much worse), so a sampler
 * that keeps drawing from the bad corners shows in its later trials.
 */
final class Sweeps {

    private static final String PROJECT = "bench-sweeps";

    private Sweeps() {}

    static Map<String, Object> measure(BenchMain.Config config) throws Exception {
        int trials = config.size(40, 4);
        int seeds = config.size(5, 1);
        int workers = config.size(2, 1);
        Map<String, Map<String, Object>> bySeed = new LinkedHashMap<>();
        List<String> failures = new ArrayList<>();
        double sweepSeconds;
        try (JarProcess boss = BenchMain.boss(config, config.work().resolve("sweeps"), Map.of())) {
            List<JarProcess> started = new ArrayList<>();
            try {
                for (int w = 0; w < workers; w++) {
                    started.add(BenchMain.worker(config, boss, "bench-sweeps-" + w, Map.of("WORKER_LONG_POLL", "20s")));
                }
                HttpJson api = new HttpJson(boss.url());
                Map<String, String> sweepIds = new LinkedHashMap<>();
                long begun = System.nanoTime();
                for (int seed = 0; seed < seeds; seed++) {
                    for (String method : List.of("tpe", "random")) {
                        sweepIds.put(method + "/" + seed, create(api, method, seed, trials));
                    }
                }
                Duration limit = Duration.ofMinutes(config.smoke() ? 3 : 40);
                awaitAll(api, sweepIds.values(), limit);
                sweepSeconds = (System.nanoTime() - begun) / 1e9;
                sweepIds.forEach((key, id) -> {
                    String[] parts = key.split("/");
                    Map<String, Object> row = bySeed.computeIfAbsent(parts[1], k -> new LinkedHashMap<>());
                    row.put(parts[0], summary(api, id, trials, failures));
                });
            } finally {
                for (JarProcess worker : started) {
                    worker.close();
                }
            }
        }
        return result(config, bySeed, failures, trials, seeds, workers, sweepSeconds);
    }

    private static Map<String, Object> result(BenchMain.Config config, Map<String, Map<String, Object>> bySeed,
            List<String> failures, int trials, int seeds, int workers, double sweepSeconds) throws Exception {
        List<Double> tpe = new ArrayList<>();
        List<Double> random = new ArrayList<>();
        List<Double> ridge = new ArrayList<>();
        List<Double> tpeRatios = new ArrayList<>();
        List<Double> randomRatios = new ArrayList<>();
        List<Double> tpeLater = new ArrayList<>();
        List<Double> randomLater = new ArrayList<>();
        for (Map.Entry<String, Map<String, Object>> entry : bySeed.entrySet()) {
            // RidgeCV on the same folds (the trials' seed), as modelQuality runs it.
            double ridgeCv = Measures.loss(config, "sk.py",
                    config.repo().resolve("examples/diabetes_ridge_job.json"), Map.of("seed", Integer.parseInt(entry.getKey())));
            Map<String, Object> row = entry.getValue();
            double t = best(row.get("tpe"));
            double r = best(row.get("random"));
            tpe.add(t);
            random.add(r);
            ridge.add(ridgeCv);
            tpeRatios.add(t / ridgeCv);
            randomRatios.add(r / ridgeCv);
            tpeLater.add((Double) ((Map<?, ?>) row.get("tpe")).get("laterHalfMedianLoss"));
            randomLater.add((Double) ((Map<?, ?>) row.get("random")).get("laterHalfMedianLoss"));
            row.put("ridgeCvLoss", Stats.round(ridgeCv, 2));
            row.put("tpeToRidgeCv", Stats.round(t / ridgeCv, 4));
            row.put("randomToRidgeCv", Stats.round(r / ridgeCv, 4));
        }
        double tpeMedian = new Stats(tpe).median();
        double randomMedian = new Stats(random).median();
        double ratio = new Stats(tpeRatios).median();
        Map<String, Object> result = new LinkedHashMap<>();
        result.put("form", "the packaged Boss (its sweep driver and samplers) and " + workers + " packaged Worker(s)"
                + " running every trial as a job: sk.py ridge, 5-fold CV on diabetes.csv (a trial takes about a second;"
                + " nn.py's 3-8 CPU s a trial would make 400 trials 30-50 min on 2 cores)");
        result.put("space", "alpha log_uniform 0.001-10000, pcaComponents int_uniform 1-10, scalerType"
                + " standard|minmax|robust|none");
        result.put("trialsPerSweep", trials);
        result.put("seeds", seeds);
        result.put("parallelism", 1);
        result.put("bySeed", bySeed);
        result.put("tpeMedianBestLoss", Stats.round(tpeMedian, 2));
        result.put("randomMedianBestLoss", Stats.round(randomMedian, 2));
        result.put("ridgeCvMedianLoss", Stats.round(new Stats(ridge).median(), 2));
        result.put("medianTpeToRidgeCv", Stats.round(ratio, 4));
        result.put("medianRandomToRidgeCv", Stats.round(new Stats(randomRatios).median(), 4));
        // Where each sampler spends its later trials: TPE should keep to the good region, random cannot.
        result.put("laterHalfMedianLoss", Map.of("tpe", Stats.round(new Stats(tpeLater).median(), 1),
                "random", Stats.round(new Stats(randomLater).median(), 1)));
        result.put("failedTrials", failures);
        result.put("sweepsSeconds", Stats.round(sweepSeconds, 1));
        result.put("trialsPerSecond", Stats.round(2.0 * trials * seeds / sweepSeconds, 2));
        result.put("goal", "median best loss tpe <= random, and tpe's best within 5% of RidgeCV");
        result.put("met", tpeMedian <= randomMedian && ratio <= 1.05);
        if (config.smoke()) {
            result.put("note", "smoke: " + trials + " trials, all of them TPE's random start-up draws (TPE takes over"
                    + " after 10)");
        }
        return result;
    }

    private static String create(HttpJson api, String method, int seed, int trials) {
        Map<String, Object> base = new LinkedHashMap<>();
        base.put("scriptName", "sk.py");
        base.put("dataFileName", "diabetes.csv");
        base.put("depedentVariable", "progression");
        base.put("model", "ridge");
        base.put("alpha", 1.0);
        base.put("scalerType", "standard");
        base.put("pcaComponents", 10);
        base.put("crossValidateOnly", true);
        base.put("cvFolds", 5);
        base.put("seed", seed); // every trial of this seed on the same folds as RidgeCV
        Map<String, Object> sweep = new LinkedHashMap<>();
        sweep.put("name", method + " seed " + seed);
        sweep.put("projectName", PROJECT);
        sweep.put("base", base);
        sweep.put("parameters", List.of(
                Map.of("path", "alpha", "min", 0.001, "max", 10_000, "distribution", "log_uniform"),
                Map.of("path", "pcaComponents", "min", 1, "max", 10, "distribution", "int_uniform"),
                Map.of("path", "scalerType", "values", List.of("standard", "minmax", "robust", "none"))));
        sweep.put("method", method);
        sweep.put("maxJobs", trials);
        sweep.put("parallelism", 1);
        sweep.put("seed", seed + 1);
        sweep.put("metric", Map.of("name", "loss", "goal", "minimize"));
        HttpJson.Reply reply = api.post("/sweeps", sweep);
        if (reply.status() != 201) {
            throw new IllegalStateException("POST /sweeps: " + reply.status() + " " + reply.body());
        }
        return reply.json().get("sweepId").asString();
    }

    private static void awaitAll(HttpJson api, java.util.Collection<String> ids, Duration limit) throws Exception {
        long deadline = System.nanoTime() + limit.toNanos();
        while (true) {
            JsonNode page = api.get("/sweeps?size=100&project=" + PROJECT).json();
            long running = 0;
            for (JsonNode sweep : page.get("items")) {
                if (ids.contains(sweep.get("sweepId").asString()) && !sweep.get("status").asString().equals("done")) {
                    running++;
                }
            }
            if (running == 0) {
                return;
            }
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException(running + " sweeps not done within " + limit + ": " + page);
            }
            Thread.sleep(500);
        }
    }

    /** A sweep's best loss, its trials' losses in order, and the median loss of its later half of trials. */
    private static Map<String, Object> summary(HttpJson api, String id, int trials, List<String> failures) {
        JsonNode sweep = api.get("/sweeps/" + id).json();
        JsonNode board = api.get("/sweeps/" + id + "/leaderboard").json();
        Double[] losses = new Double[trials];
        for (JsonNode trial : board.get("trials")) {
            int n = trial.get("trial").asInt();
            if (trial.get("value").isNumber()) {
                losses[n - 1] = trial.get("value").asDouble();
            } else {
                failures.add(sweep.get("name").asString() + " trial " + n + ": " + trial.path("status").asString()
                        + " " + trial.path("error").asString(""));
            }
        }
        List<Double> later = new ArrayList<>();
        for (int i = trials / 2; i < trials; i++) {
            if (losses[i] != null) {
                later.add(losses[i]);
            }
        }
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("sweepId", id);
        JsonNode best = sweep.path("best"); // null when no trial has a value: NaN, and the goal is missed
        out.put("bestLoss", best.path("value").isNumber() ? Stats.round(best.get("value").asDouble(), 2) : Double.NaN);
        out.put("bestTrial", best.path("trial").asInt(0));
        out.put("bestParams", best.has("params") ? HttpJson.MAPPER.convertValue(best.get("params"), Map.class) : Map.of());
        out.put("laterHalfMedianLoss", Stats.round(new Stats(later).median(), 1));
        out.put("trials", sweep.get("progress").get("done").asInt());
        return out;
    }

    private static double best(Object summary) {
        return ((Number) ((Map<?, ?>) summary).get("bestLoss")).doubleValue();
    }
}
