package com.maddatum.worker.artifact;

import static org.assertj.core.api.Assertions.assertThat;

import com.maddatum.worker.client.BossBlobs;
import com.maddatum.worker.client.BossBlobs.Stored;
import com.maddatum.worker.config.WorkerProperties;
import com.maddatum.worker.support.RawHttpHead;
import com.maddatum.worker.support.TestSettings;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.IOException;
import java.io.OutputStream;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;
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

    private static final Supplier<String> GOING = () -> null;
    private static final Duration RETRY_FOR = Duration.ofSeconds(10);
    private final FakeWaits waits = new FakeWaits();

    /** The retries' clock: a pause moves it on at once, and is recorded. */
    static final class FakeWaits implements ArtifactUploader.Waits {
        long now;
        final List<Duration> pauses = new ArrayList<>();
        Runnable onPause = () -> { };

        @Override
        public long nanoTime() {
            return now;
        }

        @Override
        public void pause(Duration pause, BooleanSupplier stopped) {
            pauses.add(pause);
            now += pause.toNanos();
            onPause.run();
        }
    }

    private ArtifactUploader uploader(long maxBytes, int maxFiles) {
        return uploader(boss, maxBytes, maxFiles);
    }

    private ArtifactUploader uploader(BossBlobs blobs, long maxBytes, int maxFiles) {
        return new ArtifactUploader(blobs, maxBytes, maxFiles, RETRY_FOR, Duration.ofSeconds(1), meters, waits);
    }

    /** A Boss whose upload first runs {@code before} with the file (a test's process still writing it). */
    private BossBlobs bossThat(java.util.function.Consumer<Path> before) {
        return new BossBlobs(server.url("/").toString(), Optional.empty(), Duration.ofSeconds(2), Duration.ofSeconds(2),
                Duration.ofSeconds(2), TestSettings.JSON) {
            @Override
            public Upload upload(String sha256, Path file, long size, BooleanSupplier stopped) throws InterruptedException {
                before.accept(file);
                return super.upload(sha256, file, size, stopped);
            }
        };
    }

    private static void append(Path file, int bytes) {
        try {
            Files.write(file, new byte[bytes], StandardOpenOption.APPEND);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
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

        ArtifactUploader.Report report = uploader(1 << 20, 100).upload(run, GOING);

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

        ArtifactUploader.Report report = uploader(100, 100).upload(run, GOING);

        assertThat(report.artifacts()).extracting(a -> a.get("name")).containsExactly("model.pt", "small.csv");
        Map<String, Object> skipped = byName(report.skipped()).get("big.ckpt");
        assertThat(skipped.get("size")).isEqualTo(50L);
        assertThat((String) skipped.get("reason")).contains("beyond the per-job cap of 100 bytes")
                .contains("worker.artifacts.max-bytes").contains("with 90 uploaded before it");
        assertThat(server.getRequestCount()).isEqualTo(2);
    }

    @Test
    void filesBeyondTheCountLimitAreSkippedToo() throws Exception {
        write("a.txt", "a");
        write("b.txt", "bb");
        server.enqueue(stored(sha256("a"), 1));

        ArtifactUploader.Report report = uploader(1 << 20, 1).upload(run, GOING);

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

        ArtifactUploader.Report report = uploader(1 << 20, 100).upload(run, GOING);

        assertThat(report.artifacts()).extracting(a -> a.get("name")).containsExactly("model.pt");
        assertThat((String) byName(report.skipped()).get("huge.bin").get("reason"))
                .isEqualTo("the Boss refused it: HTTP 413: over boss.blobs.max-bytes");
    }

    @Test
    void aFailingBossIsTriedAgainWithBackOffForTheRetryWindowThenEveryOtherFileOnce() throws Exception {
        write("model.pt", "m");
        write("a.csv", "aa");
        write("b.csv", "bbb");
        server.enqueue(new MockResponse.Builder().code(503).build());
        server.enqueue(stored(sha256("m"), 1)); // the second try of model.pt works: the window starts over
        for (int i = 0; i < 6; i++) {
            server.enqueue(new MockResponse.Builder().code(502).build()); // a.csv, then b.csv: every try fails
        }

        ArtifactUploader.Report report = uploader(1 << 20, 100).upload(run, GOING);

        assertThat(report.artifacts()).extracting(a -> a.get("name")).containsExactly("model.pt");
        Map<String, Map<String, Object>> skipped = byName(report.skipped());
        assertThat((String) skipped.get("a.csv").get("reason")).contains("kept failing for 10 s")
                .contains("worker.artifacts.retry-for").contains("502");
        // The Boss answers, if with failures: the next file gets its own try, which may be the one that works.
        assertThat((String) skipped.get("b.csv").get("reason")).contains("kept failing").contains("502");
        // 1 s, then a.csv from its first failure: 1, 2, 4 s and the 3 s left of the 10 s window.
        assertThat(waits.pauses).containsExactly(Duration.ofSeconds(1), Duration.ofSeconds(1), Duration.ofSeconds(2),
                Duration.ofSeconds(4), Duration.ofSeconds(3));
        assertThat(server.getRequestCount()).isEqualTo(2 + 5 + 1);
        assertThat(meters.get("worker.artifacts.skipped").counter().count()).isEqualTo(2);
    }

    @Test
    void aBossThatCannotBeReachedIsTriedForTheWindowThenTheRestIsNotTried() throws Exception {
        write("model.pt", "m");
        write("a.csv", "aa");
        int closedPort;
        try (ServerSocket probe = new ServerSocket(0)) {
            closedPort = probe.getLocalPort();
        }
        BossBlobs down = new BossBlobs("http://127.0.0.1:" + closedPort, Optional.empty(), Duration.ofSeconds(2),
                Duration.ofSeconds(2), Duration.ofSeconds(2), TestSettings.JSON);

        ArtifactUploader.Report report = uploader(down, 1 << 20, 100).upload(run, GOING);

        assertThat(report.artifacts()).isEmpty();
        Map<String, Map<String, Object>> skipped = byName(report.skipped());
        assertThat((String) skipped.get("model.pt").get("reason")).contains("could not be reached for 10 s");
        assertThat((String) skipped.get("a.csv").get("reason")).startsWith("not tried: the Boss could not be reached");
        assertThat(waits.now).isEqualTo(RETRY_FOR.toNanos());
    }

    @Test
    void aStopOfTheRunEndsTheRetriesAndListsWhatIsLeftWithWhy() throws Exception {
        write("model.pt", "m");
        write("a.csv", "aa");
        for (int i = 0; i < 3; i++) {
            server.enqueue(new MockResponse.Builder().code(503).build());
        }
        String[] stop = {null};
        waits.onPause = () -> stop[0] = "the job was cancelled"; // the heartbeat hears of it during the first pause

        ArtifactUploader.Report report = uploader(1 << 20, 100).upload(run, () -> stop[0]);

        assertThat(report.artifacts()).isEmpty();
        assertThat(report.skipped()).extracting(s -> s.get("reason"))
                .containsOnly("not uploaded: the run was stopped (the job was cancelled)");
        assertThat(server.getRequestCount()).isEqualTo(1);
    }

    /** A Boss that answers 413 on the headers and closes the connection, as BlobController does over its quota. */
    @Test
    void anEarly413IsTheBossRefusingThatFileNotABossThatIsDown() throws Exception {
        AtomicInteger requests = new AtomicInteger();
        try (ServerSocket listener = new ServerSocket(0)) {
            Thread boss413 = new Thread(() -> {
                while (!listener.isClosed()) {
                    try (Socket socket = listener.accept()) {
                        requests.incrementAndGet();
                        RawHttpHead.read(socket.getInputStream()); // the headers only, never the body
                        String body = "{\"status\":413,\"detail\":\"over boss.datasets.quota-bytes\"}";
                        OutputStream out = socket.getOutputStream();
                        out.write(("HTTP/1.1 413 Content Too Large\r\nContent-Type: application/problem+json\r\n"
                                + "Connection: close\r\nContent-Length: " + body.length() + "\r\n\r\n" + body)
                                .getBytes(StandardCharsets.US_ASCII));
                        out.flush();
                        socket.shutdownOutput();
                    } catch (IOException e) {
                        // the next connection
                    }
                }
            }, "boss-413");
            boss413.setDaemon(true);
            boss413.start();
            BossBlobs refusing = new BossBlobs("http://127.0.0.1:" + listener.getLocalPort(), Optional.empty(),
                    Duration.ofSeconds(2), Duration.ofSeconds(2), Duration.ofSeconds(10), TestSettings.JSON);
            Files.write(run.resolve("model.pt"), new byte[64 << 20]); // far more than the sockets' buffers
            Files.write(run.resolve("z-plot.png"), new byte[(64 << 20) + 1]);

            ArtifactUploader.Report report = uploader(refusing, 1L << 30, 100).upload(run, GOING);

            Map<String, Map<String, Object>> skipped = byName(report.skipped());
            assertThat((String) skipped.get("model.pt").get("reason")).startsWith("the Boss refused it: HTTP 413");
            assertThat((String) skipped.get("z-plot.png").get("reason")).startsWith("the Boss refused it: HTTP 413");
            assertThat(requests.get()).as("each file asked once, neither tried again").isEqualTo(2);
            assertThat(waits.pauses).isEmpty();
        }
    }

    @Test
    void aFileThatGrowsAfterItsHashIsSkippedAsChangedAndTheOthersStillGo() throws Exception {
        Path log = write("a-train.log", "x".repeat(100));
        write("b-notes.txt", "y".repeat(200));
        server.enqueue(new MockResponse.Builder().code(201).body("{}").build());
        server.enqueue(stored(sha256("y".repeat(200)), 200));
        BossBlobs boss = bossThat(file -> {
            if (file.equals(log)) {
                append(log, 1 << 20); // an escaped process of the run is still writing it
            }
        });

        ArtifactUploader.Report report = uploader(boss, 1L << 30, 100).upload(run, GOING);

        assertThat(report.artifacts()).extracting(a -> a.get("name")).containsExactly("b-notes.txt");
        assertThat((String) byName(report.skipped()).get("a-train.log").get("reason"))
                .startsWith("changed while being uploaded");
        assertThat(waits.pauses).as("not blamed on the Boss, nor tried again with its old size").isEmpty();
        assertThat(server.getRequestCount()).isEqualTo(2);
    }

    @Test
    void theCapIsCountedOnTheBytesHashedAndSentNotOnTheSizeTheScanSaw() throws Exception {
        Path first = write("a.txt", "a".repeat(10));
        Path second = write("b.txt", "b".repeat(20));
        server.enqueue(stored(sha256("a".repeat(10)), 10));
        BossBlobs boss = bossThat(file -> {
            if (file.equals(first)) {
                append(second, 5000); // grows after the scan, before its turn
            }
        });

        ArtifactUploader.Report report = uploader(boss, 100, 100).upload(run, GOING);

        assertThat(report.artifacts()).extracting(a -> a.get("name")).containsExactly("a.txt");
        assertThat((String) byName(report.skipped()).get("b.txt").get("reason"))
                .contains("beyond the per-job cap of 100 bytes").contains("it grew after the scan");
        assertThat(server.getRequestCount()).isEqualTo(1);
    }

    @Test
    void aFileSwappedForALinkAfterTheScanIsNotFollowed() throws Exception {
        Path outside = Files.writeString(root.resolve("secret"), "private");
        Path a = write("a.txt", "a");
        Path b = write("b.txt", "bb");
        server.enqueue(stored(sha256("a"), 1));
        BossBlobs boss = bossThat(file -> {
            if (file.equals(a)) {
                try {
                    Files.delete(b);
                    Files.createSymbolicLink(b, outside);
                } catch (IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            }
        });

        ArtifactUploader.Report report = uploader(boss, 1 << 20, 100).upload(run, GOING);

        assertThat(report.artifacts()).extracting(a2 -> a2.get("name")).containsExactly("a.txt");
        assertThat((String) byName(report.skipped()).get("b.txt").get("reason")).startsWith("changed while being uploaded");
        assertThat(server.getRequestCount()).isEqualTo(1);
    }

    @Test
    void namesTheBossWouldRefuseAreSkippedNotUploaded() throws Exception {
        write("deep/" + "x".repeat(251), "too long"); // 256 characters: one more than the Boss files
        write("tab\u0085name.txt", "C1 control character");
        write("ok.txt", "ok");
        server.enqueue(stored(sha256("ok"), 2));

        ArtifactUploader.Report report = uploader(1 << 20, 100).upload(run, GOING);

        assertThat(report.artifacts()).extracting(a -> a.get("name")).containsExactly("ok.txt");
        assertThat(report.skipped()).hasSize(2).allSatisfy(s -> {
            assertThat((String) s.get("reason")).contains("at most 255 characters");
            assertThat(((String) s.get("name")).length()).isLessThanOrEqualTo(255);
        });
        assertThat(server.getRequestCount()).isEqualTo(1);
    }

    @Test
    void theOutcomeNamesAtMost800FilesAndEachReasonIsShort() throws Exception {
        int files = WorkerProperties.Artifacts.MAX_FILES + 300;
        for (int i = 0; i < files; i++) {
            write(String.format("out/%04d.txt", i), "x");
        }
        BossBlobs takesAll = new BossBlobs(server.url("/").toString(), Optional.empty(), Duration.ofSeconds(2),
                Duration.ofSeconds(2), Duration.ofSeconds(2), TestSettings.JSON) {
            @Override
            public Upload upload(String sha256, Path file, long size, BooleanSupplier stopped) {
                return new Upload(Stored.STORED, null); // no HTTP: hundreds of files, counted, not timed
            }
        };

        ArtifactUploader.Report report = uploader(takesAll, 1 << 20, 1000).upload(run, GOING); // more than allowed

        assertThat(report.artifacts()).hasSize(WorkerProperties.Artifacts.MAX_FILES);
        assertThat(report.artifacts().size() + report.skipped().size()).isEqualTo(ArtifactUploader.MAX_ENTRIES);
        Map<String, Object> rest = report.skipped().get(report.skipped().size() - 1);
        assertThat(rest.get("name")).isEqualTo("(" + (300 - ArtifactUploader.MAX_SKIPPED_LISTED) + " more files)");
        assertThat(report.skipped()).allSatisfy(s -> assertThat(((String) s.get("reason")).length())
                .isLessThanOrEqualTo(ArtifactUploader.MAX_REASON));
    }

    @Test
    void aBossWithoutTheRouteOrThatRefusesTheTokenGetsNoFurtherTry() throws Exception {
        write("a.csv", "a");
        write("b.csv", "bb");
        server.enqueue(new MockResponse.Builder().code(404).build());

        ArtifactUploader.Report report = uploader(1 << 20, 100).upload(run, GOING);

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

        ArtifactUploader.Report report = uploader(1 << 20, 100).upload(run, GOING);

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

        ArtifactUploader.Report report = uploader(0, 100).upload(run, GOING); // a cap of nothing: all are skipped

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
            ArtifactUploader.Report report = uploader(1 << 20, 100).upload(run, GOING);
            assertThat(Thread.currentThread().isInterrupted()).isTrue();
            assertThat(report.artifacts()).isEmpty();
            assertThat(report.skipped()).extracting(s -> s.get("reason")).containsOnly("not uploaded: the worker was stopping");
        } finally {
            Thread.interrupted();
        }
    }
}
