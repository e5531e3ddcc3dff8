package com.maddatum.boss.sweep;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class MedianRuleTest {

    private static List<Double> values(String text) {
        return text == null || text.isBlank() ? List.of()
                : java.util.Arrays.stream(text.split(" ")).map(Double::valueOf).toList();
    }

    /**
     * step; the trial's values (losses: lower is better, whatever the sweep's metric) up to the step; the others'
     * values at the step; minSteps; minTrials; the verdict (prune, keep, or none: the rule cannot decide yet).
     */
    @ParameterizedTest(name = "step {0} own [{1}] others [{2}] minSteps {3} minTrials {4} -> {5}")
    @CsvSource(delimiter = ';', value = {
            "5; 3.0 2.5 2.0; 1.0 1.2 1.1; 1; 3; prune",   // best 2.0 > median 1.1
            "5; 3.0 2.5 1.0; 1.0 1.2 1.1; 1; 3; keep",    // best so far 1.0 is below the median
            "5; 1.1; 1.0 1.2 1.1; 1; 3; keep",            // equal to the median is not worse
            "5; 3.0; 1.0 1.2 1.1 0.9; 1; 3; prune",       // even count: median 1.05
            "5; 1.06; 1.0 1.2 1.1 0.9; 1; 3; prune",
            "5; 1.04; 1.0 1.2 1.1 0.9; 1; 3; keep",
            "5; 3.0; 1.0 1.2; 1; 3; none",                // two others, three needed
            "2; 3.0; 1.0 1.2 1.1; 3; 3; none",            // before minSteps
            "3; 3.0; 1.0 1.2 1.1; 3; 3; prune",           // at minSteps
            "5; ; 1.0 1.2 1.1; 1; 3; none",               // nothing of its own
            "5; 0.5 0.6; 0.9 0.8 0.7; 1; 3; keep",        // the lowest loss is the best, never pruned
            "0; 9.0; 1.0; 0; 1; prune"})
    void decidesByTheMedianOfTheOthersAtTheStep(double step, String own, String others, int minSteps, int minTrials,
            String verdict) {
        MedianRule.Decision decision = MedianRule.decide(step, values(own), values(others), minSteps, minTrials);
        switch (verdict) {
            case "none" -> assertThat(decision).isNull();
            case "prune" -> assertThat(decision.prune()).isTrue();
            default -> assertThat(decision.prune()).isFalse();
        }
    }

    @ParameterizedTest
    @CsvSource(delimiter = ';', value = {"1.0; 1.0", "3.0 1.0 2.0; 2.0", "4.0 1.0 3.0 2.0; 2.5"})
    void theMedianIsTheMiddleOrTheMeanOfTheTwoMiddles(String values, double median) {
        assertThat(MedianRule.median(values(values))).isEqualTo(median);
    }
}
