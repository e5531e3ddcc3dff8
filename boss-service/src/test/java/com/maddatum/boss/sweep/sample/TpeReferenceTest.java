package com.maddatum.boss.sweep.sample;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.io.OutputStream;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * Our l(x) and g(x) against Optuna 3.1's own {@code _ParzenEstimator}, driven by {@code tpe_reference.py} the
 * way {@code TPESampler.sample_independent} drives it, on the same observations. Runs where
 * {@code /usr/bin/python3} can import optuna 3.1 (Debian's {@code python3-optuna}); skipped elsewhere.
 *
 * <p>The reference applies Optuna 3.5's fix to the truncated normal's log-density (optuna/optuna#5109), which
 * {@link TpeSampler} follows; the test also shows what that fix changes in 3.1 as shipped, and nothing else.
 */
class TpeReferenceTest {

    private static final Path PYTHON = Path.of("/usr/bin/python3");
    private static final double TOLERANCE = 1e-9;
    private static final JsonMapper JSON = JsonMapper.builder().build();

    private static final Dimension X = new Dimension("x", null, -5.0, 10.0, "uniform");
    private static final Dimension LR = new Dimension("opt.lr", null, 1e-4, 0.1, "log_uniform");
    private static final Dimension UNITS = new Dimension("units", null, 1.0, 9.0, "int_uniform");
    private static final Dimension WIDE_UNITS = new Dimension("units", null, 1.0, 200.0, "int_uniform");
    private static final Dimension ACT = new Dimension("act", List.of("relu", "tanh", 3), null, null, null);

    private static boolean optunaImportable;

    @BeforeAll
    static void lookForOptuna() throws Exception {
        if (!Files.isExecutable(PYTHON)) {
            return;
        }
        Process p = new ProcessBuilder(PYTHON.toString(), "-c",
                "import optuna, sys; sys.exit(0 if optuna.__version__.startswith('3.1.') else 1)")
                .redirectErrorStream(true).start();
        p.getInputStream().readAllBytes();
        optunaImportable = p.waitFor(60, TimeUnit.SECONDS) && p.exitValue() == 0;
    }

    /** Each test, not the class, is skipped, so that the report counts them as skipped. */
    @BeforeEach
    void needsOptuna() {
        assumeTrue(optunaImportable, PYTHON + " cannot import optuna 3.1 (Debian: apt-get install python3-optuna)");
    }

    @Test
    void matchesOptunaOnAFewTrialsWithPrunedOnesTiesAndAMissingParameter() throws Exception {
        List<Observation> trials = List.of(
                trial(2.5, false, 1.0, 0.01, 5, "relu"),
                trial(0.7, false, 4.2, 0.003, 3, "tanh"),
                trial(9.0, false, -4.9, 0.09, 9, 3L), // a stored 3 comes back as a Long
                trial(0.1, true, 3.3, 0.002, 4, "tanh"), // pruned: above, though its value is the best
                trial(1.2, false, 6.0, 0.0002, 5, "relu"),
                trial(0.7, false, 2.0, 0.004, 2, "relu"), // ties trial 1, and the tie is at the split: trial 1 wins
                trial(3.4, false, 8.8, 0.05, 7, 3),
                trial(0.7, true, 0.0, 0.03, 1, "tanh"), // pruned at a finished trial's value: after it
                trial(5.1, false, -1.0, 0.0007, 8, "relu"),
                trial(0.3, false, 3.9, 0.0011, 3, "tanh"),
                trial(4.4, false, 9.9, 0.08, 6, 3), // (3.0 would not be the choice 3 here, though Python's == says so)
                new Observation(Map.of("x", 3.0, "opt.lr", 0.001, "act", "tanh"), 0.7, false), // no units
                trial(7.5, false, -3.0, 0.0001, 2, "relu"),
                trial(Double.NaN, true, 5.0, 0.02, 5, "relu")); // pruned without a value: last

        compare(List.of(X, LR, UNITS, ACT), trials, 2);
    }

    @Test
    void matchesOptunaOnSixtyTrialsWhereOlderOnesWeighLess() throws Exception {
        SplittableRandom random = new SplittableRandom(7);
        List<Integer> units = new ArrayList<>(IntStream.rangeClosed(1, 200).boxed().toList());
        List<Observation> trials = new ArrayList<>();
        for (int i = 0; i < 60; i++) {
            // Distinct numbers: numpy's argsort is not stable on this many, so ties would make Optuna arbitrary.
            int u = units.remove(random.nextInt(units.size()));
            double x = -5 + 15 * random.nextDouble();
            double lr = Math.exp(Math.log(1e-4) + Math.log(1e3) * random.nextDouble());
            Object act = ACT.values().get(random.nextInt(3));
            double value = Math.pow(x - 2, 2) + Math.abs(Math.log10(lr) + 2.5) + Math.abs(u - 50) / 50.0;
            trials.add(trial(value, i % 9 == 4, x, lr, u, act));
        }

        compare(List.of(X, LR, WIDE_UNITS, ACT), trials, 6);
    }

    private static void compare(List<Dimension> dimensions, List<Observation> trials, int expectedBelow)
            throws Exception {
        Map<String, double[]> points = points(dimensions);
        JsonNode optuna = runReference(dimensions, trials, points);

        IdentityHashMap<Observation, Integer> index = new IdentityHashMap<>();
        IntStream.range(0, trials.size()).forEach(i -> index.put(trials.get(i), i));
        List<Integer> below = TpeSampler.Split.of(trials).below().stream().map(index::get).toList();
        int[] optunaBelow = JSON.convertValue(optuna.get("below"), int[].class);
        assertThat(below).hasSize(expectedBelow).containsExactlyElementsOf(IntStream.of(optunaBelow).boxed().toList());

        for (Dimension d : dimensions) {
            TpeSampler.Estimators ours = TpeSampler.estimators(d, trials);
            double[] x = points.get(d.path());
            double[] l = JSON.convertValue(optuna.get("l").get(d.path()), double[].class);
            double[] g = JSON.convertValue(optuna.get("g").get(d.path()), double[].class);
            for (int i = 0; i < x.length; i++) {
                assertThat(ours.below().logPdf(x[i])).as("log l(%s) of %s", x[i], d.path()).isCloseTo(l[i],
                        within(TOLERANCE));
                assertThat(ours.above().logPdf(x[i])).as("log g(%s) of %s", x[i], d.path()).isCloseTo(g[i],
                        within(TOLERANCE));
            }
            double shift = maxDifference(l, JSON.convertValue(optuna.get("l_31").get(d.path()), double[].class));
            if (d.values() == null && !"int_uniform".equals(d.distribution())) {
                assertThat(shift).as("3.1's unnormalised kernels differ for %s", d.path()).isGreaterThan(1e-3);
            } else {
                assertThat(shift).as("the fix leaves %s alone", d.path()).isLessThan(1e-12);
            }
        }
        if (!optuna.get("scipy_max_error").isNull()) {
            assertThat(optuna.get("scipy_max_error").asDouble()).as("the fixed logpdf is SciPy's").isLessThan(1e-9);
        }
    }

    /** Where to compare, on the internal scale: across each range, its bounds included. */
    private static Map<String, double[]> points(List<Dimension> dimensions) {
        Map<String, double[]> points = new LinkedHashMap<>();
        for (Dimension d : dimensions) {
            TpeParameter p = TpeParameter.of(d);
            double[] x = switch (p.kind()) {
                case FLOAT -> IntStream.rangeClosed(0, 30).mapToDouble(i -> d.min() + (d.max() - d.min()) * i / 30)
                        .toArray();
                case LOG_FLOAT -> IntStream.rangeClosed(0, 30)
                        .mapToDouble(i -> Math.exp(Math.log(d.min()) + Math.log(d.max() / d.min()) * i / 30))
                        .map(v -> Math.min(Math.max(v, d.min()), d.max())).toArray();
                case INT -> IntStream.rangeClosed((int) p.min(), (int) p.max()).asDoubleStream().toArray();
                case CATEGORICAL -> IntStream.range(0, p.choiceCount()).asDoubleStream().toArray();
            };
            points.put(d.path(), x);
        }
        return points;
    }

    private static JsonNode runReference(List<Dimension> dimensions, List<Observation> trials,
            Map<String, double[]> points) throws IOException, InterruptedException, URISyntaxException {
        Map<String, Object> request = new LinkedHashMap<>();
        request.put("dimensions", dimensions.stream().map(TpeReferenceTest::describe).toList());
        request.put("trials", trials.stream().map(t -> Map.of("params", t.params(), "value",
                Double.isNaN(t.value()) ? "NaN" : t.value(), "pruned", t.pruned())).toList());
        request.put("points", points);
        Path script = Path.of(TpeReferenceTest.class.getResource("tpe_reference.py").toURI());
        Process p = new ProcessBuilder(PYTHON.toString(), script.toString())
                .redirectError(ProcessBuilder.Redirect.INHERIT).start();
        try (OutputStream in = p.getOutputStream()) {
            in.write(JSON.writeValueAsBytes(request));
        }
        byte[] out = p.getInputStream().readAllBytes();
        assertThat(p.waitFor(120, TimeUnit.SECONDS)).as("reference finished").isTrue();
        assertThat(p.exitValue()).as("reference exit code; output: %s", new String(out, StandardCharsets.UTF_8))
                .isZero();
        return JSON.readTree(out);
    }

    private static Map<String, Object> describe(Dimension d) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("name", d.path());
        m.put("kind", d.values() != null ? "values" : d.distribution());
        m.put("min", d.min());
        m.put("max", d.max());
        m.put("choices", d.values());
        return m;
    }

    private static Observation trial(double value, boolean pruned, double x, double lr, int units, Object act) {
        Map<String, Object> params = new LinkedHashMap<>();
        params.put("x", x);
        params.put("opt.lr", lr);
        params.put("units", units);
        params.put("act", act);
        return new Observation(params, value, pruned);
    }

    private static double maxDifference(double[] a, double[] b) {
        double max = 0;
        for (int i = 0; i < a.length; i++) {
            max = Math.max(max, Math.abs(a[i] - b[i]));
        }
        return max;
    }
}
