package com.maddatum.boss.sweep.sample;

import java.util.List;
import java.util.Map;
import java.util.random.RandomGenerator;

/**
 * Stands in for {@code tpe} until the TPE sampler is merged: draws at random, so that a {@code tpe} sweep
 * runs (as a random one) meanwhile.
 */
// TODO(S4, issue 14): replace with TpeSampler (sweep/sample/TpeSampler.java) and delete this class.
public final class TpePlaceholderSampler implements Sampler {

    private final RandomSampler random = new RandomSampler();

    @Override
    public Map<String, Object> next(SearchSpace space, List<Observation> finished, RandomGenerator rng) {
        return random.next(space, finished, rng);
    }
}
