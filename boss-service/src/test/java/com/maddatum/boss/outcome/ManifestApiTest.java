package com.maddatum.boss.outcome;

import static org.assertj.core.api.Assertions.assertThat;

import com.maddatum.boss.support.BossApiTestBase;
import com.maddatum.testsupport.HttpJson;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;

/** The run manifest a worker sends travels with the outcome, and the Boss fills in only the seed. */
class ManifestApiTest extends BossApiTestBase {

    private Map<String, Object> report(String jobId, JsonNode order, Object manifest) {
        Map<String, Object> report = new LinkedHashMap<>();
        report.put("status", 200);
        report.put("jobId", jobId);
        report.put("orderId", order.get("_id").asString());
        report.put("attempt", 1);
        report.put("node", "m1");
        report.put("loss", 0.5);
        report.put("manifest", manifest);
        return report;
    }

    private static Map<String, Object> manifest() {
        Map<String, Object> manifest = new LinkedHashMap<>();
        manifest.put("scriptSha256", "ab".repeat(32));
        manifest.put("python", "3.11.2");
        manifest.put("torch", "1.13.0");
        manifest.put("cuda", null);
        manifest.put("gpu", Map.of("model", "NVIDIA H200", "uuid", "GPU-1234"));
        manifest.put("seed", 99);
        manifest.put("seedSource", "job");
        return manifest;
    }

    @Test
    void theWorkersManifestIsStoredBesideTheOutcomeNotAmongTheScriptsExtras() {
        String jobId = submit(job("seed", 5)).get("jobId").asString();
        JsonNode order = claim("m1");
        HttpJson.Reply reply = boss.post("/callback", report(jobId, order, manifest()));
        assertThat(reply.status()).as(reply.body()).isEqualTo(200);

        JsonNode outcome = boss.get("/retrieve/outcome/" + jobId).json();
        JsonNode manifest = outcome.get("manifest");
        assertThat(manifest.get("scriptSha256").asString()).isEqualTo("ab".repeat(32));
        assertThat(manifest.get("gpu").get("uuid").asString()).isEqualTo("GPU-1234");
        // What the worker recorded stands: the Boss fills in a seed only where the worker gave none.
        assertThat(manifest.get("seed").asInt()).isEqualTo(99);
        assertThat(outcome.has("details")).isFalse();
        JsonNode inDetail = boss.get("/jobs/" + jobId).json().get("outcome").get("manifest");
        assertThat(inDetail.get("scriptSha256")).isEqualTo(manifest.get("scriptSha256"));
        assertThat(inDetail.get("gpu")).isEqualTo(manifest.get("gpu"));
    }

    @Test
    void aManifestWithoutASeedGetsTheJobsSeedAndItsSource() {
        JsonNode created = submit(job());
        String jobId = created.get("jobId").asString();
        long seed = boss.get("/retrieve/job/" + jobId).json().get("seed").asLong();
        JsonNode order = claim("m1");
        Map<String, Object> manifest = manifest();
        manifest.remove("seed");
        manifest.remove("seedSource");
        assertThat(boss.post("/callback", report(jobId, order, manifest)).status()).isEqualTo(200);

        JsonNode stored = boss.get("/retrieve/outcome/" + jobId).json().get("manifest");
        assertThat(stored.get("seed").asLong()).isEqualTo(seed);
        assertThat(stored.get("seedSource").asString()).isEqualTo("boss");
        assertThat(stored.get("python").asString()).isEqualTo("3.11.2");
    }

    @Test
    void aManifestThatIsNotAnObjectOrHasTooManyFieldsIsRefusedAndNothingIsStored() {
        String jobId = submit(job()).get("jobId").asString();
        JsonNode order = claim("m1");
        Map<String, Object> huge = new LinkedHashMap<>();
        IntStream.range(0, 65).forEach(i -> huge.put("f" + i, i));
        for (Object bad : new Object[] {"sha", 12, java.util.List.of(1), huge}) {
            long before = count("outcomes");
            HttpJson.Reply reply = boss.post("/callback", report(jobId, order, bad));
            assertThat(reply.status()).as(reply.body()).isEqualTo(400);
            assertThat(reply.json().get("field").asString()).isEqualTo("manifest");
            assertThat(count("outcomes")).isEqualTo(before);
        }
        assertThat(boss.get("/jobs/" + jobId).json().get("order").get("status").asString()).isEqualTo("assigned");
    }
}
