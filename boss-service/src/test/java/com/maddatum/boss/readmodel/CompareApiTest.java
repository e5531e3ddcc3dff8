package com.maddatum.boss.readmodel;

import static org.assertj.core.api.Assertions.assertThat;

import com.maddatum.boss.support.BossApiTestBase;
import com.maddatum.testsupport.HttpJson;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;

/** GET /jobs/compare: what differs between jobs and their runs, and their results, side by side. */
class CompareApiTest extends BossApiTestBase {

    private static final String UNKNOWN = "0123456789abcdef01234567";

    /** Runs the job as a heartbeating worker would, reporting this loss and manifest. */
    private void finish(String jobId, double loss, Map<String, Object> manifest) {
        JsonNode order = claim("cmp");
        Map<String, Object> report = new LinkedHashMap<>();
        report.put("status", 200);
        report.put("jobId", jobId);
        report.put("orderId", order.get("_id").asString());
        report.put("attempt", 1);
        report.put("node", "cmp");
        report.put("loss", loss);
        report.put("metric", -loss);
        report.put("metricName", "neg_mean_squared_error");
        report.put("startedAt", "2026-01-01T00:00:00Z");
        report.put("finishedAt", "2026-01-01T00:00:02.500Z");
        report.put("manifest", manifest);
        HttpJson.Reply reply = boss.post("/callback", report);
        assertThat(reply.status()).as(reply.body()).isEqualTo(200);
    }

    private static Map<String, Object> manifest(String torch, Object gpu) {
        Map<String, Object> manifest = new LinkedHashMap<>();
        manifest.put("scriptSha256", "ab".repeat(32));
        manifest.put("python", "3.11.2");
        manifest.put("torch", torch);
        manifest.put("gpu", gpu);
        return manifest;
    }

    @Test
    void showsOnlyTheFieldsThatDifferAndTheResultsOfEveryJob() {
        String a = submit(job("projectName", "cmp", "epochs", 5, "seed", 1,
                "hiddenLayers", List.of(Map.of("activation", "relu", "dropout", 0.2)))).get("jobId").asString();
        finish(a, 2.0, manifest("1.13.0", "cpu"));
        String b = submit(job("projectName", "cmp", "epochs", 5, "seed", 1, "optimizer", "adam",
                "hiddenLayers", List.of(Map.of("activation", "relu", "dropout", 0.3)))).get("jobId").asString();
        finish(b, 3.0, manifest("2.4.0", Map.of("model", "NVIDIA H200", "uuid", "GPU-9")));
        String c = submit(job("projectName", "cmp", "epochs", 5, "seed", 1,
                "hiddenLayers", List.of(Map.of("activation", "relu", "dropout", 0.2)))).get("jobId").asString();

        HttpJson.Reply reply = boss.get("/jobs/compare?ids=" + a + "," + b + "," + c);
        assertThat(reply.status()).as(reply.body()).isEqualTo(200);
        JsonNode cmp = reply.json();
        assertThat(cmp.get("ids")).extracting(JsonNode::asString).containsExactly(a, b, c);

        JsonNode job = cmp.get("job");
        assertThat(job.propertyNames()).containsExactlyInAnyOrder("optimizer", "hiddenLayers.0.dropout");
        assertThat(job.get("optimizer").get(0).isNull()).isTrue();
        assertThat(job.get("optimizer").get(1).asString()).isEqualTo("adam");
        assertThat(job.get("hiddenLayers.0.dropout")).extracting(JsonNode::asDouble).containsExactly(0.2, 0.3, 0.2);
        assertThat(cmp.get("same").get("job")).extracting(JsonNode::asString)
                .contains("scriptName", "projectName", "epochs", "seed", "seedSource", "hiddenLayers.0.activation")
                .doesNotContain("_id", "optimizer");

        JsonNode manifest = cmp.get("manifest");
        assertThat(manifest.propertyNames()).contains("torch", "gpu", "gpu.model", "gpu.uuid");
        assertThat(manifest.get("torch")).extracting(n -> n.isNull() ? null : n.asString())
                .containsExactly("1.13.0", "2.4.0", null);
        // Equal in the two runs, but the third job has not run: no manifest is not the same manifest.
        assertThat(manifest.has("python")).isTrue();
        assertThat(cmp.get("same").get("manifest")).isEmpty();

        JsonNode metrics = cmp.get("metrics");
        assertThat(metrics.get("loss").get(0).asDouble()).isEqualTo(2.0);
        assertThat(metrics.get("loss").get(1).asDouble()).isEqualTo(3.0);
        assertThat(metrics.get("loss").get(2).isNull()).isTrue();
        assertThat(metrics.get("metricName").get(0).asString()).isEqualTo("neg_mean_squared_error");
        assertThat(metrics.get("durationSeconds").get(0).asDouble()).isEqualTo(2.5);
        assertThat(metrics.get("status")).extracting(JsonNode::asString).containsExactly("done", "done", "unassigned");
    }

    @Test
    void twoRunsOfTheSameJobDifferOnlyWhereTheirRunsDid() {
        String a = submit(job("seed", 3)).get("jobId").asString();
        finish(a, 1.0, manifest("1.13.0", "cpu"));
        String b = boss.post("/jobs/" + a + "/rerun", Map.of()).json().get("jobId").asString();
        finish(b, 1.0, manifest("1.13.0", "cpu"));

        JsonNode cmp = boss.get("/jobs/compare?ids=" + a + "," + b).json();
        // rerunOf and reruns say where a job came from, not what it ran.
        assertThat(cmp.get("job").isEmpty()).as(cmp.toString()).isTrue();
        assertThat(cmp.get("manifest").isEmpty()).as(cmp.toString()).isTrue();
        assertThat(cmp.get("same").get("manifest")).extracting(JsonNode::asString)
                .contains("scriptSha256", "torch", "gpu", "seed", "seedSource");
        assertThat(cmp.get("metrics").get("loss")).extracting(JsonNode::asDouble).containsExactly(1.0, 1.0);
    }

    @Test
    void fewerThanTwoOrMoreThanTenIdsAre400AndAMissingJobIs404NamingIt() {
        String a = submit(job()).get("jobId").asString();
        String b = submit(job()).get("jobId").asString();
        for (String query : List.of("", "?ids=", "?ids=" + a, "?ids=" + a + ",", "?ids=" + String.join(",",
                java.util.Collections.nCopies(11, a)))) {
            HttpJson.Reply reply = boss.get("/jobs/compare" + query);
            assertThat(reply.status()).as(query).isEqualTo(400);
            assertThat(reply.json().get("field").asString()).isEqualTo("ids");
        }
        HttpJson.Reply missing = boss.get("/jobs/compare?ids=" + a + "," + UNKNOWN + "," + b);
        assertThat(missing.status()).isEqualTo(404);
        assertThat(missing.json().get("detail").asString()).contains(UNKNOWN);
        HttpJson.Reply malformed = boss.get("/jobs/compare?ids=" + a + ",nope");
        assertThat(malformed.status()).isEqualTo(404);
        assertThat(malformed.json().get("detail").asString()).contains("nope");
        assertThat(boss.get("/jobs/compare?ids=" + a + "," + b).status()).isEqualTo(200);
    }
}
