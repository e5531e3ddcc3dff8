package com.maddatum.worker.outcome;

import static org.assertj.core.api.Assertions.assertThat;

import com.maddatum.worker.support.BossCallbackRules;
import com.maddatum.worker.support.TestSettings;
import java.io.ByteArrayOutputStream;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** The Worker makes a script's Outcome pass the Boss's callback rules where it can, and says what it changed. */
class OutcomeContractTest {

    private final OutcomeContract contract = new OutcomeContract(TestSettings.JSON);

    private static Map<String, Object> outcome(Object... pairs) {
        Map<String, Object> outcome = new LinkedHashMap<>();
        outcome.put("status", 200);
        outcome.put("jobId", "65a1b2c3d4e5f60718293a4c");
        for (int i = 0; i < pairs.length; i += 2) {
            outcome.put((String) pairs[i], pairs[i + 1]);
        }
        return outcome;
    }

    private Map<String, Object> conformed(Map<String, Object> outcome) {
        Map<String, Object> fixed = contract.conform(outcome);
        assertThat(BossCallbackRules.violations(fixed, TestSettings.JSON)).as("what the Boss would refuse").isEmpty();
        return fixed;
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> map(Object value) {
        return (Map<String, Object>) value;
    }

    /** Percent-decoding, as the README tells people to read keys back (not form decoding: '+' stays). */
    static String decode(String key) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        byte[] raw = key.getBytes(StandardCharsets.UTF_8);
        for (int i = 0; i < raw.length; i++) {
            if (raw[i] == '%' && i + 2 < raw.length + 0 && i + 2 <= raw.length - 1) {
                bytes.write(Integer.parseInt(new String(raw, i + 1, 2, StandardCharsets.US_ASCII), 16));
                i += 2;
            } else if (raw[i] == '%') {
                // a lone % is the empty key
            } else {
                bytes.write(raw[i]);
            }
        }
        return bytes.toString(StandardCharsets.UTF_8);
    }

    @Test
    void dottedAndDollarKeysAreEncodedReversiblyAtEveryLevel() {
        Map<String, Object> nested = new LinkedHashMap<>();
        nested.put("lr.schedule", Map.of("$min", 0.1));
        Map<String, Object> fixed = conformed(outcome("val.loss", 0.25, "$where", "x", "", 1, "100%", 2,
                "metrics", Map.of("r2.adj", 0.5), "config", nested));
        assertThat(fixed).containsEntry("val%2Eloss", 0.25).containsEntry("%24where", "x").containsEntry("%", 1)
                .containsEntry("100%25", 2).containsEntry("metrics", Map.of("r2%2Eadj", 0.5))
                .containsEntry("config", Map.of("lr%2Eschedule", Map.of("%24min", 0.1)));
        for (String original : List.of("val.loss", "$where", "", "100%", "a%2Eb", "\0x", "...", "$$.%.$")) {
            assertThat(decode(OutcomeContract.encodeKey(original))).isEqualTo(original);
        }
        assertThat(OutcomeContract.encodeKey("a.b")).isNotEqualTo(OutcomeContract.encodeKey("a%2Eb"));
        assertThat((List<?>) fixed.get("workerFixes")).first().asString().contains("val.loss", "$where");
    }

    @Test
    void nonNumericMetricsMoveOutAndTheRestStay() {
        Map<String, Object> metrics = new LinkedHashMap<>();
        metrics.put("r2", 0.9);
        metrics.put("note", "converged");
        metrics.put("curve", List.of(1, 2));
        Map<String, Object> fixed = conformed(outcome("metrics", metrics));
        assertThat(fixed.get("metrics")).isEqualTo(Map.of("r2", 0.9));
        assertThat(fixed.get("invalidFields")).isEqualTo(Map.of("metrics", Map.of("note", "converged", "curve", List.of(1, 2))));
    }

