package com.maddatum.boss.sweep.sample;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.random.RandomGenerator;
import java.util.stream.IntStream;

/**
 * The Tree-structured Parzen Estimator (Bergstra, Bardenet, Bengio, Kégl: "Algorithms for Hyper-Parameter
 * Optimization", NIPS 2011), written to do what Optuna 3.1's {@code TPESampler()} does with its defaults.
 *
 * <p>Why Java and not Optuna itself: the Boss runs without Python (its image and the embedded mode have none),
 * and a suggestion must be cheap and deterministic given the sweep's RNG. What keeps this honest is
 * {@code TpeReferenceTest}, which checks l(x) and g(x) against Optuna 3.1's own {@code _ParzenEstimator} on the
 * same observations wherever {@code python3 -c "import optuna"} works.
 *
 * <h2>What it does (Optuna 3.1's defaults)</h2>
 * <ul>
 * <li>Fewer than {@code nStartupTrials} (10) observations: every parameter is drawn uniformly, as Optuna's
 * RandomSampler does (log_uniform uniform in log space; int_uniform uniform on [min - 1/2, max + 1/2],
 * rounded).</li>
 * <li>Then the n observations are ranked, best first, and the first gamma(n) = min(ceil(0.1 n), 25) are
 * "below", the rest "above". Finished trials rank by value; pruned trials rank after every finished one (as
 * Optuna ranks them by (-step, value) with finished trials at step -inf), among themselves by their last value.
 * Ties keep the order of observation. A finished observation whose value is NaN is left out (Optuna marks such a
 * trial failed); a pruned one with NaN counts as +inf.</li>
 * <li>Each parameter is sampled independently (multivariate off): l(x) is a Parzen estimator of the below
 * group's values, g(x) of the above group's, each with a prior kernel of weight 1.0, and with Optuna's weights
 * (flat for the 25 most recent observations, a ramp before them), bandwidth rule (neighbour gaps, endpoints
 * not considered, magic clip) and kernels: truncated normals on [min, max] for uniform, on [log min, log max]
 * for log_uniform, the mass over [x - 1/2, x + 1/2] of a normal truncated to [min - 1/2, max + 1/2] for
 * int_uniform, and the prior-smoothed categorical estimator for {@code values}.</li>
 * <li>24 candidates are drawn from l(x) (kernel by weight, then the truncated normal's quantile of a uniform
 * draw) and the one with the largest log l(x) - log g(x) wins; ties go to the first.</li>
 * <li>A dimension with a single value is suggested as it is, without drawing.</li>
 * </ul>
 *
 * <h2>Where it deviates from Optuna 3.1, and why</h2>
 * <ul>
 * <li>The truncated-normal density includes its -log(sigma) term. Optuna 3.1 leaves it out, so its l(x) and
 * g(x) are not normalised and favour wide kernels; that was a bug, fixed in Optuna 3.5 (optuna/optuna#5109).
 * The reference test applies the same fix to Optuna's {@code _truncnorm.logpdf} before comparing.</li>
 * <li>Pruned observations carry no step here, so pruned trials rank among themselves by value alone (Optuna
 * puts those pruned later first).</li>
 * <li>Bandwidths of equal values are assigned through a stable sort (numpy's default sort is not stable past
 * 16 elements, so Optuna's assignment among ties is arbitrary); this only matters when the weights differ.</li>
 * <li>A log_uniform suggestion is clipped to [min, max], since exp(log max) may exceed max by an ulp.</li>
 * <li>The RNG is the caller's {@link RandomGenerator}, not numpy's Mersenne Twister: a seed gives other (equally
 * distributed) suggestions than Optuna's with the same seed. The draws happen in a fixed order (per dimension,
 * in the space's order: the kernels, then the quantiles), so the same RNG state gives the same suggestion.</li>
 * <li>No constant liar (Optuna's default is off too): trials still running are not observations, so with
 * parallelism p several suggestions come from the same history; they differ because each trial draws from its
 * own RNG (the driver seeds one per trial), and the sweep skips an exact repeat.</li>
 * </ul>
 *
 * <p>{@code finished} must be in the order the trials were made (oldest first): the weights depend on it.
 */
public final class TpeSampler implements Sampler {

    public static final int DEFAULT_STARTUP_TRIALS = 10;
    public static final int DEFAULT_EI_CANDIDATES = 24;

    private final int startupTrials;
    private final int eiCandidates;

