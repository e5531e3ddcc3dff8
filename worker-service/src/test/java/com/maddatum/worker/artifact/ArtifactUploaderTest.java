package com.maddatum.worker.artifact;

import static org.assertj.core.api.Assertions.assertThat;

import com.maddatum.worker.client.BossBlobs;
import com.maddatum.worker.support.TestSettings;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import mockwebserver3.MockResponse;
import mockwebserver3.MockWebServer;
import mockwebserver3.RecordedRequest;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What a run leaves in its directory, uploaded to a scripted Boss within the caps, the rest listed as skipped. */
class ArtifactUploaderTest {

    @TempDir
    Path root;

    private MockWebServer server;
    private BossBlobs boss;
    private final SimpleMeterRegistry meters = new SimpleMeterRegistry();
    private Path run;

    @BeforeEach
    void start() throws Exception {
        server = new MockWebServer();
        server.start(0);
        boss = new BossBlobs(server.url("/").toString(), Optional.of("s3cret"), Duration.ofSeconds(2),
                Duration.ofSeconds(2), Duration.ofSeconds(2), TestSettings.JSON);
        run = Files.createDirectories(root.resolve("work").resolve("run-1"));
        // What the Worker itself writes there: never artifacts.
        Files.writeString(run.resolve("job.json"), "{}");
        Files.writeString(run.resolve("stdout.log"), "epoch 1\n");
        Files.writeString(run.resolve("stderr.log"), "");
    }

    @AfterEach
    void stop() {
        server.close();
    }

    private ArtifactUploader uploader(long maxBytes, int maxFiles) {
        return new ArtifactUploader(boss, maxBytes, maxFiles, 3, Duration.ofMillis(1), meters);
    }

    private static MockResponse stored(String sha, long size) {
        return new MockResponse.Builder().code(201).addHeader("Content-Type", "application/json")
                .body("{\"sha256\":\"" + sha + "\",\"size\":" + size + "}").build();
    }

    private Path write(String name, String text) throws Exception {
        Path file = run.resolve(name);
        Files.createDirectories(file.getParent());
        return Files.writeString(file, text);
    }

