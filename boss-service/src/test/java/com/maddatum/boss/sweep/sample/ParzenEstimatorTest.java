package com.maddatum.boss.sweep.sample;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** Draws follow the density the estimator scores them with; a density is a density. */
class ParzenEstimatorTest {

    private static final int DRAWS = 40_000;
    /** About four standard deviations of a bucket's frequency over DRAWS draws. */
    private static final double FREQUENCY_TOLERANCE = 0.01;

    @Test
    void uniformDrawsFollowTheDensity() {
        TpeParameter p = TpeParameter.of(new Dimension("x", null, -5.0, 10.0, "uniform"));
        ParzenEstimator e = ParzenEstimator.fit(p, new double[] {-4.5, 0.0, 0.2, 7.0, 9.9});
        assertDrawsFollowDensity(e, -5, 10, 15, false);
    }

    @Test
    void logUniformDrawsFollowTheDensityOnTheLogScale() {
        TpeParameter p = TpeParameter.of(new Dimension("lr", null, 1e-4, 1e-1, "log_uniform"));
        ParzenEstimator e = ParzenEstimator.fit(p, new double[] {2e-4, 1e-3, 1.5e-3, 0.05});
        assertDrawsFollowDensity(e, Math.log(1e-4), Math.log(1e-1), 12, true);
    }

    @Test
    void intDrawsAreIntegersWithTheEstimatorsProbabilities() {
        TpeParameter p = TpeParameter.of(new Dimension("n", null, 1.0, 9.0, "int_uniform"));
        ParzenEstimator e = ParzenEstimator.fit(p, new double[] {2, 2, 3, 8});
        assertDrawsFollowMasses(e, 1, 9);
    }

    @Test
    void categoricalDrawsFollowTheEstimatorsProbabilities() {
        TpeParameter p = TpeParameter.of(new Dimension("act", List.of("a", "b", "c", "d"), null, null, null));
        ParzenEstimator e = ParzenEstimator.fit(p, new double[] {0, 0, 2});
        assertDrawsFollowMasses(e, 0, 3);
        // Two of three kernels favour "a": (1 + 1/4) / (1 + 4/4) each; one favours "c"; the prior is flat.
        double a = (2 * (1.25 / 2) + 0.25 / 2 + 0.25) / 4;
        assertThat(Math.exp(e.logPdf(0))).isCloseTo(a, within(1e-15));
    }

    @Test
    void withoutObservationsOnlyThePriorRemains() {
        TpeParameter p = TpeParameter.of(new Dimension("x", null, 0.0, 1.0, "uniform"));
        ParzenEstimator e = ParzenEstimator.fit(p, new double[0]);
        // The prior: N(1/2, 1) truncated to [0, 1], nearly flat.
        assertThat(Math.exp(e.logPdf(0.5))).isCloseTo(1.04, within(0.01));
        assertDrawsFollowDensity(e, 0, 1, 5, false);
    }

    /**
     * Buckets [low, high] (on the model scale: the log of the value when {@code logScale}) and compares the share of
     * draws in each with the density's integral over it.
     */
    private static void assertDrawsFollowDensity(ParzenEstimator e, double low, double high, int buckets,
            boolean logScale) {
        double[] model = Arrays.stream(e.sample(new SplittableRandom(11), DRAWS))
                .map(x -> logScale ? Math.log(x) : x).toArray();
        double width = (high - low) / buckets;
        int steps = 2000;
        double total = 0;
        for (int b = 0; b < buckets; b++) {
            double from = low + b * width;
            double to = from + width;
            double mass = 0;
            for (int i = 0; i < steps; i++) {
                double m = from + (i + 0.5) * width / steps;
                mass += Math.exp(e.logPdf(logScale ? Math.exp(m) : m)) * width / steps;
            }
            total += mass;
            long inside = Arrays.stream(model).filter(m -> m >= from && (m < to || m == high)).count();
            assertThat((double) inside / DRAWS).as("bucket %s", b).isCloseTo(mass, within(FREQUENCY_TOLERANCE));
        }
        assertThat(total).as("the density integrates to 1").isCloseTo(1.0, within(1e-4));
    }

    private static void assertDrawsFollowMasses(ParzenEstimator e, int first, int last) {
        double[] draws = e.sample(new SplittableRandom(11), DRAWS);
        double total = 0;
        for (int k = first; k <= last; k++) {
            int value = k;
            double p = Math.exp(e.logPdf(k));
            total += p;
            long hits = Arrays.stream(draws).filter(x -> x == value).count();
            assertThat((double) hits / DRAWS).as("value %s", k).isCloseTo(p, within(FREQUENCY_TOLERANCE));
        }
        assertThat(total).as("the probabilities sum to 1").isCloseTo(1.0, within(1e-12));
        assertThat(Arrays.stream(draws).allMatch(x -> x == Math.rint(x) && x >= first && x <= last)).isTrue();
    }
}