    @Test
    void moreThanTwoHundredMetricsKeepTheFirstTwoHundred() {
        Map<String, Object> metrics = new LinkedHashMap<>();
        for (int i = 0; i < 250; i++) {
            metrics.put("m" + i, i);
        }
        Map<String, Object> fixed = conformed(outcome("metrics", metrics));
        assertThat(map(fixed.get("metrics"))).hasSize(200).containsKey("m0").containsKey("m199");
        assertThat(map(map(fixed.get("invalidFields")).get("metrics"))).hasSize(50).containsKey("m249");
    }

    @Test
    void aSuccessWithANonFiniteLossIsAFailureThatSaysSo() {
        Map<String, Object> fixed = conformed(outcome("loss", Double.NaN, "metric", 1.5, "extra", Double.POSITIVE_INFINITY));
        assertThat(fixed).containsEntry("status", 500).containsEntry("metric", 1.5).containsEntry("extra", "Infinity")
                .doesNotContainKey("loss");
        assertThat(fixed.get("error")).isEqualTo(Map.of("type", "NonFiniteResult",
                "message", "the script reported success, but loss is NaN"));
        assertThat(fixed.get("invalidFields")).isEqualTo(Map.of("loss", "NaN"));
    }

    @Test
    void aFailureWithANonFiniteLossKeepsItsOwnStatusAndError() {
        Map<String, Object> fixed = conformed(outcome("status", 422, "loss", Double.NEGATIVE_INFINITY,
                "error", Map.of("type", "Diverged", "message", "boom")));
        assertThat(fixed).containsEntry("status", 422);
        assertThat(fixed.get("error")).isEqualTo(Map.of("type", "Diverged", "message", "boom"));
    }

    @Test
    void aStatusOutsideTheRangeBecomesAnInvalidStatusFailureKeepingWhatTheScriptSaid() {
        Map<String, Object> fixed = conformed(outcome("status", 42, "loss", 1.0));
        assertThat(fixed).containsEntry("status", 500).containsEntry("loss", 1.0);
        assertThat((map(fixed.get("error"))).get("type")).isEqualTo("InvalidStatus");
        assertThat((map(fixed.get("invalidFields"))).get("status")).isEqualTo(42);
        assertThat(conformed(outcome("status", 70_000_000_000L)).get("status")).isEqualTo(500);
    }

    @Test
    void integersBeyondSixtyFourBitsBecomeFloatingPoint() {
        BigInteger huge = BigInteger.TWO.pow(70);
        Map<String, Object> fixed = conformed(outcome("count", huge, "loss", huge, "fine", BigInteger.TEN));
        assertThat(fixed.get("count")).isEqualTo(huge.doubleValue());
        assertThat(fixed.get("loss")).isEqualTo(huge.doubleValue());
        assertThat(fixed.get("fine")).isEqualTo(10L);
    }

    @Test
    void nestingDeeperThanTheBossAllowsIsKeptAsJsonText() {
        Object deep = "bottom";
        for (int i = 0; i < 40; i++) {
            deep = Map.of("d", deep);
        }
        Map<String, Object> fixed = conformed(outcome("tree", deep, "list", List.of(List.of(List.of()))));
        Object node = fixed.get("tree");
        int levels = 2;
        while (node instanceof Map<?, ?> map) {
            node = map.get("d");
            levels++;
        }
        assertThat(levels).isEqualTo(32);
        assertThat((String) node).startsWith("{\"d\":");
        assertThat(fixed.get("list")).isEqualTo(List.of(List.of(List.of())));
    }

