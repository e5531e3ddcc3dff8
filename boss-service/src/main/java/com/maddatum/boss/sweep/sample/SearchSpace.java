package com.maddatum.boss.sweep.sample;

import java.util.List;

/** The varied parameters of a sweep, in the order the request gave them. */
public record SearchSpace(List<Dimension> dimensions) {}
