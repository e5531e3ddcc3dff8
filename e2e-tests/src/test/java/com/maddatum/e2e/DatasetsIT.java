package com.maddatum.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import com.maddatum.testsupport.HttpJson;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.JsonNode;

/**
 * The README's path for a team without shared disks, through the packaged jars and curl: upload a CSV
 * once, train the seed's job on a Worker whose data folder does not have the file, take the model
 * away, and predict with it.
 */
class DatasetsIT {

    private static final Duration A_WHILE = Duration.ofMinutes(3);
    private static final Set<String> ENDED = Set.of("done", "failed", "cancelled");

    @TempDir
    Path dir;

    @Test
    void aCsvUploadedOnceTrainsOnAWorkerWithoutTheFileAndItsModelPredicts() throws Exception {
        Path wine = Path.of(System.getProperty("scripts.dir"), "data", "wine_data.csv");
        long rows = Files.readAllLines(wine).stream().filter(line -> !line.isBlank()).count() - 1;
        try (SystemUnderTest system = new SystemUnderTest(dir).startBoss(Map.of())) {
            // The Worker has the scripts and nothing else: no data folder anywhere it or a script would look.
            Path scripts = Files.createDirectories(dir.resolve("scripts-only"));
            try (var files = Files.list(Path.of(System.getProperty("scripts.dir")))) {
                for (Path script : files.filter(f -> f.toString().endsWith(".py")).toList()) {
                    Files.copy(script, scripts.resolve(script.getFileName()));
                }
            }
            Path noData = Files.createDirectories(dir.resolve("no-data"));
            system.startWorker("d1", Map.of("WORKER_DATA_DIR", noData.toString(), "WORKER_SCRIPTS_DIR", scripts.toString()));
            String boss = system.bossProcess.url();

            JsonNode uploaded = HttpJson.MAPPER.readTree(curl("-sS", "--fail-with-body", "-F", "file=@" + wine,
                    boss + "/datasets?name=wine_data.csv"));
            assertThat(uploaded.get("sha256").asString()).as(uploaded.toString()).isEqualTo(sha256(wine));
            assertThat(uploaded.get("version").asInt()).isEqualTo(1);
            assertThat(uploaded.get("rows").asLong()).isEqualTo(rows);
            assertThat(uploaded.get("columns")).extracting(JsonNode::asString).contains("proline");
            JsonNode again = HttpJson.MAPPER.readTree(curl("-sS", "--fail-with-body", "--data-binary", "@" + wine,
                    "-H", "Content-Type: application/octet-stream", boss + "/datasets?name=wine_data.csv"));
            assertThat(again.get("version").asInt()).as("the same bytes are not a new version").isEqualTo(1);

            Map<String, Object> job = wineJob();
            job.put("crossValidateOnly", false);
            String trainId = system.submit(job);
            JsonNode trained = awaitDone(system.boss, trainId);
            assertThat(trained.get("job").get("dataSha256").asString()).isEqualTo(sha256(wine));
            assertThat(trained.get("outcome").has("fetchSeconds")).as(trained.toString()).isTrue();

            // The Boss attaches an outcome's artifacts just after the order turns done (OutcomeService), so a
            // reader woken by "done" can list them half attached: a known race, in the stop note for the next
            // change. The listing is awaited here; what is asserted of it is unchanged.
            system.boss.await("/jobs/" + trainId + "/artifacts",
                    listing -> (listing.isArray() ? listing : listing.path("artifacts")).size() >= 3, A_WHILE);
            Map<String, JsonNode> artifacts = artifacts(system.boss, trainId);
            assertThat(artifacts).containsKeys("model.pt", "model.json", "curve.csv");
            Path model = dir.resolve("model.pt");
            curl("-sS", "--fail", "-o", model.toString(), boss + "/jobs/" + trainId + "/artifacts/model.pt");
            assertThat(sha256(model)).isEqualTo(artifacts.get("model.pt").get("sha256").asString());
            assertThat(Files.size(model)).isEqualTo(artifacts.get("model.pt").get("size").asLong());

            Map<String, Object> predict = new LinkedHashMap<>();
            predict.put("scriptName", "predict.py");
            predict.put("dataFileName", "wine_data.csv");
            predict.put("projectName", "datasets-e2e");
            predict.put("model", Map.of("jobId", trainId));
            String predictId = system.submit(predict);
            awaitDone(system.boss, predictId);
            Path predictions = dir.resolve("predictions.csv");
            curl("-sS", "--fail", "-o", predictions.toString(), boss + "/jobs/" + predictId + "/artifacts/predictions.csv");
            List<String> lines = Files.readAllLines(predictions).stream().filter(line -> !line.isBlank()).toList();
            assertThat(lines).as("a header and one prediction per row").hasSize((int) rows + 1);
        }
    }

    /** The seed's wine job, cut to a few seconds of training. */
    @SuppressWarnings("unchecked")
    private static Map<String, Object> wineJob() throws Exception {
        Map<String, Object> job = HttpJson.MAPPER.readValue(
                Files.readString(Path.of(System.getProperty("examples.dir"), "wine_seed_job.json")), LinkedHashMap.class);
        job.put("epochs", 30);
        job.put("cvFolds", 2);
        job.put("projectName", "datasets-e2e");
        return job;
    }

    private static JsonNode awaitDone(HttpJson boss, String jobId) throws InterruptedException {
        JsonNode detail = boss.await("/jobs/" + jobId, d -> ENDED.contains(d.path("order").path("status").asString())
                && d.has("outcome"), A_WHILE);
        assertThat(detail.path("order").path("status").asString()).as("job %s: %s", jobId, detail).isEqualTo("done");
        return detail;
    }

    private static Map<String, JsonNode> artifacts(HttpJson boss, String jobId) {
        JsonNode listing = boss.get("/jobs/" + jobId + "/artifacts").json();
        JsonNode list = listing.isArray() ? listing : listing.get("artifacts");
        Map<String, JsonNode> byName = new LinkedHashMap<>();
        list.forEach(artifact -> byName.put(artifact.get("name").asString(), artifact));
        return byName;
    }

    /** curl as the README uses it; its stdout. */
    private static String curl(String... arguments) throws Exception {
        List<String> command = new ArrayList<>(List.of("curl"));
        command.addAll(List.of(arguments));
        Process process = new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.INHERIT).start();
        String out = new String(process.getInputStream().readAllBytes());
        assertThat(process.waitFor()).as("%s: %s", command, out).isZero();
        return out;
    }

    private static String sha256(Path file) throws Exception {
        MessageDigest digest = MessageDigest.getInstance("SHA-256");
        try (var in = Files.newInputStream(file)) {
            byte[] buffer = new byte[1 << 16];
            for (int n; (n = in.read(buffer)) > 0; ) {
                digest.update(buffer, 0, n);
            }
        }
        return HexFormat.of().formatHex(digest.digest());
    }
}