    public TpeSampler() {
        this(DEFAULT_STARTUP_TRIALS, DEFAULT_EI_CANDIDATES);
    }

    /**
     * @param startupTrials observations needed before TPE takes over from random draws (Optuna's n_startup_trials)
     * @param eiCandidates draws from l(x) to choose from (Optuna's n_ei_candidates)
     */
    public TpeSampler(int startupTrials, int eiCandidates) {
        if (startupTrials < 0 || eiCandidates < 1) {
            throw new IllegalArgumentException("startupTrials must be >= 0 and eiCandidates >= 1");
        }
        this.startupTrials = startupTrials;
        this.eiCandidates = eiCandidates;
    }

    @Override
    public Map<String, Object> next(SearchSpace space, List<Observation> finished, RandomGenerator rng) {
        List<Observation> usable = finished.stream().filter(o -> o.pruned() || !Double.isNaN(o.value())).toList();
        boolean startup = usable.size() < startupTrials;
        Split split = startup ? null : Split.of(usable);
        Map<String, Object> next = new LinkedHashMap<>();
        for (Dimension dimension : space.dimensions()) {
            TpeParameter parameter = TpeParameter.of(dimension);
            double internal;
            if (parameter.single()) {
                internal = parameter.min();
            } else if (startup) {
                internal = parameter.randomInternal(rng);
            } else {
                internal = suggest(parameter, split, rng);
            }
            next.put(parameter.path(), parameter.suggested(internal));
        }
        return next;
    }

    private double suggest(TpeParameter parameter, Split split, RandomGenerator rng) {
        Estimators estimators = split.estimators(parameter);
        double[] candidates = estimators.below().sample(rng, eiCandidates);
        int best = 0;
        double bestScore = Double.NEGATIVE_INFINITY;
        for (int i = 0; i < candidates.length; i++) {
            double score = estimators.below().logPdf(candidates[i]) - estimators.above().logPdf(candidates[i]);
            if (score > bestScore || i == 0) {
                best = i;
                bestScore = score;
            }
        }
        return candidates[best];
    }

    /** l(x) and g(x) for one parameter. */
    record Estimators(ParzenEstimator below, ParzenEstimator above) {
    }

    /** l(x) and g(x) for a dimension given these observations (for the reference test). */
    static Estimators estimators(Dimension dimension, List<Observation> finished) {
        List<Observation> usable = finished.stream().filter(o -> o.pruned() || !Double.isNaN(o.value())).toList();
        return Split.of(usable).estimators(TpeParameter.of(dimension));
    }

    /** Optuna's {@code default_gamma}: how many of n observations are "below". */
    static int gamma(int n) {
        return Math.min((int) Math.ceil(0.1 * n), 25);
    }

    /** The observations split into below (the best gamma(n)) and above, each kept in the order observed. */
    record Split(List<Observation> below, List<Observation> above) {

        static Split of(List<Observation> observations) {
            Comparator<Integer> rank = Comparator
                    .comparing((Integer i) -> observations.get(i).pruned())
                    .thenComparingDouble(i -> rankValue(observations.get(i)));
            List<Integer> ranked = IntStream.range(0, observations.size()).boxed().sorted(rank).toList();
            int n = gamma(observations.size());
            return new Split(inOrder(observations, ranked.subList(0, n)),
                    inOrder(observations, ranked.subList(n, ranked.size())));
        }

        private static double rankValue(Observation o) {
            return Double.isNaN(o.value()) ? Double.POSITIVE_INFINITY : o.value();
        }

        private static List<Observation> inOrder(List<Observation> all, List<Integer> indices) {
            return indices.stream().sorted().map(all::get).toList();
        }

        Estimators estimators(TpeParameter parameter) {
            return new Estimators(ParzenEstimator.fit(parameter, values(parameter, below)),
                    ParzenEstimator.fit(parameter, values(parameter, above)));
        }

        /** The group's usable values of the parameter, on the internal scale. */
        private static double[] values(TpeParameter parameter, List<Observation> group) {
            List<Double> values = new ArrayList<>();
            for (Observation o : group) {
                double v = o.params() == null ? Double.NaN : parameter.internal(o.params().get(parameter.path()));
                if (!Double.isNaN(v)) {
                    values.add(v);
                }
            }
            return values.stream().mapToDouble(Double::doubleValue).toArray();
        }
    }
}
