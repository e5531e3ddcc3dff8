package com.maddatum.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import com.maddatum.testsupport.HttpJson;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.JsonNode;

/**
 * What exactly ran, and running it again: the real nn.py through the packaged Boss and Worker, its run
 * manifest recorded without the script's help, and a rerun that gives the same loss with the same seed.
 */
class RunManifestIT {

    private static final Duration A_WHILE = Duration.ofMinutes(3);
    private static final Set<String> ENDED = Set.of("done", "failed", "cancelled");

    @TempDir
    Path dir;

    private static String sha256(Path file) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(file)));
    }

    /** The seed's wine job, cut to a few seconds of training, without a seed: the Boss chooses it. */
    @SuppressWarnings("unchecked")
    private static Map<String, Object> shortWineJob() throws Exception {
        Map<String, Object> job = HttpJson.MAPPER.readValue(
                Files.readString(Path.of(System.getProperty("examples.dir"), "wine_seed_job.json")), LinkedHashMap.class);
        job.put("epochs", 30);
        job.put("cvFolds", 2);
        job.put("projectName", "manifest-e2e");
        job.remove("seed");
        return job;
    }

    private static JsonNode awaitEnded(HttpJson boss, String jobId) throws InterruptedException {
        JsonNode detail = boss.await("/jobs/" + jobId, d -> ENDED.contains(d.path("order").path("status").asString())
                && d.has("outcome"), A_WHILE);
        assertThat(detail.path("order").path("status").asString()).as("job %s: %s", jobId, detail).isEqualTo("done");
        return detail;
    }

    @Test
    void nnPyRecordsWhatRanAndARerunWithTheSameSeedGivesTheSameLoss() throws Exception {
        Path scripts = Path.of(System.getProperty("scripts.dir"));
        try (SystemUnderTest system = new SystemUnderTest(dir).startBoss(Map.of())) {
            system.startWorker("m1", Map.of());
            String jobId = system.submit(shortWineJob());
            JsonNode first = awaitEnded(system.boss, jobId);
            long seed = first.get("job").get("seed").asLong();
            assertThat(first.get("job").get("seedSource").asString()).isEqualTo("boss");

            JsonNode manifest = first.get("outcome").get("manifest");
            assertThat(manifest.get("scriptSha256").asString()).isEqualTo(sha256(scripts.resolve("nn.py")));
            // The helpers nn.py imports (jobcontract.py, tabular.py) are covered by the folder's hash.
            assertThat(manifest.get("scriptsSha256").asString()).matches("[0-9a-f]{64}");
            assertThat(manifest.get("dataSha256").asString()).isEqualTo(sha256(scripts.resolve("data/wine_data.csv")));
            assertThat(manifest.get("dataFile").asString()).isEqualTo("wine_data.csv");
            assertThat(manifest.get("python").asString()).matches("3\\.\\d+\\.\\d+.*");
            assertThat(manifest.get("torch").asString()).isNotBlank();
            assertThat(manifest.get("numpy").asString()).isNotBlank();
            assertThat(manifest.get("sklearn").asString()).isNotBlank();
            boolean noGpu = system.boss.get("/workers").json().get(0).get("gpus").isEmpty();
            if (noGpu) {
                assertThat(manifest.get("gpu").asString()).isEqualTo("cpu");
            } else {
                assertThat(manifest.get("gpu").get("uuid").asString()).startsWith("GPU-");
            }
            assertThat(manifest.get("worker").asString()).isEqualTo("m1");
            assertThat(manifest.get("workerVersion").asString()).isNotBlank().isNotEqualTo("dev");
            assertThat(manifest.get("host").asString()).isNotBlank();
            assertThat(manifest.get("seed").asLong()).isEqualTo(seed);
            assertThat(manifest.get("seedSource").asString()).isEqualTo("boss");

            HttpJson.Reply rerun = system.boss.post("/jobs/" + jobId + "/rerun", Map.of());
            assertThat(rerun.status()).as(rerun.body()).isEqualTo(201);
            String againId = rerun.json().get("jobId").asString();
            JsonNode again = awaitEnded(system.boss, againId);
            assertThat(again.get("job").get("rerunOf").asString()).isEqualTo(jobId);
            assertThat(again.get("outcome").get("manifest").get("seed").asLong()).isEqualTo(seed);
            assertThat(again.get("outcome").get("loss").asDouble())
                    .as("the same job, seed, data and machine").isEqualTo(first.get("outcome").get("loss").asDouble());
            assertThat(system.boss.get("/retrieve/job/" + jobId).json().get("reruns"))
                    .extracting(JsonNode::asString).containsExactly(againId);

            JsonNode compare = system.boss.get("/jobs/compare?ids=" + jobId + "," + againId).json();
            assertThat(compare.get("job").isEmpty()).as(compare.toString()).isTrue();
            assertThat(compare.get("manifest").isEmpty()).as(compare.toString()).isTrue();
            assertThat(compare.get("metrics").get("loss").get(0)).isEqualTo(compare.get("metrics").get("loss").get(1));
        }
    }
}
