package com.maddatum.boss.sweep.sample;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.random.RandomGenerator;

/**
 * Draws every dimension independently: one of the {@code values}, each as likely, or a value of the range by
 * its distribution. Ignores the finished trials; everything it draws comes from {@code rng}, so the driver's
 * seeding (the sweep's seed and the trial number) alone decides the configuration.
 */
public final class RandomSampler implements Sampler {

    @Override
    public Map<String, Object> next(SearchSpace space, List<Observation> finished, RandomGenerator rng) {
        Map<String, Object> params = new LinkedHashMap<>();
        for (Dimension dimension : space.dimensions()) {
            params.put(dimension.path(), dimension.values() != null
                    ? dimension.values().get(rng.nextInt(dimension.values().size()))
                    : Distributions.draw(dimension, rng));
        }
        return params;
    }
}
