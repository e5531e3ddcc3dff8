package com.maddatum.worker.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.maddatum.worker.support.TestSettings;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.BooleanSupplier;
import mockwebserver3.MockResponse;
import mockwebserver3.MockWebServer;
import mockwebserver3.RecordedRequest;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The blob routes' client: what each answer means, and what ends an upload that would otherwise hang. */
class BossBlobsTest {

    private static final BooleanSupplier GOING = () -> false;
    private static final String SHA = "a".repeat(64);

    @TempDir
    Path root;

    private MockWebServer server;

    @BeforeEach
    void start() throws Exception {
        server = new MockWebServer();
        server.start(0);
    }

    @AfterEach
    void stop() {
        server.close();
    }

    private BossBlobs blobs(String base, Duration uploadStall) {
        return new BossBlobs(base, Optional.of("s3cret"), Duration.ofSeconds(2), Duration.ofSeconds(2), uploadStall,
                TestSettings.JSON);
    }

    private BossBlobs blobs() {
        return blobs(server.url("/").toString(), Duration.ofSeconds(2));
    }

    private static MockResponse problem(int status, String detail) {
        return new MockResponse.Builder().code(status).addHeader("Content-Type", "application/problem+json")
                .body("{\"status\":" + status + ",\"detail\":\"" + detail + "\",\"field\":\"body\"}").build();
    }

    @Test
    void eachStatusMeansTheSameForDownloadsAndUploads() {
        assertThat(BossBlobs.classify(201)).isEqualTo(BossBlobs.Verdict.OK);
        assertThat(BossBlobs.classify(404)).isEqualTo(BossBlobs.Verdict.NOT_FOUND);
        assertThat(BossBlobs.classify(413)).isEqualTo(BossBlobs.Verdict.REFUSED);
        assertThat(BossBlobs.classify(400)).isEqualTo(BossBlobs.Verdict.REFUSED);
        for (int status : new int[] {401, 403, 405}) {
            assertThat(BossBlobs.classify(status)).as("" + status).isEqualTo(BossBlobs.Verdict.NO_ACCESS);
        }
        for (int status : new int[] {408, 421, 425, 429, 500, 502, 503, 504}) {
            assertThat(BossBlobs.classify(status)).as("" + status).isEqualTo(BossBlobs.Verdict.FAILING);
        }
    }

    @Test
    void aTokenTheBossRefusesIsNoUploadAtAllAndNoFaultOfTheJobThatNamedABlob() throws Exception {
        server.enqueue(new MockResponse.Builder().code(401).addHeader("WWW-Authenticate", "Bearer")
                .addHeader("Content-Type", "application/problem+json").body("{\"detail\":\"bad token\"}").build());
        server.enqueue(new MockResponse.Builder().code(403).build());
        Path file = Files.write(root.resolve("f"), new byte[100]);

        BossBlobs.Upload upload = blobs().upload(SHA, file, 100, GOING);

        assertThat(upload.stored()).isEqualTo(BossBlobs.Stored.GIVE_UP);
        assertThat(upload.reason()).startsWith("HTTP 401");
        // The same status on a download: the Boss's trouble with this Worker, not a blob the job got wrong.
        assertThatThrownBy(() -> blobs().download(SHA, 0)).isInstanceOf(BossUnavailableException.class);
    }

    @Test
    void aRefusalNamesTheBosssDetailAndTheFieldAtFault() throws Exception {
        server.enqueue(problem(400, "the body hashes to something else"));
        Path file = Files.write(root.resolve("f"), new byte[10]);

        BossBlobs.Upload upload = blobs().upload(SHA, file, 10, GOING);

        assertThat(upload.stored()).isEqualTo(BossBlobs.Stored.REFUSED);
        assertThat(upload.reason()).isEqualTo("HTTP 400: the body hashes to something else (field body)");
    }

    @Test
    void aLargeFileAsksForContinueAndGoesOnceTheBossSaysSo() throws Exception {
        int size = (int) BossBlobs.EXPECT_CONTINUE_FROM * 3;
        server.enqueue(new MockResponse.Builder().add100Continue().code(201).body("{\"sha256\":\"" + SHA + "\"}").build());
        Path file = Files.write(root.resolve("big"), new byte[size]);

        BossBlobs.Upload upload = blobs().upload(SHA, file, size, GOING);

        assertThat(upload.stored()).isEqualTo(BossBlobs.Stored.STORED);
        RecordedRequest request = server.takeRequest(5, TimeUnit.SECONDS);
        assertThat(request.getHeaders().get("Expect")).isEqualTo("100-continue");
        assertThat(request.getBody().size()).isEqualTo(size);
    }

