package com.maddatum.boss.sweep.sample;

import java.util.List;
import java.util.Map;
import java.util.random.RandomGenerator;

/**
 * Suggests the next configuration of a sweep: a map from dotted path to value, one entry per
 * dimension; never null (random and tpe draw from the whole space: the driver, not the sampler, skips a
 * configuration tried already and picks among those left in a small space). Deterministic given {@code rng}: the
 * driver seeds {@code rng} from the sweep's seed and the trial number, so the same sweep asks the
 * same questions whatever the timing.
 */
public interface Sampler {

    Map<String, Object> next(SearchSpace space, List<Observation> finished, RandomGenerator rng);
}
