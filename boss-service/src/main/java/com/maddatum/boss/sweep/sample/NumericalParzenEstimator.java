package com.maddatum.boss.sweep.sample;

import java.util.Arrays;
import java.util.Comparator;
import java.util.random.RandomGenerator;
import java.util.stream.IntStream;

/**
 * Truncated-normal kernels on [low, high] of the model scale. Bandwidths follow Optuna 3.1 (and hyperopt): each
 * kernel's sigma is the larger gap to its sorted neighbours (the two outermost take their inner gap:
 * consider_endpoints false), clipped to [(high - low) / min(100, n + 2), high - low] (consider_magic_clip);
 * the prior kernel sits at the middle with sigma = high - low. For int_uniform a value's probability is the
 * kernel's mass over [x - 1/2, x + 1/2] (Optuna's discretised rule for IntDistribution).
 */
final class NumericalParzenEstimator implements ParzenEstimator {

    private final TpeParameter parameter;
    private final double low;
    private final double high;
    private final boolean discrete;
    private final double[] weights;
    private final double[] mus;
    private final double[] sigmas;
    /** Per kernel: its standardised bounds and the log of its mass inside them. */
    private final double[] a;
    private final double[] b;
    private final double[] logMass;

    NumericalParzenEstimator(TpeParameter parameter, double[] observations) {
        this.parameter = parameter;
        this.low = parameter.modelLow();
        this.high = parameter.modelHigh();
        this.discrete = parameter.kind() == TpeParameter.Kind.INT;
        int n = observations.length;
        this.weights = ParzenEstimator.weights(n);
        this.mus = new double[n + 1];
        for (int i = 0; i < n; i++) {
            mus[i] = parameter.toModel(observations[i]);
        }
        mus[n] = 0.5 * (low + high);
        this.sigmas = bandwidths(mus, low, high);
        sigmas[n] = high - low;
        this.a = new double[n + 1];
        this.b = new double[n + 1];
        this.logMass = new double[n + 1];
        for (int k = 0; k <= n; k++) {
            a[k] = (low - mus[k]) / sigmas[k];
            b[k] = (high - mus[k]) / sigmas[k];
            logMass[k] = TruncatedNormal.logGaussMass(a[k], b[k]);
        }
    }

    private static double[] bandwidths(double[] mus, double low, double high) {
        int m = mus.length;
        // A stable sort, so that equal values get their bandwidths in the order they were observed.
        Integer[] order = IntStream.range(0, m).boxed().sorted(Comparator.comparingDouble(i -> mus[i]))
                .toArray(Integer[]::new);
        double[] ends = new double[m + 2];
        ends[0] = low;
        for (int i = 0; i < m; i++) {
            ends[i + 1] = mus[order[i]];
        }
        ends[m + 1] = high;
        double[] sorted = new double[m];
        for (int i = 0; i < m; i++) {
            sorted[i] = Math.max(ends[i + 1] - ends[i], ends[i + 2] - ends[i + 1]);
        }
        if (ends.length >= 4) {
            sorted[0] = ends[2] - ends[1];
            sorted[m - 1] = ends[m] - ends[m - 1];
        }
        double maxSigma = high - low;
        double minSigma = (high - low) / Math.min(100.0, 1.0 + m);
        double[] sigmas = new double[m];
        for (int i = 0; i < m; i++) {
            sigmas[order[i]] = Math.min(Math.max(sorted[i], minSigma), maxSigma);
        }
        return sigmas;
    }

    @Override
    public double[] sample(RandomGenerator rng, int size) {
        int[] active = ParzenEstimator.components(weights, rng, size);
        double[] out = new double[size];
        for (int s = 0; s < size; s++) {
            int k = active[s];
            double x = TruncatedNormal.ppf(rng.nextDouble(), a[k], b[k]) * sigmas[k] + mus[k];
            out[s] = parameter.fromModel(x);
        }
        return out;
    }

    @Override
    public double logPdf(double x) {
        double m = parameter.toModel(x);
        double[] terms = new double[mus.length];
        for (int k = 0; k < mus.length; k++) {
            terms[k] = kernelLogPdf(k, m) + Math.log(weights[k]);
        }
        return ParzenEstimator.logSumExp(terms);
    }

    private double kernelLogPdf(int k, double m) {
        if (!discrete) {
            return TruncatedNormal.logPdf(m, a[k], b[k], mus[k], sigmas[k], logMass[k]);
        }
        double upper = Math.min(m + 0.5, high);
        double lower = Math.max(m - 0.5, low);
        return TruncatedNormal.logGaussMass((lower - mus[k]) / sigmas[k], (upper - mus[k]) / sigmas[k])
                - logMass[k];
    }

    @Override
    public String toString() {
        return "NumericalParzenEstimator[mus=" + Arrays.toString(mus) + ", sigmas=" + Arrays.toString(sigmas) + "]";
    }
}