    /** A Boss that takes the connection and then reads nothing (its store is stuck): no write timeout would end it. */
    @Test
    void anUploadToABossThatStopsReadingEndsWithinTheStallTimeout() throws Exception {
        try (ServerSocket listener = new ServerSocket(0, 50)) {
            listener.setReceiveBufferSize(4096);
            CountDownLatch release = new CountDownLatch(1);
            Thread stuck = acceptAndHold(listener, new CountDownLatch(1), release);
            Path file = Files.write(root.resolve("big"), new byte[64 << 20]);
            BossBlobs boss = blobs("http://127.0.0.1:" + listener.getLocalPort(), Duration.ofSeconds(1));
            try {
                CompletableFuture<BossBlobs.Upload> upload = CompletableFuture.supplyAsync(() -> upload(boss, file, GOING));

                // The JDK waits up to 5 s for a 100 Continue that does not come, then the writes fill the buffers.
                BossBlobs.Upload result = upload.get(10, TimeUnit.SECONDS);

                assertThat(result.stored()).isEqualTo(BossBlobs.Stored.UNREACHABLE);
                assertThat(result.reason()).contains("worker.artifacts.stall-timeout");
            } finally {
                release.countDown();
                stuck.join(5000);
            }
        }
    }

    @Test
    void aStopOfTheRunEndsItsUploadAtOnce() throws Exception {
        try (ServerSocket listener = new ServerSocket(0, 50)) {
            CountDownLatch accepted = new CountDownLatch(1);
            CountDownLatch release = new CountDownLatch(1);
            Thread stuck = acceptAndHold(listener, accepted, release);
            Path file = Files.write(root.resolve("big"), new byte[64 << 20]);
            BossBlobs boss = blobs("http://127.0.0.1:" + listener.getLocalPort(), Duration.ofMinutes(10));
            AtomicBoolean stopped = new AtomicBoolean();
            try {
                CompletableFuture<BossBlobs.Upload> upload = CompletableFuture.supplyAsync(
                        () -> upload(boss, file, stopped::get));
                assertThat(accepted.await(5, TimeUnit.SECONDS)).isTrue();
                assertThat(upload).as("held by a Boss that reads nothing, with a 10 minute stall timeout").isNotDone();
                stopped.set(true); // cancelled: the heartbeat says so

                BossBlobs.Upload result = upload.get(5, TimeUnit.SECONDS);

                assertThat(result.stored()).isEqualTo(BossBlobs.Stored.STOPPED);
            } finally {
                release.countDown();
                stuck.join(5000);
            }
        }
    }

    @Test
    void aLinkIsNeverFollowedAndAFileThatShrankIsNotSentShort() throws Exception {
        Path secret = Files.writeString(root.resolve("secret"), "private");
        Path link = Files.createSymbolicLink(root.resolve("model.pt"), secret);

        BossBlobs.Upload linked = blobs().upload(SHA, link, 7, GOING);

        assertThat(linked.stored()).isEqualTo(BossBlobs.Stored.CHANGED);
        assertThat(server.getRequestCount()).isZero();

        server.enqueue(new MockResponse.Builder().code(201).build());
        Path shrunk = Files.write(root.resolve("log"), new byte[10]);

        BossBlobs.Upload shorter = blobs().upload(SHA, shrunk, 20, GOING); // hashed at 20 bytes, 10 left now

        assertThat(shorter.stored()).isEqualTo(BossBlobs.Stored.CHANGED);
        assertThat(shorter.reason()).contains("ended 10 bytes before");
    }

    private static BossBlobs.Upload upload(BossBlobs boss, Path file, BooleanSupplier stopped) {
        try {
            return boss.upload(SHA, file, Files.size(file), stopped);
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    /** Accepts one connection and holds it, reading nothing, until {@code release}. */
    private static Thread acceptAndHold(ServerSocket listener, CountDownLatch accepted, CountDownLatch release) {
        Thread thread = new Thread(() -> {
            try (Socket socket = listener.accept()) {
                accepted.countDown();
                release.await(60, TimeUnit.SECONDS);
            } catch (Exception e) {
                // the test is over
            }
        }, "boss-reading-nothing");
        thread.setDaemon(true);
        thread.start();
        return thread;
    }
}
