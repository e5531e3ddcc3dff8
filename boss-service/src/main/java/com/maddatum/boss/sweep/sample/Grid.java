package com.maddatum.boss.sweep.sample;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The cells of a finite search space in a fixed order: the cartesian product of each dimension's values
 * (its {@code values}, or every integer of an {@code int_uniform} range), the first dimension varying
 * slowest, as {@code itertools.product} lists them. A continuous range has no cells: {@link #of} refuses it.
 */
public final class Grid {

    /** Sizes beyond this are reported as this: no sweep runs that many trials. */
    public static final long UNBOUNDED = Long.MAX_VALUE;

    private final List<Dimension> dimensions;
    private final long[] counts;
    private final long size;

    private Grid(List<Dimension> dimensions) {
        this.dimensions = List.copyOf(dimensions);
        this.counts = new long[dimensions.size()];
        long product = 1;
        for (int i = 0; i < counts.length; i++) {
            counts[i] = count(dimensions.get(i));
            product = multiplyCapped(product, counts[i]);
        }
        this.size = product;
    }

    /** The grid of {@code space}, or null when a dimension is a continuous range (it has no cells). */
    public static Grid of(SearchSpace space) {
        for (Dimension dimension : space.dimensions()) {
            if (!isFinite(dimension)) {
                return null;
            }
        }
        return new Grid(space.dimensions());
    }

    /** Whether the dimension has finitely many values: a list, or an integer range. */
    public static boolean isFinite(Dimension dimension) {
        return dimension.values() != null || Distributions.INT_UNIFORM.equals(dimension.distribution());
    }

    /** How many cells: the product of the dimensions' counts, {@link #UNBOUNDED} when it does not fit a long. */
    public long size() {
        return size;
    }

    /** The cell at {@code index} (0 to size - 1): dotted path to value, in the dimensions' order. */
    public Map<String, Object> cell(long index) {
        if (index < 0 || index >= size) {
            throw new IndexOutOfBoundsException("cell " + index + " of " + size);
        }
        long[] digits = new long[counts.length];
        long rest = index;
        for (int i = counts.length - 1; i >= 0; i--) {
            digits[i] = rest % counts[i];
            rest /= counts[i];
        }
        Map<String, Object> cell = new LinkedHashMap<>();
        for (int i = 0; i < counts.length; i++) {
            cell.put(dimensions.get(i).path(), value(dimensions.get(i), digits[i]));
        }
        return cell;
    }

    /** Every cell, in order; only for a grid small enough to list. */
    public List<Map<String, Object>> cells() {
        List<Map<String, Object>> all = new ArrayList<>();
        for (long i = 0; i < size; i++) {
            all.add(cell(i));
        }
        return all;
    }

    private static long count(Dimension dimension) {
        if (dimension.values() != null) {
            return dimension.values().size();
        }
        long span = Distributions.highest(dimension) - Distributions.lowest(dimension);
        return span < 0 ? 0 : span == Long.MAX_VALUE ? UNBOUNDED : span + 1;
    }

    private static Object value(Dimension dimension, long digit) {
        return dimension.values() != null ? dimension.values().get((int) digit)
                : Distributions.integer(Distributions.lowest(dimension) + digit);
    }

    private static long multiplyCapped(long a, long b) {
        if (a == 0 || b == 0) {
            return 0;
        }
        return a > UNBOUNDED / b ? UNBOUNDED : a * b;
    }
}