    static String sha256(String text) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8)));
    }

    private static Map<String, Map<String, Object>> byName(List<Map<String, Object>> entries) {
        Map<String, Map<String, Object>> named = new TreeMap<>();
        entries.forEach(entry -> named.put((String) entry.get("name"), entry));
        return named;
    }

    @Test
    void uploadsEachFileTheScriptLeftHashedFirstThenStreamedNamedByItsPathInTheRunDirectory() throws Exception {
        write("model.pt", "weights");
        write("plots/curve.png", "png bytes");
        server.enqueue(stored(sha256("weights"), 7));
        server.enqueue(stored(sha256("png bytes"), 9));

        ArtifactUploader.Report report = uploader(1 << 20, 100).upload(run);

        assertThat(report.skipped()).isEmpty();
        assertThat(report.artifacts()).containsExactly(
                Map.of("name", "model.pt", "size", 7L, "sha256", sha256("weights"), "contentType", "application/octet-stream"),
                Map.of("name", "plots/curve.png", "size", 9L, "sha256", sha256("png bytes"), "contentType", "image/png"));
        RecordedRequest first = server.takeRequest(5, TimeUnit.SECONDS);
        assertThat(first.getMethod()).isEqualTo("POST");
        assertThat(first.getTarget()).isEqualTo("/blobs?sha256=" + sha256("weights"));
        assertThat(first.getHeaders().get("Content-Type")).isEqualTo("application/octet-stream");
        assertThat(first.getHeaders().get("Authorization")).isEqualTo("Bearer s3cret");
        assertThat(first.getBody().utf8()).isEqualTo("weights");
        assertThat(server.getRequestCount()).isEqualTo(2); // job.json and the logs are not uploaded
        assertThat(meters.get("worker.artifacts.uploaded").counter().count()).isEqualTo(2);
        assertThat(meters.get("worker.artifacts.uploaded.bytes").counter().count()).isEqualTo(16);

        Map<String, Object> outcome = new java.util.LinkedHashMap<>();
        report.addTo(outcome);
        assertThat(outcome).containsOnlyKeys("artifacts"); // nothing skipped, nothing said about it
    }

    @Test
    void filesBeyondTheCapAreSkippedWithWhyTheModelFirstThenSmallestFirst() throws Exception {
        write("model.pt", "m".repeat(60));
        write("big.ckpt", "b".repeat(50));
        write("small.csv", "s".repeat(30));
        server.enqueue(stored(sha256("m".repeat(60)), 60));
        server.enqueue(stored(sha256("s".repeat(30)), 30));

        ArtifactUploader.Report report = uploader(100, 100).upload(run);

        assertThat(report.artifacts()).extracting(a -> a.get("name")).containsExactly("model.pt", "small.csv");
        Map<String, Object> skipped = byName(report.skipped()).get("big.ckpt");
        assertThat(skipped.get("size")).isEqualTo(50L);
        assertThat((String) skipped.get("reason")).contains("beyond the per-job cap of 100 bytes")
                .contains("worker.artifacts.max-bytes");
        assertThat(server.getRequestCount()).isEqualTo(2);
    }

    @Test
    void filesBeyondTheCountLimitAreSkippedToo() throws Exception {
        write("a.txt", "a");
        write("b.txt", "bb");
        server.enqueue(stored(sha256("a"), 1));

        ArtifactUploader.Report report = uploader(1 << 20, 1).upload(run);

        assertThat(report.artifacts()).extracting(a -> a.get("name")).containsExactly("a.txt");
        assertThat((String) byName(report.skipped()).get("b.txt").get("reason")).contains("worker.artifacts.max-files");
    }

    @Test
    void aFileTheBossRefusesIsSkippedWithItsReasonAndTheOthersStillGo() throws Exception {
        write("huge.bin", "h".repeat(10));
        write("model.pt", "m");
        server.enqueue(stored(sha256("m"), 1));
        server.enqueue(new MockResponse.Builder().code(413).addHeader("Content-Type", "application/problem+json")
                .body("{\"status\":413,\"detail\":\"over boss.blobs.max-bytes\"}").build());

        ArtifactUploader.Report report = uploader(1 << 20, 100).upload(run);

        assertThat(report.artifacts()).extracting(a -> a.get("name")).containsExactly("model.pt");
        assertThat((String) byName(report.skipped()).get("huge.bin").get("reason"))
                .isEqualTo("the Boss refused it: HTTP 413: over boss.blobs.max-bytes");
    }

    @Test
    void aFailingBossIsTriedAgainABoundedNumberOfTimesAndThenTheRestIsNotTried() throws Exception {
        write("model.pt", "m");
        write("a.csv", "aa");
        write("b.csv", "bbb");
        server.enqueue(new MockResponse.Builder().code(503).build());
        server.enqueue(stored(sha256("m"), 1)); // the second try of model.pt works
        for (int i = 0; i < 3; i++) {
            server.enqueue(new MockResponse.Builder().code(502).build()); // a.csv: every try fails
        }

        ArtifactUploader.Report report = uploader(1 << 20, 100).upload(run);

        assertThat(report.artifacts()).extracting(a -> a.get("name")).containsExactly("model.pt");
        Map<String, Map<String, Object>> skipped = byName(report.skipped());
        assertThat((String) skipped.get("a.csv").get("reason")).contains("could not be reached after 3 tries")
                .contains("502");
        assertThat((String) skipped.get("b.csv").get("reason")).startsWith("not tried: the Boss could not be reached");
        assertThat(server.getRequestCount()).isEqualTo(5);
        assertThat(meters.get("worker.artifacts.skipped").counter().count()).isEqualTo(2);
    }

    @Test
    void aBossWithoutTheRouteOrThatRefusesTheTokenGetsNoFurtherTry() throws Exception {
        write("a.csv", "a");
        write("b.csv", "bb");
        server.enqueue(new MockResponse.Builder().code(404).build());

        ArtifactUploader.Report report = uploader(1 << 20, 100).upload(run);

        assertThat(report.artifacts()).isEmpty();
        assertThat(report.skipped()).extracting(s -> s.get("name")).containsExactly("a.csv", "b.csv");
        assertThat(server.getRequestCount()).isEqualTo(1);
    }

    @Test
    void linksAreNeverFollowedOutOfTheRunDirectory() throws Exception {
        Path outside = Files.createDirectories(root.resolve("secrets"));
        Files.writeString(outside.resolve("key"), "private");
        Files.createSymbolicLink(run.resolve("escape"), outside);
        Files.createSymbolicLink(run.resolve("key-link"), outside.resolve("key"));

        ArtifactUploader.Report report = uploader(1 << 20, 100).upload(run);

        assertThat(report.artifacts()).isEmpty();
        assertThat(report.skipped()).extracting(s -> s.get("name")).containsExactlyInAnyOrder("escape", "key-link");
        assertThat(report.skipped()).allSatisfy(s -> assertThat((String) s.get("reason")).contains("symbolic link"));
        assertThat(server.getRequestCount()).isZero();
    }

    @Test
    void aCancelledRunsFilesAreListedNotUploaded() throws Exception {
        write("checkpoint.pt", "half");

        ArtifactUploader.Report report = uploader(1 << 20, 100).skipAll(run, "not uploaded: the job was cancelled");

        assertThat(report.artifacts()).isEmpty();
        assertThat(report.skipped()).containsExactly(Map.of("name", "checkpoint.pt", "size", 4L, "reason",
                "not uploaded: the job was cancelled"));
        assertThat(server.getRequestCount()).isZero();
    }

    @Test
    void aFloodOfSkippedFilesIsListedUpToALimitAndTheRestCounted() throws Exception {
        int files = ArtifactUploader.MAX_SKIPPED_LISTED + 20;
        for (int i = 0; i < files; i++) {
            write(String.format("out/%03d.txt", i), "x");
        }

        ArtifactUploader.Report report = uploader(0, 100).upload(run); // a cap of nothing: all are skipped

        assertThat(report.skipped()).hasSize(ArtifactUploader.MAX_SKIPPED_LISTED + 1);
        Map<String, Object> rest = report.skipped().get(ArtifactUploader.MAX_SKIPPED_LISTED);
        assertThat(rest.get("name")).isEqualTo("(20 more files)");
        assertThat(rest.get("size")).isEqualTo(20L);
        assertThat((String) rest.get("reason")).contains("beyond the per-job cap");
    }

    @Test
    void anInterruptedUploadListsWhatIsLeftAndKeepsTheInterrupt() throws Exception {
        write("a.csv", "a");
        write("b.csv", "b");
        Thread.currentThread().interrupt();
        try {
            ArtifactUploader.Report report = uploader(1 << 20, 100).upload(run);
            assertThat(Thread.currentThread().isInterrupted()).isTrue();
            assertThat(report.artifacts()).isEmpty();
            assertThat(report.skipped()).extracting(s -> s.get("reason")).containsOnly("not uploaded: the worker was stopping");
        } finally {
            Thread.interrupted();
        }
    }
}