    @Test
    void fieldsOfTheWrongTypeAreMovedOutNotRefused() {
        Map<String, Object> fixed = conformed(outcome("loss", "0.5", "metricName", "m".repeat(200), "retryable", "yes",
                "attempt", 0, "exitCode", 1.5, "node", "bad node/..", "startedAt", "yesterday", "orderId", "65a1b2c3d4e5f60718293a4b",
                "assignmentId", List.of(), "jobId", "j".repeat(65), "metrics", List.of(1, 2), "logTail", List.of("a"),
                "error", Map.of("type", 7, "message", Map.of("detail", "x"))));
        assertThat(fixed.get("metricName")).isEqualTo("m".repeat(128));
        assertThat(map(fixed.get("invalidFields"))).containsOnlyKeys("loss", "retryable", "attempt", "exitCode",
                "node", "startedAt", "assignmentId", "jobId", "metrics");
        assertThat(fixed.get("error")).isEqualTo(Map.of("type", "7", "message", "{\"detail\":\"x\"}"));
        assertThat(fixed.get("logTail")).isEqualTo("[\"a\"]");
        assertThat(conformed(outcome("error", List.of("oops"))).get("error")).isEqualTo("[\"oops\"]");
        assertThat(conformed(outcome("jobId", 297)).get("jobId")).isEqualTo("297");
    }

    @Test
    void anOutcomeOverTheBossLimitsLeavesOutItsLargestExtrasFirst() {
        List<Integer> many = new ArrayList<>();
        for (int i = 0; i < 6000; i++) {
            many.add(i);
        }
        Map<String, Object> fixed = conformed(outcome("loss", 0.1, "folds", many, "rows", 174,
                "blob", "x".repeat(2_000_000), "logTail", "tail"));
        assertThat(fixed).containsEntry("loss", 0.1).containsEntry("rows", 174).containsEntry("logTail", "tail")
                .doesNotContainKeys("folds", "blob");
        assertThat((List<?>) fixed.get("workerFixes")).anySatisfy(n -> assertThat((String) n).startsWith("folds: left out"));
    }

    @Test
    void theWorkersArtifactListsAreNeverLeftOutToMakeRoom() {
        List<Map<String, Object>> artifacts = new ArrayList<>();
        for (int i = 0; i < 500; i++) { // worker.artifacts.max-files at its default
            artifacts.add(Map.of("name", "plots/epoch-" + i + ".png", "size", 1000L + i, "sha256", "a".repeat(64),
                    "contentType", "image/png"));
        }
        List<Map<String, Object>> skipped = List.of(Map.of("name", "big.ckpt", "size", 5L << 30, "reason", "beyond the cap"));
        Map<String, Object> fixed = conformed(outcome("artifacts", artifacts, "skippedArtifacts", skipped,
                "fetchSeconds", 1.5, "blob", "x".repeat(2_000_000)));
        assertThat(fixed).doesNotContainKey("blob").containsEntry("fetchSeconds", 1.5)
                .containsEntry("skippedArtifacts", skipped);
        assertThat((List<?>) fixed.get("artifacts")).hasSize(500);
    }

    /**
     * Everything the Worker itself adds, at its largest: 800 files (700 uploaded, 99 skipped and the count of
     * the rest) with the longest names and reasons, a full manifest with 100 inputs, 200 metrics, the log
     * tail, the error. It passes the Boss's rules, with nothing of the Worker's left out.
     */
    @Test
    void theWorkersOwnFieldsAtTheirLargestStillFitTheBossLimits() {
        String longName = "é".repeat(254) + "x"; // 255 characters, most of them two bytes in UTF-8
        List<Map<String, Object>> artifacts = new ArrayList<>();
        for (int i = 0; i < com.maddatum.worker.config.WorkerProperties.Artifacts.MAX_FILES; i++) {
            artifacts.add(Map.of("name", i + longName.substring(String.valueOf(i).length()), "size", Long.MAX_VALUE,
                    "sha256", "a".repeat(64), "contentType", "application/octet-stream"));
        }
        List<Map<String, Object>> skipped = new ArrayList<>();
        for (int i = 0; i <= com.maddatum.worker.artifact.ArtifactUploader.MAX_SKIPPED_LISTED; i++) {
            skipped.add(Map.of("name", longName, "size", Long.MAX_VALUE, "reason", "€".repeat(300)));
        }
        assertThat(artifacts.size() + skipped.size()).isEqualTo(com.maddatum.worker.artifact.ArtifactUploader.MAX_ENTRIES);
        Map<String, Object> manifest = new LinkedHashMap<>();
        List<Map<String, Object>> inputs = new ArrayList<>();
        for (int i = 0; i < 100; i++) {
            inputs.add(Map.of("name", "input-" + i + "." + "x".repeat(240), "sha256", "b".repeat(64)));
        }
        manifest.put("inputs", inputs);
        for (int i = 1; i < OutcomeContract.MAX_MANIFEST_FIELDS; i++) {
            manifest.put("field" + i, "v".repeat(256));
        }
        Map<String, Object> metrics = new LinkedHashMap<>();
        for (int i = 0; i < OutcomeContract.MAX_METRICS; i++) {
            metrics.put("metric" + i, i * 0.5);
        }

        Map<String, Object> fixed = conformed(outcome("artifacts", artifacts, "skippedArtifacts", skipped,
                "manifest", manifest, "metrics", metrics, "fetchSeconds", 12.5, "loss", 0.25,
                "error", Map.of("type", "T".repeat(128), "message", "m".repeat(4096)),
                "logTail", "\u0001".repeat(65_536)));

        // (compared whole, but not printed whole: each is far too long to read in a failure)
        assertThat(artifacts.equals(fixed.get("artifacts"))).as("artifacts kept as they were").isTrue();
        assertThat(skipped.equals(fixed.get("skippedArtifacts"))).as("skipped files kept as they were").isTrue();
        assertThat(manifest.equals(fixed.get("manifest"))).as("manifest kept as it was").isTrue();
    }

