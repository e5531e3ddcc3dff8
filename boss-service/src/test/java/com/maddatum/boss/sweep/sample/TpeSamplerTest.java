package com.maddatum.boss.sweep.sample;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.offset;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.function.ToDoubleFunction;
import java.util.random.RandomGenerator;
import java.util.stream.DoubleStream;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

/** What TPE must do whatever Optuna says: search better than random, stay in bounds, repeat itself. */
class TpeSamplerTest {

    private static final int TRIALS = 40;
    private static final long[] SEEDS = {1, 2, 3, 4, 5};
    private static final TpeSampler TPE = new TpeSampler();
    /** Never leaves the start-up phase: Optuna's RandomSampler, from the same code. */
    private static final TpeSampler RANDOM = new TpeSampler(Integer.MAX_VALUE, 24);

    private static final SearchSpace PLANE = new SearchSpace(List.of(
            new Dimension("x", null, -5.0, 5.0, "uniform"), new Dimension("y", null, -5.0, 5.0, "uniform")));
    private static final SearchSpace LINE = new SearchSpace(List.of(new Dimension("x", null, -10.0, 10.0, "uniform")));
    private static final SearchSpace MIXED = new SearchSpace(List.of(
            new Dimension("lr", null, 1e-5, 1e-1, "log_uniform"),
            new Dimension("hiddenLayers.0.units", null, 4.0, 64.0, "int_uniform"),
            new Dimension("act", List.of("relu", "tanh", 7, List.of(1, 2)), null, null, null),
            new Dimension("dropout", null, 0.0, 0.5, "uniform"),
            new Dimension("batch", List.of(32), null, null, null),
            new Dimension("epochs", null, 12.0, 12.0, "int_uniform")));

    @Test
    void findsABetterMinimumOfATwoDimensionalQuadraticThanRandomOverFortyTrials() {
        ToDoubleFunction<Map<String, Object>> quadratic = p -> square(num(p, "x") - 1.3) + square(num(p, "y") + 0.7);

        double tpe = medianBest(TPE, PLANE, quadratic, (p, rng) -> quadratic.applyAsDouble(p));
        double random = medianBest(RANDOM, PLANE, quadratic, (p, rng) -> quadratic.applyAsDouble(p));

        assertThat(tpe).as("TPE's median best vs random's %s", random).isLessThanOrEqualTo(random);
    }

    @Test
    void findsABetterMinimumOfANoisyFunctionThanRandomOverFortyTrials() {
        ToDoubleFunction<Map<String, Object>> truth = p -> square(num(p, "x") - 2.0) + Math.sin(3 * num(p, "x"));
        Objective noisy = (p, rng) -> truth.applyAsDouble(p) + 0.5 * gaussian(rng);

        double tpe = medianBest(TPE, LINE, truth, noisy);
        double random = medianBest(RANDOM, LINE, truth, noisy);

        assertThat(tpe).as("TPE's median best vs random's %s", random).isLessThanOrEqualTo(random);
    }

    @Test
    void sameSeedSameSuggestionsAndAnotherSeedOthers() {
        ToDoubleFunction<Map<String, Object>> objective = p -> square(Math.log10(num(p, "lr")) + 3)
                + num(p, "hiddenLayers.0.units") / 64.0 + ("tanh".equals(p.get("act")) ? 0 : 1);

        List<Map<String, Object>> first = run(TPE, MIXED, 25, (p, rng) -> objective.applyAsDouble(p), 42);
        List<Map<String, Object>> again = run(TPE, MIXED, 25, (p, rng) -> objective.applyAsDouble(p), 42);
        List<Map<String, Object>> other = run(TPE, MIXED, 25, (p, rng) -> objective.applyAsDouble(p), 43);

        assertThat(again).isEqualTo(first);
        assertThat(other.subList(10, 25)).isNotEqualTo(first.subList(10, 25));
    }

    @Test
    void suggestsOnlyValuesOfTheSpaceWithIntsAsIntsAndEveryDimension() {
        for (long seed : SEEDS) {
            List<Map<String, Object>> trials = run(TPE, MIXED, TRIALS, (p, rng) -> rng.nextDouble(), seed);
            for (Map<String, Object> p : trials) {
                assertThat(p).containsOnlyKeys("lr", "hiddenLayers.0.units", "act", "dropout", "batch", "epochs");
                assertThat((Double) p.get("lr")).isBetween(1e-5, 1e-1);
                assertThat(p.get("hiddenLayers.0.units")).isInstanceOf(Integer.class);
                assertThat((Integer) p.get("hiddenLayers.0.units")).isBetween(4, 64);
                assertThat(p.get("act")).isIn(MIXED.dimensions().get(2).values());
                assertThat((Double) p.get("dropout")).isBetween(0.0, 0.5);
                assertThat(p.get("batch")).isEqualTo(32);
                assertThat(p.get("epochs")).isEqualTo(12);
            }
            // Not stuck: TPE explores every choice and a good part of the integer range over 40 trials.
            assertThat(trials.stream().map(p -> p.get("act")).distinct()).hasSize(4);
            assertThat(trials.stream().map(p -> p.get("hiddenLayers.0.units")).distinct().count()).isGreaterThan(10);
        }
    }

