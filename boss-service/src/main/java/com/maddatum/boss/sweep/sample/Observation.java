package com.maddatum.boss.sweep.sample;

import java.util.Map;

/**
 * A trial that has a value: its varied parameters and the metric, lower is better (the driver
 * negates a metric to maximize). {@code pruned}: the value is the one it had when early stopping
 * ended it.
 */
public record Observation(Map<String, Object> params, double value, boolean pruned) {}