    @Test
    void aPruningIsNeverLeftOutToMakeRoom() {
        Map<String, Object> at = Map.of("step", 12L, "value", 0.5);
        // A log tail too big for the Boss: every extra field goes before the tail is cut.
        Map<String, Object> fixed = conformed(outcome("loss", 0.5, "pruned", true, "prunedAt", at, "epochs", 12,
                "logTail", "x".repeat(2_000_000)));
        assertThat(fixed).doesNotContainKey("epochs").containsEntry("pruned", true).containsEntry("prunedAt", at);
    }

    @Test
    void aHugeLogTailIsCutFromItsStartToFit() {
        Map<String, Object> fixed = conformed(outcome("logTail", "é".repeat(400_000) + "the end"));
        assertThat((String) fixed.get("logTail")).endsWith("the end");
    }

    /** Just under 5,000 values before the Worker's notes: the notes must not tip it over. */
    @Test
    void anOutcomeAtTheValueLimitStaysWithinItOnceTheWorkersNotesAreAdded() {
        List<Integer> many = new ArrayList<>();
        for (int i = 0; i < 4994; i++) {
            many.add(i);
        }
        // root, status, jobId, the list and its 4,994 items, val.acc: 4,999; its note and their list make 5,001
        Map<String, Object> fixed = conformed(outcome("items", many, "val.acc", 0.9));
        assertThat(fixed).containsEntry("val%2Eacc", 0.9).containsKey("workerFixes");
    }

    /** Moved to invalidFields, a value sits one level deeper than in its own field. */
    @Test
    void aValueMovedToInvalidFieldsIsCutToTheDepthTheBossAllowsThere() {
        Object deep = "bottom";
        for (int i = 0; i < 30; i++) {
            deep = Map.of("d", deep);
        }
        Map<String, Object> fixed = conformed(outcome("loss", deep, "metrics", Map.of("m", deep)));
        assertThat(map(fixed.get("invalidFields"))).containsKeys("loss", "metrics");
    }

    /** Percent-encoding triples a dot: a 20,001-character key would be 60,001, past Jackson's 50,000. */
    @Test
    void aKeyTooLongOnceEncodedIsCutAndDistinctKeysStayDistinct() {
        String dots = ".".repeat(20_001);
        Map<String, Object> fixed = conformed(outcome(dots, 1, dots + "x", 2, "a".repeat(2000), 3));
        List<String> extras = fixed.keySet().stream().filter(k -> k.length() > 100).toList();
        assertThat(extras).hasSize(3).allSatisfy(k -> assertThat(k.length()).isLessThanOrEqualTo(OutcomeContract.MAX_KEY));
        assertThat(fixed.values()).contains(1, 2, 3);
        assertThat(extras.get(0)).startsWith("%2E%2E").doesNotContain("%2~").matches(".*~[0-9a-f]{8}");
    }

