package com.maddatum.worker.poll;

import static com.maddatum.worker.poll.ScriptedBoss.json;
import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import com.maddatum.worker.artifact.ArtifactUploader;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import mockwebserver3.MockResponse;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.JsonNode;

/**
 * A Boss order's data and inputs come from the Boss through the cache, and what its script leaves in
 * {@code OUTPUT_DIR} goes back to the Boss before the outcome that names it: with the real fixture script
 * {@code data_and_outputs.py}, against a scripted Boss.
 */
class DataAndArtifactsTest {

    private static final Duration A_WHILE = Duration.ofSeconds(30);
    private static final byte[] WINE = "alcohol,quality\n9.4,5\n".getBytes(StandardCharsets.UTF_8);
    private static final byte[] MODEL = "weights".getBytes(StandardCharsets.UTF_8);

    @TempDir
    Path root;

    static String sha256(byte[] bytes) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
    }

    private static String job(String extra) {
        return "{\"scriptName\":\"data_and_outputs.py\"" + (extra.isEmpty() ? "" : "," + extra) + "}";
    }

    private static Map<String, JsonNode> byName(JsonNode list) {
        Map<String, JsonNode> named = new TreeMap<>();
        list.forEach(entry -> named.put(entry.get("name").asString(), entry));
        return named;
    }

    @Test
    void aDatasetJobReadsTheCachedBlobAndItsFilesAreUploadedBeforeTheOutcome() throws Exception {
        try (WorkerHarness worker = new WorkerHarness(root, 1, Duration.ofMillis(200))) {
            String wine = sha256(WINE);
            String model = sha256(MODEL);
            worker.boss.blobs.put(wine, WINE);
            worker.boss.blobs.put(model, MODEL);
            worker.boss.order(1, job("\"dataFileName\":\"wine.csv\",\"dataSha256\":\"" + wine + "\","
                    + "\"inputs\":[{\"name\":\"model.pt\",\"sha256\":\"" + model + "\",\"size\":" + MODEL.length + "}],"
                    + "\"write\":{\"model.pt\":\"trained\",\"plots/curve.png\":\"not really a png\"},\"linkOut\":true"));
            worker.start();

            JsonNode outcome = worker.boss.callback(A_WHILE);
            assertThat(outcome.get("status").asInt()).as(outcome.toString()).isEqualTo(200);
            JsonNode seen = outcome.get("seen");
            assertThat(seen.get("data").asString()).isEqualTo(new String(WINE, StandardCharsets.UTF_8));
            assertThat(seen.get("viaDataDir").asString()).isEqualTo(new String(WINE, StandardCharsets.UTF_8));
            assertThat(seen.get("dataDir").asString()).isNotEqualTo(worker.settings.dataDir().toString());
            assertThat(seen.get("dataFile").asString()).isEqualTo(seen.get("dataDir").asString() + "/wine.csv");
            // (the key as the outcome carries it: dots in keys are percent-encoded for the Boss's store)
            assertThat(seen.get("inputs").get("model%2Ept").asString()).isEqualTo("weights");
            assertThat(outcome.get("fetchSeconds").isNumber()).isTrue();
            assertThat(outcome.get("manifest").get("dataSha256").asString()).isEqualTo(wine);

            Map<String, JsonNode> artifacts = byName(outcome.get("artifacts"));
            assertThat(artifacts).containsOnlyKeys("model.pt", "plots/curve.png"); // no job.json, no logs
            byte[] trained = "trained".getBytes(StandardCharsets.UTF_8);
            assertThat(artifacts.get("model.pt").get("sha256").asString()).isEqualTo(sha256(trained));
            assertThat(artifacts.get("model.pt").get("size").asLong()).isEqualTo(trained.length);
            assertThat(artifacts.get("plots/curve.png").get("contentType").asString()).isEqualTo("image/png");
            assertThat(worker.boss.blobs.get(sha256(trained))).isEqualTo(trained);
            assertThat(byName(outcome.get("skippedArtifacts")).get("escape").get("reason").asString())
                    .contains("symbolic link");
            // A script cannot claim artifacts the Worker did not upload: its own list is kept aside.
            assertThat(outcome.get("scriptArtifacts").get(0).get("name").asString()).isEqualTo("forged.pt");

            List<String> order = new ArrayList<>(worker.boss.requests);
            int lastUpload = order.lastIndexOf(order.stream().filter(r -> r.startsWith("/blobs?")).reduce((a, b) -> b)
                    .orElseThrow());
            assertThat(lastUpload).isLessThan(order.indexOf("/callback"));
            // The run's own data directory is gone with the run; the blobs stay cached.
            assertThat(Path.of(seen.get("dataDir").asString())).doesNotExist();
            assertThat(worker.cache.contains(wine)).isTrue();
        }
    }

    @Test
    void aSecondJobOnTheSameDataDoesNotDownloadItAgain() throws Exception {
        try (WorkerHarness worker = new WorkerHarness(root, 1, Duration.ofMillis(200))) {
            String wine = sha256(WINE);
            worker.boss.blobs.put(wine, WINE);
            worker.boss.order(1, job("\"dataFileName\":\"wine.csv\",\"dataSha256\":\"" + wine + "\""));
            worker.boss.order(2, job("\"dataFileName\":\"wine.csv\",\"dataSha256\":\"" + wine + "\""));
            worker.start();

            for (int i = 0; i < 2; i++) {
                JsonNode outcome = worker.boss.callback(A_WHILE);
                assertThat(outcome.get("status").asInt()).isEqualTo(200);
                assertThat(outcome.get("seen").get("data").asString()).isEqualTo(new String(WINE, StandardCharsets.UTF_8));
            }
            assertThat(worker.boss.requests.stream().filter(r -> r.equals("/blobs/" + wine)).count()).isEqualTo(1);
            assertThat(worker.meters.get("worker.cache.lookups").tag("result", "hit").counter().count()).isEqualTo(1);
        }
    }

    @Test
    void aDatasetTheBossDoesNotHaveFailsTheJobWithA404NamingTheHash() throws Exception {
        try (WorkerHarness worker = new WorkerHarness(root, 1, Duration.ofMillis(200))) {
            String missing = sha256("gone".getBytes(StandardCharsets.UTF_8));
            worker.boss.order(1, job("\"dataFileName\":\"wine.csv\",\"dataSha256\":\"" + missing + "\""));
            worker.start();

            JsonNode outcome = worker.boss.callback(A_WHILE);
            assertThat(outcome.get("status").asInt()).isEqualTo(404);
            assertThat(outcome.get("error").get("type").asString()).isEqualTo("DataNotFound");
            assertThat(outcome.get("error").get("message").asString()).contains(missing);
            assertThat(outcome.has("retryable")).isFalse();
            assertThat(outcome.get("fetchSeconds").isNumber()).isTrue();
        }
    }

    @Test
    void aJobCancelledWhileItsDataDownloadsEndsBeforeItsScriptStarts() throws Exception {
        try (WorkerHarness worker = new WorkerHarness(root, 1, Duration.ofMillis(100))) {
            byte[] big = new byte[4 << 20];
            String sha = sha256(big);
            // 16 KiB every 100 ms: minutes for the whole blob, so the cancellation meets the download.
            worker.boss.blobDownload = request -> new MockResponse.Builder().code(200).body(new okio.Buffer().write(big))
                    .throttleBody(16 * 1024, 100, java.util.concurrent.TimeUnit.MILLISECONDS).build();
            worker.boss.heartbeat = (order, n) -> json("{\"cancelRequested\":" + (n >= 2) + "}");
            worker.boss.order(1, job("\"dataFileName\":\"big.bin\",\"dataSha256\":\"" + sha + "\""));
            worker.start();

            JsonNode outcome = worker.boss.callback(A_WHILE);
            assertThat(outcome.get("status").asInt()).isEqualTo(499);
            assertThat(outcome.get("error").get("message").asString()).contains("before its script started");
            assertThat(outcome.get("fetchSeconds").isNumber()).isTrue();
            assertThat(worker.cache.contains(sha)).isFalse();
        }
    }

    @Test
    void filesTheBossCannotTakeAreListedAsSkippedAndTheOutcomeStillGoes() throws Exception {
        try (WorkerHarness worker = new WorkerHarness(root, 1, Duration.ofMillis(200))) {
            worker.boss.blobUpload = request -> new MockResponse.Builder().code(503).body("down").build();
            worker.boss.order(1, job("\"write\":{\"model.pt\":\"m\",\"curve.csv\":\"c\"}"));
            worker.start();

            JsonNode outcome = worker.boss.callback(A_WHILE);
            assertThat(outcome.get("status").asInt()).isEqualTo(200);
            assertThat(outcome.has("artifacts")).isFalse();
            Map<String, JsonNode> skipped = byName(outcome.get("skippedArtifacts"));
            assertThat(skipped).containsOnlyKeys("model.pt", "curve.csv");
            // Tried again for worker.artifacts.retry-for (1 s in tests), then the other file once: the Boss answers.
            assertThat(skipped.get("model.pt").get("reason").asString()).contains("kept failing for 1 s")
                    .contains("HTTP 503");
            assertThat(skipped.get("curve.csv").get("reason").asString()).contains("kept failing");
            assertThat(worker.boss.requests.stream().filter(r -> r.startsWith("/blobs?")).count()).isGreaterThan(3);
            assertThat(outcome.has("fetchSeconds")).as("nothing to fetch, nothing said").isFalse();
        }
    }

    @Test
    void heartbeatsKeepTheLeaseWhileAnUploadWaitsForABossThatRestarts() throws Exception {
        try (WorkerHarness worker = new WorkerHarness(root, 1, Duration.ofMillis(100))) {
            String order = ScriptedBoss.orderId(1);
            long[] beatsAtFirstUpload = {-1};
            // The Boss is restarting: its blob store fails until the order has sent three more heartbeats.
            worker.boss.blobUpload = request -> {
                if (beatsAtFirstUpload[0] < 0) {
                    beatsAtFirstUpload[0] = worker.boss.beatsOf(order);
                }
                return worker.boss.beatsOf(order) < beatsAtFirstUpload[0] + 3
                        ? new MockResponse.Builder().code(503).body("restarting").build() : stored(request, worker);
            };
            worker.boss.order(1, job("\"write\":{\"model.pt\":\"m\"}"));
            worker.start();

            JsonNode outcome = worker.boss.callback(A_WHILE);
            assertThat(outcome.get("status").asInt()).isEqualTo(200);
            assertThat(byName(outcome.get("artifacts"))).containsOnlyKeys("model.pt");
            assertThat(worker.boss.beatsOf(order)).isGreaterThanOrEqualTo(beatsAtFirstUpload[0] + 3);
        }
    }

    private static MockResponse stored(mockwebserver3.RecordedRequest request, WorkerHarness worker) {
        String sha = request.getUrl().queryParameter("sha256");
        byte[] bytes = request.getBody() == null ? new byte[0] : request.getBody().toByteArray();
        worker.boss.blobs.put(sha, bytes);
        return new MockResponse.Builder().code(201).addHeader("Content-Type", "application/json")
                .body("{\"sha256\":\"" + sha + "\",\"size\":" + bytes.length + "}").build();
    }

    @Test
    void anErrorWhileTheFilesAreUploadedStillKeepsTheOutcome() throws Exception {
        try (WorkerHarness worker = new WorkerHarness(root, 1, Duration.ofMillis(200), artifacts ->
                new ArtifactUploader(null, 0, 0, Duration.ZERO, Duration.ZERO, new SimpleMeterRegistry()) {
                    @Override
                    public Report upload(Path outputDir, java.util.function.Supplier<String> stop) {
                        throw new StackOverflowError("a bug deep in the upload");
                    }
                })) {
            worker.boss.order(1, job("\"write\":{\"model.pt\":\"m\"}"));
            worker.start();

            JsonNode outcome = null;
            long deadline = System.nanoTime() + A_WHILE.toNanos();
            while (outcome == null && System.nanoTime() < deadline) {
                worker.spool.flushNow(); // the Error went past the run's own flush: the spool's next one sends it
                outcome = worker.boss.callback(Duration.ofMillis(200));
            }
            assertThat(outcome).as("the outcome was kept despite the Error").isNotNull();
            assertThat(outcome.get("status").asInt()).isEqualTo(200);
            assertThat(outcome.has("artifacts")).isFalse();
        }
    }

    @Test
    void aCancelledRunsFilesAreListedAsSkippedNotUploaded() throws Exception {
        try (WorkerHarness worker = new WorkerHarness(root, 1, Duration.ofMillis(100))) {
            worker.boss.onLogs = (order, text) -> {
                if (text.contains("written")) { // the script has left its file: now cancel it
                    worker.boss.heartbeat = (o, n) -> json("{\"cancelRequested\":true}");
                }
            };
            worker.boss.order(1, job("\"write\":{\"checkpoint.pt\":\"half\"},\"sleep\":60"));
            worker.start();

            JsonNode outcome = worker.boss.callback(A_WHILE);
            assertThat(outcome.get("status").asInt()).isEqualTo(499);
            assertThat(outcome.has("artifacts")).isFalse();
            assertThat(byName(outcome.get("skippedArtifacts")).get("checkpoint.pt").get("reason").asString())
                    .contains("cancelled");
            assertThat(worker.boss.requests.stream().noneMatch(r -> r.startsWith("/blobs?"))).isTrue();
        }
    }
}