    @Test
    void drawsAtRandomUntilTenTrialsHaveAValueThenFollowsTheGoodOnes() {
        // Nine observations say "the closer to -4 the better"; the start-up phase must not listen yet.
        List<Observation> nine = DoubleStream.of(-4, -9, -7, -1, 1, 3, 5, 7, 9)
                .mapToObj(x -> new Observation(Map.of("x", x), square(x + 4), false)).toList();
        for (long seed : SEEDS) {
            assertThat(TPE.next(LINE, nine, new SplittableRandom(seed)))
                    .isEqualTo(RANDOM.next(LINE, List.of(), new SplittableRandom(seed)));
        }

        List<Observation> ten = new ArrayList<>(nine);
        ten.add(new Observation(Map.of("x", -6.5), square(-6.5 + 4), false));
        double tpeDistance = 0;
        double randomDistance = 0;
        for (int seed = 0; seed < 50; seed++) {
            tpeDistance += Math.abs(num(TPE.next(LINE, ten, new SplittableRandom(seed)), "x") + 4.0);
            randomDistance += Math.abs(num(RANDOM.next(LINE, ten, new SplittableRandom(seed)), "x") + 4.0);
        }
        assertThat(tpeDistance).as("TPE stays near the best trial").isLessThan(randomDistance / 3);
    }

    @Test
    void aPrunedTrialIsNeverBelowAFinishedOneOfTheSameOrAWorseValue() {
        List<Observation> obs = new ArrayList<>();
        obs.add(new Observation(Map.of("x", 0.0), 0.1, true)); // the best value, but pruned
        obs.add(new Observation(Map.of("x", 1.0), 0.5, true)); // pruned at a finished trial's value
        for (int i = 0; i < 9; i++) {
            obs.add(new Observation(Map.of("x", 2.0 + i), 0.5 + i, false));
        }

        TpeSampler.Split split = TpeSampler.Split.of(obs); // 11 observations: gamma = 2
        assertThat(split.below()).containsExactly(obs.get(2), obs.get(3));
        assertThat(split.above()).startsWith(obs.get(0), obs.get(1)); // kept in the order observed

        // With too few finished trials, the best pruned ones fill "below" after every finished one.
        List<Observation> mostlyPruned = new ArrayList<>();
        for (int i = 0; i < 10; i++) {
            mostlyPruned.add(new Observation(Map.of("x", (double) i), 10 - i, i != 7));
        }
        mostlyPruned.add(new Observation(Map.of("x", 1.5), Double.NaN, true));
        assertThat(TpeSampler.Split.of(mostlyPruned).below())
                .containsExactly(mostlyPruned.get(7), mostlyPruned.get(9));
    }

    @Test
    void aFinishedTrialWithoutAValueIsNoObservation() {
        List<Observation> nine = IntStream.range(0, 9)
                .mapToObj(i -> new Observation(Map.of("x", (double) i), i, false)).toList();
        List<Observation> withNaN = new ArrayList<>(nine);
        withNaN.add(new Observation(Map.of("x", 5.0), Double.NaN, false));

        // Still nine observations, so still the start-up phase.
        assertThat(TPE.next(LINE, withNaN, new SplittableRandom(3)))
                .isEqualTo(RANDOM.next(LINE, List.of(), new SplittableRandom(3)));
    }

    @Test
    void observationsWithoutAUsableValueOfAParameterAreLeftOutOfItsEstimatorsOnly() {
        List<Observation> obs = new ArrayList<>();
        for (int i = 0; i < 20; i++) {
            Map<String, Object> p = new HashMap<>();
            p.put("x", i % 4 == 0 ? (Object) "not a number" : i % 4 == 1 ? (Object) 99.0 : (Object) (i - 10.0));
            obs.add(new Observation(p, i, false));
        }
        obs.add(new Observation(null, 0.5, false));

        Map<String, Object> next = TPE.next(LINE, obs, new SplittableRandom(1));
        assertThat((Double) next.get("x")).isBetween(-10.0, 10.0);
        // Of the 21 trials the best gamma(21) = 3 are 0.5 (no params), 0 ("not a number") and 1 (99, out of range).
        TpeSampler.Estimators e = TpeSampler.estimators(LINE.dimensions().get(0), obs);
        assertThat(e.below().logPdf(0.0)).isEqualTo(ParzenEstimator.fit(TpeParameter.of(LINE.dimensions().get(0)),
                new double[0]).logPdf(0.0));
    }

