package com.maddatum.boss.sweep;

import static org.assertj.core.api.Assertions.assertThat;

import com.maddatum.boss.sweep.sample.Dimension;
import com.maddatum.boss.sweep.sample.Grid;
import com.maddatum.boss.sweep.sample.RandomSampler;
import com.maddatum.boss.sweep.sample.SearchSpace;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

class SamplingTest {

    private static final SearchSpace SPACE = new SearchSpace(List.of(
            new Dimension("lr", null, 0.0001, 0.1, "log_uniform"),
            new Dimension("epochs", null, 5.0, 8.0, "int_uniform"),
            new Dimension("dropout", null, 0.0, 0.5, "uniform"),
            new Dimension("optimizer", List.of("adam", "sgd"), null, null, null)));

    @Test
    void aGridListsTheProductWithTheFirstDimensionSlowest() {
        Grid grid = Grid.of(new SearchSpace(List.of(new Dimension("a", List.of(1, 2), null, null, null),
                new Dimension("b", null, 0.0, 2.0, "int_uniform"))));
        assertThat(grid.size()).isEqualTo(6);
        assertThat(grid.cells()).containsExactly(Map.of("a", 1, "b", 0), Map.of("a", 1, "b", 1), Map.of("a", 1, "b", 2),
                Map.of("a", 2, "b", 0), Map.of("a", 2, "b", 1), Map.of("a", 2, "b", 2));
        assertThat(Grid.of(SPACE)).as("a continuous range has no grid").isNull();
    }

    @Test
    void aHugeGridReportsItsSizeCapped() {
        List<Dimension> dimensions = new ArrayList<>();
        for (int i = 0; i < 10; i++) {
            dimensions.add(new Dimension("d" + i, null, 0.0, 1e6, "int_uniform"));
        }
        assertThat(Grid.of(new SearchSpace(dimensions)).size()).isEqualTo(Grid.UNBOUNDED);
    }

    @Test
    void randomDrawsStayInTheirRangesAndDependOnlyOnSeedTrialAndAttempt() {
        RandomSampler sampler = new RandomSampler();
        Set<Object> optimizers = new HashSet<>();
        for (int trial = 1; trial <= 200; trial++) {
            Map<String, Object> params = sampler.next(SPACE, List.of(), Proposer.rng(7, trial, 0));
            assertThat((Double) params.get("lr")).isBetween(0.0001, 0.1);
            assertThat(params.get("epochs")).isInstanceOf(Integer.class);
            assertThat((Integer) params.get("epochs")).isBetween(5, 8);
            assertThat((Double) params.get("dropout")).isBetween(0.0, 0.5);
            optimizers.add(params.get("optimizer"));
            assertThat(sampler.next(SPACE, List.of(), Proposer.rng(7, trial, 0))).isEqualTo(params);
            assertThat(sampler.next(SPACE, List.of(), Proposer.rng(7, trial, 1))).isNotEqualTo(params);
            assertThat(sampler.next(SPACE, List.of(), Proposer.rng(8, trial, 0))).isNotEqualTo(params);
        }
        assertThat(optimizers).containsExactlyInAnyOrder("adam", "sgd");
    }

    @Test
    void theHashIgnoresKeyOrderButNotTypesOrValues() {
        Map<String, Object> a = new LinkedHashMap<>(Map.of("x", 1));
        a.put("y", List.of(Map.of("b", 2, "a", "s")));
        Map<String, Object> b = new LinkedHashMap<>();
        b.put("y", List.of(Map.of("a", "s", "b", 2)));
        b.put("x", 1);
        assertThat(CanonicalJson.hash(a)).isEqualTo(CanonicalJson.hash(b));
        assertThat(CanonicalJson.write(a)).isEqualTo("{\"x\":1,\"y\":[{\"a\":\"s\",\"b\":2}]}");
        assertThat(CanonicalJson.hash(Map.of("x", 1))).isNotEqualTo(CanonicalJson.hash(Map.of("x", 1.0)))
                .isNotEqualTo(CanonicalJson.hash(Map.of("x", 2)));
        assertThat(CanonicalJson.hash(Map.of("x", 1))).isEqualTo(CanonicalJson.hash(Map.of("x", 1L)));
    }
}
