package com.maddatum.boss.sweep.sample;

import com.maddatum.boss.sweep.CanonicalJson;
import java.util.List;
import java.util.random.RandomGenerator;

/**
 * One {@link Dimension} as TPE sees it, mapped onto the Optuna distribution it stands for: {@code uniform} is a
 * FloatDistribution, {@code log_uniform} a FloatDistribution with log=True, {@code int_uniform} an
 * IntDistribution with step 1, and {@code values} a CategoricalDistribution.
 *
 * <p>Values cross three scales, as in Optuna: the suggested value (what goes into the Job); the internal one
 * (the number itself, or the index of a categorical choice), which Parzen estimators take and give; and the
 * model scale the kernels live on (the logarithm for {@code log_uniform}).
 */
final class TpeParameter {

    enum Kind { FLOAT, LOG_FLOAT, INT, CATEGORICAL }

    private final String path;
    private final Kind kind;
    private final List<Object> choices;
    /** The range of suggested values (for INT, the integer bounds). */
    private final double min;
    private final double max;

    private TpeParameter(String path, Kind kind, List<Object> choices, double min, double max) {
        this.path = path;
        this.kind = kind;
        this.choices = choices;
        this.min = min;
        this.max = max;
    }

    /**
     * @throws IllegalArgumentException for a dimension no TPE distribution fits (the sweep's own checks answer
     *         400 before any sampler sees one)
     */
    static TpeParameter of(Dimension d) {
        if (d.values() != null) {
            if (d.values().isEmpty()) {
                throw new IllegalArgumentException("parameter " + d.path() + ": values is empty");
            }
            return new TpeParameter(d.path(), Kind.CATEGORICAL, List.copyOf(d.values()), 0, d.values().size() - 1);
        }
        if (d.min() == null || d.max() == null || !Double.isFinite(d.min()) || !Double.isFinite(d.max())
                || d.min() > d.max()) {
            throw new IllegalArgumentException("parameter " + d.path() + ": needs finite min <= max");
        }
        String distribution = d.distribution() == null ? "uniform" : d.distribution();
        return switch (distribution) {
            case "uniform" -> new TpeParameter(d.path(), Kind.FLOAT, null, d.min(), d.max());
            case "log_uniform" -> {
                if (d.min() <= 0) {
                    throw new IllegalArgumentException("parameter " + d.path() + ": log_uniform needs min > 0");
                }
                yield new TpeParameter(d.path(), Kind.LOG_FLOAT, null, d.min(), d.max());
            }
            case "int_uniform" -> {
                double low = Math.ceil(d.min());
                double high = Math.floor(d.max());
                if (low > high) {
                    throw new IllegalArgumentException("parameter " + d.path() + ": no integer in [min, max]");
                }
                yield new TpeParameter(d.path(), Kind.INT, null, low, high);
            }
            default -> throw new IllegalArgumentException(
                    "parameter " + d.path() + ": unknown distribution " + distribution);
        };
    }

    String path() {
        return path;
    }

    Kind kind() {
        return kind;
    }

    int choiceCount() {
        return choices.size();
    }

    /** The lowest and highest internal values: for INT the integer bounds, for CATEGORICAL the indices. */
    double min() {
        return min;
    }

    double max() {
        return max;
    }

    /** True when the dimension has one value only; Optuna then suggests it without asking the sampler. */
    boolean single() {
        return min == max;
    }

    /** The Parzen estimator's bounds on the model scale (Optuna's {@code _calculate_parzen_bounds}). */
    double modelLow() {
        return switch (kind) {
            case FLOAT -> min;
            case LOG_FLOAT -> Math.log(min);
            case INT -> min - 0.5;
            case CATEGORICAL -> throw new IllegalStateException("categorical has no bounds");
        };
    }

    double modelHigh() {
        return switch (kind) {
            case FLOAT -> max;
            case LOG_FLOAT -> Math.log(max);
            case INT -> max + 0.5;
            case CATEGORICAL -> throw new IllegalStateException("categorical has no bounds");
        };
    }

    /** From the internal scale to the model scale. */
    double toModel(double internal) {
        return kind == Kind.LOG_FLOAT ? Math.log(internal) : internal;
    }

    /**
     * From the model scale back to the internal one (Optuna's {@code _transform_from_uniform}): exp for
     * log_uniform, rounding half to even then clipping for int_uniform. Unlike Optuna, log_uniform is clipped
     * too, since exp(log(max)) can overshoot max by an ulp.
     */
    double fromModel(double model) {
        return switch (kind) {
            case FLOAT, CATEGORICAL -> model;
            case LOG_FLOAT -> clip(Math.exp(model));
            case INT -> clip(Math.rint(model - min) + min);
        };
    }

    /** A uniform draw as Optuna's RandomSampler makes it (uniform on the model scale, then rounded). */
    double randomInternal(RandomGenerator rng) {
        if (kind == Kind.CATEGORICAL) {
            return rng.nextInt(choices.size());
        }
        double low = modelLow();
        double high = modelHigh();
        return fromModel(low + (high - low) * rng.nextDouble());
    }

    /** The value to put into the Job for an internal value. */
    Object suggested(double internal) {
        return switch (kind) {
            case FLOAT, LOG_FLOAT -> internal;
            case INT -> Distributions.integer((long) internal);
            case CATEGORICAL -> choices.get((int) internal);
        };
    }

    /**
     * An observed value on the internal scale, or NaN when the observation does not have a usable one (the
     * parameter is missing, not a number, out of range, or not among the choices, by the same spelling that
     * tells configurations apart: 1 is not 1.0, where Python's == would say it is; a trial's stored value is
     * always one of the choices exactly, so only the spelling matters); Optuna leaves such trials
     * out of this parameter's estimators, as it does trials that lack the parameter.
     */
    double internal(Object observed) {
        if (kind == Kind.CATEGORICAL) {
            for (int i = 0; i < choices.size(); i++) {
                if (CanonicalJson.same(choices.get(i), observed)) {
                    return i;
                }
            }
            return Double.NaN;
        }
        if (!(observed instanceof Number number)) {
            return Double.NaN;
        }
        double v = number.doubleValue();
        if (!(v >= min && v <= max) || (kind == Kind.INT && v != Math.rint(v))) {
            return Double.NaN;
        }
        return v;
    }

    private double clip(double v) {
        return Math.min(Math.max(v, min), max);
    }
}