    @Test
    void gammaAndWeightsAreOptunasDefaults() {
        assertThat(TpeSampler.gamma(10)).isEqualTo(1);
        assertThat(TpeSampler.gamma(11)).isEqualTo(2);
        assertThat(TpeSampler.gamma(240)).isEqualTo(24);
        assertThat(TpeSampler.gamma(1000)).isEqualTo(25);

        assertThat(ParzenEstimator.weights(0)).containsExactly(1.0);
        assertThat(ParzenEstimator.weights(3)).containsExactly(0.25, 0.25, 0.25, 0.25);
        double[] w = ParzenEstimator.weights(30); // ramp linspace(1/30, 1, 5), then 25 ones, then the prior's 1
        double sum = 1.0 / 30 + (1.0 / 30 + 0.25 * (1 - 1.0 / 30)) + (1.0 / 30 + 0.5 * (1 - 1.0 / 30))
                + (1.0 / 30 + 0.75 * (1 - 1.0 / 30)) + 1 + 25 + 1;
        assertThat(w[0]).isCloseTo(1.0 / 30 / sum, offset(1e-15));
        assertThat(w[4]).isCloseTo(1 / sum, offset(1e-15));
        assertThat(Arrays.stream(w).sum()).isCloseTo(1.0, offset(1e-12));
    }

    @Test
    void refusesADimensionNoDistributionFits() {
        List<Dimension> bad = List.of(new Dimension("a", List.of(), null, null, null),
                new Dimension("b", null, 2.0, 1.0, "uniform"), new Dimension("c", null, 0.0, 1.0, "log_uniform"),
                new Dimension("d", null, 1.2, 1.8, "int_uniform"), new Dimension("e", null, 0.0, 1.0, "normal"),
                new Dimension("f", null, null, 1.0, "uniform"));
        for (Dimension d : bad) {
            assertThatThrownBy(() -> TPE.next(new SearchSpace(List.of(d)), List.of(), new SplittableRandom(1)))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("parameter " + d.path());
        }
    }

    /** An objective that may draw noise from the trial's own generator. */
    private interface Objective {
        double value(Map<String, Object> params, RandomGenerator noise);
    }

    /** The median over the seeds of the true value at the configuration with the best observed value. */
    private static double medianBest(TpeSampler sampler, SearchSpace space, ToDoubleFunction<Map<String, Object>> truth,
            Objective observed) {
        double[] best = new double[SEEDS.length];
        for (int s = 0; s < SEEDS.length; s++) {
            List<Map<String, Object>> trials = new ArrayList<>();
            List<Observation> obs = runObserved(sampler, space, TRIALS, observed, SEEDS[s], trials);
            int argmin = IntStream.range(0, obs.size()).boxed()
                    .min((a, b) -> Double.compare(obs.get(a).value(), obs.get(b).value())).orElseThrow();
            best[s] = truth.applyAsDouble(trials.get(argmin));
        }
        Arrays.sort(best);
        return best[best.length / 2];
    }

    private static List<Map<String, Object>> run(TpeSampler sampler, SearchSpace space, int n, Objective objective,
            long seed) {
        List<Map<String, Object>> trials = new ArrayList<>();
        runObserved(sampler, space, n, objective, seed, trials);
        return trials;
    }

    /** A sweep as the Boss runs it: one trial at a time, each from an RNG of (seed, trial). */
    private static List<Observation> runObserved(TpeSampler sampler, SearchSpace space, int n, Objective objective,
            long seed, List<Map<String, Object>> trials) {
        List<Observation> obs = new ArrayList<>();
        SplittableRandom noise = new SplittableRandom(seed ^ 0x5DEECE66DL);
        for (int t = 1; t <= n; t++) {
            Map<String, Object> p = sampler.next(space, List.copyOf(obs), new SplittableRandom(seed * 1_000_003L + t));
            trials.add(p);
            obs.add(new Observation(p, objective.value(p, noise), false));
        }
        return obs;
    }

    private static double gaussian(RandomGenerator rng) {
        return rng.nextGaussian();
    }

    private static double num(Map<String, Object> p, String key) {
        return ((Number) p.get(key)).doubleValue();
    }

    private static double square(double v) {
        return v * v;
    }
}
