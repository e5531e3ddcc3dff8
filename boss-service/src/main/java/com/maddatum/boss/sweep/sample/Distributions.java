package com.maddatum.boss.sweep.sample;

import java.util.random.RandomGenerator;

/** Drawing one value of a range dimension, the same way for every sampler that draws at random. */
public final class Distributions {

    public static final String UNIFORM = "uniform";
    public static final String LOG_UNIFORM = "log_uniform";
    public static final String INT_UNIFORM = "int_uniform";

    private Distributions() {}

    /**
     * A value of {@code dimension} (a range): a double for {@code uniform} and {@code log_uniform}, an integer
     * (Integer when it fits, else Long) for {@code int_uniform}, both ends included.
     */
    public static Object draw(Dimension dimension, RandomGenerator rng) {
        double min = dimension.min();
        double max = dimension.max();
        return switch (dimension.distribution()) {
            case UNIFORM -> min == max ? min : min + rng.nextDouble() * (max - min);
            case LOG_UNIFORM -> min == max ? min
                    : Math.min(max, Math.exp(Math.log(min) + rng.nextDouble() * (Math.log(max) - Math.log(min))));
            case INT_UNIFORM -> integer(lowest(dimension) + rng.nextLong(highest(dimension) - lowest(dimension) + 1));
            default -> throw new IllegalArgumentException("unknown distribution " + dimension.distribution());
        };
    }

    /** The smallest integer an {@code int_uniform} dimension can take. */
    public static long lowest(Dimension dimension) {
        return (long) Math.ceil(dimension.min());
    }

    /** The largest integer an {@code int_uniform} dimension can take. */
    public static long highest(Dimension dimension) {
        return (long) Math.floor(dimension.max());
    }

    /** As JSON reads an integer: an Integer when it fits, else a Long, so that equal values hash the same. */
    public static Object integer(long value) {
        return value == (int) value ? (Object) (int) value : (Object) value;
    }
}
