package com.maddatum.boss.sweep.sample;

import java.util.random.RandomGenerator;

/**
 * Optuna 3.1's categorical Parzen estimator: each observation's kernel puts 1 + w/(n+1) on its own choice and
 * w/(n+1) on every other (w the prior weight), normalised; the prior kernel is uniform.
 */
final class CategoricalParzenEstimator implements ParzenEstimator {

    private final double[] weights;
    /** kernels[i][c]: the probability kernel i gives choice c. */
    private final double[][] kernels;

    CategoricalParzenEstimator(TpeParameter parameter, double[] observations) {
        int n = observations.length;
        int choices = parameter.choiceCount();
        this.weights = ParzenEstimator.weights(n);
        this.kernels = new double[n + 1][choices];
        double base = PRIOR_WEIGHT / (n + 1);
        for (int i = 0; i <= n; i++) {
            java.util.Arrays.fill(kernels[i], base);
            if (i < n) {
                kernels[i][(int) observations[i]] += 1;
            }
            double sum = 0;
            for (double p : kernels[i]) {
                sum += p;
            }
            for (int c = 0; c < choices; c++) {
                kernels[i][c] /= sum;
            }
        }
    }

    @Override
    public double[] sample(RandomGenerator rng, int size) {
        int[] active = ParzenEstimator.components(weights, rng, size);
        double[] out = new double[size];
        for (int s = 0; s < size; s++) {
            double[] p = kernels[active[s]];
            double u = rng.nextDouble();
            // numpy: the number of cumulative probabilities below u.
            int c = 0;
            double cum = p[0];
            while (c < p.length - 1 && cum < u) {
                c++;
                cum += p[c];
            }
            out[s] = c;
        }
        return out;
    }

    @Override
    public double logPdf(double x) {
        int c = (int) x;
        double p = 0;
        for (int i = 0; i < weights.length; i++) {
            p += weights[i] * kernels[i][c];
        }
        return Math.log(p);
    }
}
