package com.maddatum.boss.sweep.sample;

import java.util.random.RandomGenerator;

/**
 * A one-parameter Parzen estimator, TPE's l(x) or g(x): a weighted mixture with one kernel per observation plus
 * a prior kernel (weight 1.0), as Optuna 3.1's univariate {@code _ParzenEstimator} with the TPESampler's
 * defaults. Values in and out are on the parameter's internal scale ({@link TpeParameter}).
 */
sealed interface ParzenEstimator permits NumericalParzenEstimator, CategoricalParzenEstimator {

    /** Optuna's {@code prior_weight} default. */
    double PRIOR_WEIGHT = 1.0;

    static ParzenEstimator fit(TpeParameter parameter, double[] observations) {
        return parameter.kind() == TpeParameter.Kind.CATEGORICAL
                ? new CategoricalParzenEstimator(parameter, observations)
                : new NumericalParzenEstimator(parameter, observations);
    }

    /** {@code size} draws from the mixture, on the internal scale. */
    double[] sample(RandomGenerator rng, int size);

    /** The log-density (for int_uniform and categorical: the log-probability) at an internal value. */
    double logPdf(double x);

    /**
     * The mixture weights for n observations in the order they were made, then the prior's: Optuna's
     * {@code default_weights} (flat for the last 25 observations, a linear ramp from 1/n before them, so old
     * observations count less), normalised.
     */
    static double[] weights(int n) {
        double[] w = new double[n + 1];
        int ramp = n < 25 ? 0 : n - 25;
        // numpy.linspace(1/n, 1, ramp): start + i*step, the last point exactly 1.
        double start = 1.0 / Math.max(n, 1);
        double step = ramp > 1 ? (1.0 - start) / (ramp - 1) : 0;
        for (int i = 0; i < n; i++) {
            w[i] = i >= ramp ? 1.0 : (ramp > 1 && i == ramp - 1 ? 1.0 : i * step + start);
        }
        w[n] = PRIOR_WEIGHT;
        double sum = 0;
        for (double v : w) {
            sum += v;
        }
        for (int i = 0; i <= n; i++) {
            w[i] /= sum;
        }
        return w;
    }

    /** Which kernel each of {@code size} draws comes from (numpy's {@code choice} with probabilities). */
    static int[] components(double[] weights, RandomGenerator rng, int size) {
        double[] cdf = new double[weights.length];
        double acc = 0;
        for (int i = 0; i < weights.length; i++) {
            acc += weights[i];
            cdf[i] = acc;
        }
        int[] chosen = new int[size];
        for (int s = 0; s < size; s++) {
            double u = rng.nextDouble() * cdf[cdf.length - 1];
            int k = 0;
            while (k < cdf.length - 1 && cdf[k] <= u) {
                k++;
            }
            chosen[s] = k;
        }
        return chosen;
    }

    /** log Σ exp(v), the largest term factored out. */
    static double logSumExp(double[] v) {
        double max = Double.NEGATIVE_INFINITY;
        for (double x : v) {
            max = Math.max(max, x);
        }
        if (max == Double.NEGATIVE_INFINITY) {
            return max;
        }
        double sum = 0;
        for (double x : v) {
            sum += Math.exp(x - max);
        }
        return Math.log(sum) + max;
    }
}
