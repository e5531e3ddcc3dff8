package com.maddatum.boss.sweep.sample;

import java.util.List;

/**
 * One varied parameter: either {@code values} (a list of JSON values, the others null) or a range
 * {@code min}..{@code max} with {@code distribution} one of {@code uniform}, {@code log_uniform},
 * {@code int_uniform} ({@code values} null).
 */
public record Dimension(String path, List<Object> values, Double min, Double max, String distribution) {}
