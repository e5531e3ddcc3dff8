package com.maddatum.boss.web;

import static org.assertj.core.api.Assertions.assertThat;

import com.maddatum.boss.support.BossApiTestBase;
import com.maddatum.testsupport.HttpJson;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import tools.jackson.databind.JsonNode;

/**
 * A seeded storm of random and mutated JSON against every write endpoint: truncations, type swaps,
 * huge numbers, deep nesting, unicode, control characters, raw bytes. Nothing may get a 5xx, and the
 * Boss must still run a normal job afterwards. The seed is fixed, so a failure reproduces.
 */
class RandomInputTest extends BossApiTestBase {

    private static final int BODIES = 1000;
    private static final String ID = "0123456789abcdef01234567";

    private static final Map<String, String> SEEDS = Map.of(
            "/job/create", "{\"scriptName\":\"noop.py\",\"projectName\":\"fuzz\",\"epochs\":3,\"priority\":1,"
                    + "\"hiddenLayers\":[{\"activation\":\"relu\",\"widthModifier\":2.3,\"dropout\":0.2}],"
                    + "\"requiredLabels\":[],\"maxAttempts\":2}",
            "/callback", "{\"status\":200,\"jobId\":\"" + ID + "\",\"loss\":1.5,\"metric\":2.5,\"attempt\":1,"
                    + "\"node\":\"n\",\"metrics\":{\"r2\":0.5},\"error\":{\"type\":\"x\",\"message\":\"y\"},\"logTail\":\"z\"}",
            "/orders/" + ID + "/heartbeat", "{\"node\":\"fuzz-node\",\"attempt\":1,\"progress\":{\"epoch\":3}}",
            "/worker-node/create", "{\"name\":\"fuzz-node\",\"labels\":[\"gpu\"],\"slots\":2,\"host\":\"h\","
                    + "\"gpus\":[{\"index\":0,\"model\":\"H100\",\"memoryMb\":81559}],\"scripts\":[\"nn.py\"]}");

    @ParameterizedTest
    @ValueSource(strings = {"/job/create", "/callback", "/orders/" + ID + "/heartbeat", "/worker-node/create"})
    void noRandomBodyGetsAServerError(String path) {
        Random random = new Random(path.hashCode());
        String seed = SEEDS.get(path);
        List<String> failures = new ArrayList<>();
        for (int i = 0; i < BODIES; i++) {
            String body = mutate(seed, random);
            HttpJson.Reply reply = boss.request("POST", path, "application/json", body);
            if (reply.status() >= 500) {
                failures.add(reply.status() + " for " + abbreviate(body) + " -> " + abbreviate(reply.body()));
            }
        }
        assertThat(failures).isEmpty();

        // And the Boss still does its job (the fuzzed jobs that were valid are cleared away first).
        cancelLiveOrders();
        assertThat(boss.get("/actuator/health").json().get("status").asString()).isEqualTo("UP");
        String jobId = submit(job("projectName", "after-fuzz")).get("jobId").asString();
        JsonNode order = seedClaim("after-fuzz-node");
        assertThat(order.get("jobId").asString()).isEqualTo(jobId);
        assertThat(boss.post("/callback", Map.of("status", 200, "jobId", jobId, "loss", 1.0)).status()).isEqualTo(200);
        assertThat(boss.get("/jobs/" + jobId).json().get("order").get("status").asString()).isEqualTo("done");
    }

    private static String mutate(String seed, Random random) {
        return switch (random.nextInt(12)) {
            case 0 -> seed.substring(0, random.nextInt(seed.length()));                      // truncated
            case 1 -> swapAValue(seed, random);                                              // type swap
            case 2 -> seed.replaceFirst("\\d+(\\.\\d+)?", hugeNumber(random));               // huge number
            case 3 -> nest(random.nextInt(3000) + 1, random.nextBoolean());                  // deep nesting
            case 4 -> insertAt(seed, random, "\"" + unicode(random, 40) + "\":\"" + unicode(random, 200) + "\",");
            case 5 -> insertAt(seed, random, String.valueOf((char) random.nextInt(32)));     // control character
            case 6 -> new String(bytes(random, random.nextInt(300)), java.nio.charset.StandardCharsets.ISO_8859_1);
            case 7 -> seed.replace("{", "[").replace("}", "]");                              // wrong shape
            case 8 -> seed.replaceFirst(":", ":" + seed + ",\"dup\":");                         // self-embedding
            case 9 -> random.nextBoolean() ? "null" : random.nextBoolean() ? "" : " \t\n ";
            case 10 -> seed.replace("\"", random.nextBoolean() ? "'" : "\\\"");              // broken quoting
            default -> insertAt(seed, random, ",\"" + (random.nextBoolean() ? "$where" : "a.b") + "\":1");
        };
    }

    private static String swapAValue(String seed, Random random) {
        String[] replacements = {"null", "true", "[]", "{}", "\"text\"", "-0", "1e308", "[[[]]]", "\"\\u0000\""};
        String replacement = replacements[random.nextInt(replacements.length)];
        return seed.replaceFirst(":(\"[^\"]*\"|-?\\d+(\\.\\d+)?|true|false|null)", ":" + replacement);
    }

    private static String hugeNumber(Random random) {
        return switch (random.nextInt(4)) {
            case 0 -> "9".repeat(random.nextInt(5000) + 20);
            case 1 -> "1e" + (random.nextInt(100000) + 309);
            case 2 -> "-" + "9".repeat(30) + "." + "9".repeat(30);
            default -> "0." + "0".repeat(400) + "1";
        };
    }

    private static String nest(int depth, boolean arrays) {
        String open = arrays ? "[" : "{\"a\":";
        String close = arrays ? "]" : "}";
        return "{\"scriptName\":\"noop.py\",\"deep\":" + open.repeat(depth) + "1" + close.repeat(depth) + "}";
    }

    private static String unicode(Random random, int length) {
        StringBuilder text = new StringBuilder();
        for (int i = 0; i < length; i++) {
            int kind = random.nextInt(5);
            int codePoint = switch (kind) {
                case 0 -> 0x1F600 + random.nextInt(80);   // emoji
                case 1 -> 0x0590 + random.nextInt(0x100); // right-to-left scripts
                case 2 -> 0x4E00 + random.nextInt(0x5000);
                case 3 -> 0x202A + random.nextInt(5);     // bidi controls
                default -> 0x20 + random.nextInt(0x60);
            };
            text.appendCodePoint(codePoint);
        }
        return text.toString().replace("\"", "'").replace("\\", "/");
    }

    private static byte[] bytes(Random random, int length) {
        byte[] bytes = new byte[length];
        random.nextBytes(bytes);
        return bytes;
    }

    private static String insertAt(String seed, Random random, String insert) {
        int at = random.nextInt(seed.length() + 1);
        return seed.substring(0, at) + insert + seed.substring(at);
    }

    private static String abbreviate(String text) {
        return text.length() > 200 ? text.substring(0, 200) + "..." : text;
    }
}