    @Test
    void aThousandRandomHostileOutcomesAllPassTheBossRules() {
        Random random = new Random(12);
        for (int i = 0; i < 1000; i++) {
            Map<String, Object> outcome = new LinkedHashMap<>();
            int fields = random.nextInt(8);
            for (int f = 0; f < fields; f++) {
                outcome.put(randomKey(random), randomValue(random, 0));
            }
            // Not jobId: without a usable jobId or orderId nothing can make the Boss take an outcome.
            String[] known = {"status", "loss", "metric", "metrics", "error", "attempt", "node", "orderId",
                    "metricName", "retryable", "exitCode", "startedAt", "logTail", "assignmentId"};
            for (int f = random.nextInt(6); f > 0; f--) {
                outcome.put(known[random.nextInt(known.length)], randomValue(random, 0));
            }
            outcome.putIfAbsent("status", random.nextBoolean() ? 200 : randomValue(random, 3));
            outcome.putIfAbsent("jobId", "j" + i);
            if (i % 10 == 0) {
                nearTheLimits(random, outcome);
            }
            Map<String, Object> fixed = contract.conform(outcome);
            assertThat(BossCallbackRules.violations(fixed, TestSettings.JSON)).as("case %s: %s", i, outcome).isEmpty();
        }
    }

    /**
     * What the Worker itself could push over a limit: values just under 5,000 with keys it must encode,
     * a known field nested near 32 levels (moved one deeper), keys that encoding makes too long.
     */
    private static void nearTheLimits(Random random, Map<String, Object> outcome) {
        List<Integer> many = new ArrayList<>();
        for (int n = 4960 + random.nextInt(40); n > 0; n--) {
            many.add(n);
        }
        outcome.put(random.nextBoolean() ? "items" : "it.ems", many);
        Object deep = random.nextBoolean() ? "x" : List.of(1);
        for (int d = 27 + random.nextInt(6); d > 0; d--) {
            deep = Map.of(random.nextBoolean() ? "d" : "d.$", deep);
        }
        outcome.put(new String[] {"loss", "metric", "attempt", "error", "node"}[random.nextInt(5)], deep);
        outcome.put(".$%".repeat(5000 + random.nextInt(2000)), random.nextInt(3));
    }

    private static String randomKey(Random random) {
        String[] parts = {"a", ".", "$", "%", "", "\0", "val", "é", "x.y"};
        StringBuilder key = new StringBuilder();
        for (int i = random.nextInt(4); i > 0; i--) {
            key.append(parts[random.nextInt(parts.length)]);
        }
        return key.toString();
    }

    private static Object randomValue(Random random, int depth) {
        return switch (random.nextInt(depth > 35 ? 9 : 11)) {
            case 0 -> random.nextInt(1000) - 500;
            case 1 -> random.nextDouble();
            case 2 -> new double[] {Double.NaN, Double.POSITIVE_INFINITY, Double.NEGATIVE_INFINITY}[random.nextInt(3)];
            case 3 -> BigInteger.TWO.pow(60 + random.nextInt(20));
            case 4 -> "s" + random.nextInt(10);
            case 5 -> random.nextBoolean();
            case 6 -> null;
            case 7 -> Long.MAX_VALUE - random.nextInt(3);
            case 8 -> "x".repeat(random.nextInt(300));
            case 9 -> {
                Map<String, Object> map = new LinkedHashMap<>();
                for (int i = random.nextInt(4); i > 0; i--) {
                    map.put(randomKey(random), randomValue(random, depth + 1 + random.nextInt(10)));
                }
                yield map;
            }
            default -> {
                List<Object> list = new ArrayList<>();
                for (int i = random.nextInt(4); i > 0; i--) {
                    list.add(randomValue(random, depth + 1 + random.nextInt(10)));
                }
                yield list;
            }
        };
    }
}
