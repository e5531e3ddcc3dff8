package com.maddatum.worker.cache;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.maddatum.worker.cache.CacheFailure.Kind;
import com.maddatum.worker.client.BossBlobs;
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
import java.nio.file.attribute.FileTime;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;
import java.util.function.LongSupplier;
import mockwebserver3.Dispatcher;
import mockwebserver3.MockResponse;
import mockwebserver3.MockWebServer;
import mockwebserver3.RecordedRequest;
import mockwebserver3.SocketEffect;
import okio.Buffer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The blob cache against a scripted Boss: what it downloads, keeps, resumes, refuses and removes. */
class BlobCacheTest {

    private static final BooleanSupplier GOING = () -> false;

    @TempDir
    Path root;

    private MockWebServer server;
    private BossBlobs boss;
    private final SimpleMeterRegistry meters = new SimpleMeterRegistry();
    private BlobCache cache;

    @BeforeEach
    void start() throws Exception {
        server = new MockWebServer();
        server.start(0);
        boss = new BossBlobs(server.url("/").toString(), Optional.of("s3cret"), Duration.ofSeconds(2),
                Duration.ofMillis(700), Duration.ofSeconds(2), TestSettings.JSON);
    }

    @AfterEach
    void stop() {
        if (cache != null) {
            cache.close();
        }
        server.close();
    }

    private BlobCache cache(long maxBytes) {
        return cache(maxBytes, null);
    }

    private BlobCache cache(long maxBytes, LongSupplier usableSpace) {
        if (cache != null) {
            cache.close();
        }
        cache = new BlobCache(root.resolve("cache"), maxBytes, boss, meters, usableSpace);
        return cache;
    }

    static byte[] bytes(int size, long seed) {
        byte[] bytes = new byte[size];
        new Random(seed).nextBytes(bytes);
        return bytes;
    }

    static String sha256(byte[] bytes) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
    }

    static MockResponse whole(byte[] bytes) {
        return new MockResponse.Builder().code(200).addHeader("Content-Type", "application/octet-stream")
                .body(new Buffer().write(bytes)).build();
    }

    static MockResponse from(byte[] bytes, int offset) {
        return new MockResponse.Builder().code(206).addHeader("Content-Type", "application/octet-stream")
                .addHeader("Content-Range", "bytes " + offset + "-" + (bytes.length - 1) + "/" + bytes.length)
                .body(new Buffer().write(Arrays.copyOfRange(bytes, offset, bytes.length))).build();
    }

    /** Announces all the bytes, sends the first {@code cut}, and closes the connection. */
    static MockResponse cutAfter(byte[] bytes, int cut) {
        return new MockResponse.Builder().code(200).body(new Buffer().write(Arrays.copyOf(bytes, cut)))
                .setHeader("Content-Length", bytes.length).onResponseEnd(SocketEffect.ShutdownConnection.INSTANCE).build();
    }

    private Path cached(String sha256) {
        return root.resolve("cache").resolve(sha256);
    }

    private Path part(String sha256) {
        return root.resolve("cache").resolve(sha256 + ".part");
    }

    private double lookups(String result) {
        return meters.get("worker.cache.lookups").tag("result", result).counter().count();
    }

    /** Fetches and lets go at once: the blob is in the cache, used now. */
    private void use(byte[] blob) throws Exception {
        server.enqueue(whole(blob));
        cache.acquire(sha256(blob), -1, GOING).close();
    }

    @Test
    void downloadsABlobOnceWithTheTokenAndServesItFromTheCacheAfterwards() throws Exception {
        byte[] blob = bytes(10_000, 1);
        String sha = sha256(blob);
        cache(1 << 20);
        server.enqueue(whole(blob));

        try (BlobCache.Pin pin = cache.acquire(sha, blob.length, GOING)) {
            assertThat(pin.hit()).isFalse();
            assertThat(Files.readAllBytes(pin.path())).isEqualTo(blob);
            assertThat(pin.path()).isEqualTo(cached(sha));
            assertThat(Files.getPosixFilePermissions(pin.path())).as("a script cannot write into the cache")
                    .noneMatch(p -> p.name().endsWith("WRITE"));
        }
        RecordedRequest request = server.takeRequest(5, TimeUnit.SECONDS);
        assertThat(request.getTarget()).isEqualTo("/blobs/" + sha);
        assertThat(request.getHeaders().get("Authorization")).isEqualTo("Bearer s3cret");
        assertThat(request.getHeaders().get("Range")).isNull();

        try (BlobCache.Pin again = cache.acquire(sha, -1, GOING)) {
            assertThat(again.hit()).isTrue();
            assertThat(Files.readAllBytes(again.path())).isEqualTo(blob);
        }
        assertThat(server.getRequestCount()).isEqualTo(1);
        assertThat(lookups("miss")).isEqualTo(1);
        assertThat(lookups("hit")).isEqualTo(1);
        assertThat(meters.get("worker.cache.bytes").gauge().value()).isEqualTo(10_000);
    }

    @Test
    void evictsTheLeastRecentlyUsedBlobsToStayWithinItsBoundInBytes() throws Exception {
        byte[] a = bytes(1000, 1);
        byte[] b = bytes(1000, 2);
        byte[] c = bytes(1000, 3);
        byte[] d = bytes(1000, 4);
        cache(3000);
        use(a);
        use(b);
        use(c);
        cache.acquire(sha256(a), -1, GOING).close(); // a is used again: b is now the least recently used

        use(d);

        assertThat(cache.contains(sha256(b))).isFalse();
        assertThat(cached(sha256(b))).doesNotExist();
        assertThat(cache.contains(sha256(a))).isTrue();
        assertThat(cache.contains(sha256(c))).isTrue();
        assertThat(cache.contains(sha256(d))).isTrue();
        assertThat(cache.bytes()).isEqualTo(3000);
        assertThat(meters.get("worker.cache.evictions").counter().count()).isEqualTo(1);
    }

    @Test
    void neverEvictsABlobARunHoldsEvenOverItsBoundAndGoesBackUnderItWhenBlobsAreLetGo() throws Exception {
        byte[] held = bytes(1500, 1);
        byte[] next = bytes(1000, 2);
        cache(2000);
        server.enqueue(whole(held));
        BlobCache.Pin pin = cache.acquire(sha256(held), -1, GOING);
        server.enqueue(whole(next));
        BlobCache.Pin other = cache.acquire(sha256(next), -1, GOING); // does not fit beside the held one

        assertThat(cache.contains(sha256(held))).isTrue();
        assertThat(cache.contains(sha256(next))).isTrue();
        assertThat(Files.readAllBytes(pin.path())).isEqualTo(held);
        assertThat(cache.bytes()).isEqualTo(2500);

        other.close(); // the only blob no run holds now: it goes, the held one stays
        other.close(); // twice changes nothing
        assertThat(cache.contains(sha256(next))).isFalse();
        assertThat(cache.contains(sha256(held))).isTrue();
        assertThat(cache.bytes()).isEqualTo(1500);

        pin.close(); // within the bound: kept for the next run
        assertThat(cache.contains(sha256(held))).isTrue();
    }

    @Test
    void rebuildsItsIndexFromTheDirectoryAfterARestartWithRecencyFromModificationTimes() throws Exception {
        byte[] older = bytes(1000, 1);
        byte[] newer = bytes(1000, 2);
        cache(1 << 20);
        use(newer);
        use(older);
        // The files' times are what survives: make "newer" the one used last.
        Files.setLastModifiedTime(cached(sha256(older)), FileTime.fromMillis(System.currentTimeMillis() - 60_000));
        Files.setLastModifiedTime(cached(sha256(newer)), FileTime.fromMillis(System.currentTimeMillis()));
        Files.write(root.resolve("cache").resolve("notes.txt"), new byte[5000]); // not a blob: not counted

        cache(1500); // a restart with a smaller bound: only one fits

        assertThat(cache.blobs()).isEqualTo(1);
        assertThat(cache.contains(sha256(newer))).isTrue();
        assertThat(cached(sha256(older))).doesNotExist();
        try (BlobCache.Pin pin = cache.acquire(sha256(newer), -1, GOING)) {
            assertThat(pin.hit()).isTrue();
            assertThat(Files.readAllBytes(pin.path())).isEqualTo(newer);
        }
        assertThat(server.getRequestCount()).isEqualTo(2); // the two first downloads, none after the restart
    }

    @Test
    void resumesADownloadCutHalfWayWithARangeWhenTheBossAnswers206() throws Exception {
        byte[] blob = bytes(300_000, 7);
        String sha = sha256(blob);
        cache(1 << 20);
        server.enqueue(cutAfter(blob, 100_000));
        server.enqueue(from(blob, 100_000));

        try (BlobCache.Pin pin = cache.acquire(sha, -1, GOING)) {
            assertThat(Files.readAllBytes(pin.path())).isEqualTo(blob);
        }
        assertThat(server.takeRequest(5, TimeUnit.SECONDS).getHeaders().get("Range")).isNull();
        assertThat(server.takeRequest(5, TimeUnit.SECONDS).getHeaders().get("Range")).isEqualTo("bytes=100000-");
        assertThat(part(sha)).doesNotExist();
    }

    @Test
    void resumesThePartAnEarlierRunLeftFromItsLength() throws Exception {
        byte[] blob = bytes(50_000, 8);
        String sha = sha256(blob);
        Files.createDirectories(root.resolve("cache"));
        Files.write(part(sha), Arrays.copyOf(blob, 20_000));
        cache(1 << 20);
        server.enqueue(from(blob, 20_000));

        try (BlobCache.Pin pin = cache.acquire(sha, blob.length, GOING)) {
            assertThat(Files.readAllBytes(pin.path())).isEqualTo(blob);
        }
        assertThat(server.takeRequest(5, TimeUnit.SECONDS).getHeaders().get("Range")).isEqualTo("bytes=20000-");
        assertThat(server.getRequestCount()).isEqualTo(1);
    }

    @Test
    void startsOverWhenTheBossAnswersTheRangeWithTheWholeBlob() throws Exception {
        byte[] blob = bytes(50_000, 9);
        String sha = sha256(blob);
        Files.createDirectories(root.resolve("cache"));
        Files.write(part(sha), bytes(30_000, 99)); // not even the blob's bytes: the whole answer replaces them
        cache(1 << 20);
        server.enqueue(whole(blob));

        try (BlobCache.Pin pin = cache.acquire(sha, -1, GOING)) {
            assertThat(Files.readAllBytes(pin.path())).isEqualTo(blob);
        }
        assertThat(server.takeRequest(5, TimeUnit.SECONDS).getHeaders().get("Range")).isEqualTo("bytes=30000-");
    }

    @Test
    void aResumedDownloadThatDoesNotMatchIsFetchedAgainFromZero() throws Exception {
        byte[] blob = bytes(50_000, 10);
        String sha = sha256(blob);
        Files.createDirectories(root.resolve("cache"));
        Files.write(part(sha), bytes(20_000, 98)); // a bad part: the rest fits, the whole does not hash
        cache(1 << 20);
        server.enqueue(from(blob, 20_000));
        server.enqueue(whole(blob));

        try (BlobCache.Pin pin = cache.acquire(sha, -1, GOING)) {
            assertThat(Files.readAllBytes(pin.path())).isEqualTo(blob);
        }
        assertThat(server.takeRequest(5, TimeUnit.SECONDS).getHeaders().get("Range")).isEqualTo("bytes=20000-");
        assertThat(server.takeRequest(5, TimeUnit.SECONDS).getHeaders().get("Range")).isNull();
    }

    @Test
    void aCorruptDownloadIsDeletedAndNeverUsed() throws Exception {
        byte[] blob = bytes(10_000, 11);
        String sha = sha256(blob);
        cache(1 << 20);
        server.enqueue(whole(bytes(10_000, 12)));

        assertThatThrownBy(() -> cache.acquire(sha, -1, GOING)).isInstanceOfSatisfying(CacheFailure.class, e -> {
            assertThat(e.kind()).isEqualTo(Kind.CORRUPT);
            assertThat(e.getMessage()).contains(sha).contains("not used");
        });
        assertThat(cached(sha)).doesNotExist();
        assertThat(part(sha)).doesNotExist();
        assertThat(cache.contains(sha)).isFalse();

        server.enqueue(whole(blob)); // asked again: fetched again, and good this time
        try (BlobCache.Pin pin = cache.acquire(sha, -1, GOING)) {
            assertThat(Files.readAllBytes(pin.path())).isEqualTo(blob);
        }
    }

    @Test
    void aBlobWhoseSizeIsNotTheOneTheJobSaysIsRefused() throws Exception {
        byte[] blob = bytes(1000, 13);
        cache(1 << 20);
        server.enqueue(whole(blob));

        assertThatThrownBy(() -> cache.acquire(sha256(blob), 999, GOING)).isInstanceOfSatisfying(CacheFailure.class,
                e -> assertThat(e.kind()).isEqualTo(Kind.CORRUPT));
    }

    @Test
    void aBlobTheBossDoesNotHaveIsMissingAndAFailingBossIsUnavailable() throws Exception {
        cache(1 << 20);
        String sha = sha256(bytes(10, 1));
        server.enqueue(new MockResponse.Builder().code(404).addHeader("Content-Type", "application/problem+json")
                .body("{\"title\":\"Not Found\",\"status\":404,\"detail\":\"no blob " + sha + "\"}").build());
        assertThatThrownBy(() -> cache.acquire(sha, -1, GOING)).isInstanceOfSatisfying(CacheFailure.class, e -> {
            assertThat(e.kind()).isEqualTo(Kind.MISSING);
            assertThat(e.getMessage()).contains("no blob " + sha);
        });

        server.enqueue(new MockResponse.Builder().code(503).body("restarting").build());
        assertThatThrownBy(() -> cache.acquire(sha, -1, GOING)).isInstanceOfSatisfying(CacheFailure.class,
                e -> assertThat(e.kind()).isEqualTo(Kind.UNAVAILABLE));

        server.close(); // nobody answers at all
        assertThatThrownBy(() -> cache.acquire(sha, -1, GOING)).isInstanceOfSatisfying(CacheFailure.class,
                e -> assertThat(e.kind()).isEqualTo(Kind.UNAVAILABLE));
    }

    @Test
    void aBossThatStopsSendingFailsTheDownloadAfterTheStallTimeout() throws Exception {
        byte[] blob = bytes(10_000, 14);
        String sha = sha256(blob);
        cache(1 << 20);
        // Headers at once, then nothing for longer than the 700 ms stall timeout.
        server.enqueue(new MockResponse.Builder().code(200).body(new Buffer().write(blob)).bodyDelay(5, TimeUnit.SECONDS)
                .build());

        long started = System.nanoTime();
        assertThatThrownBy(() -> cache.acquire(sha, -1, GOING)).isInstanceOfSatisfying(CacheFailure.class,
                e -> assertThat(e.kind()).isEqualTo(Kind.UNAVAILABLE));
        assertThat(Duration.ofNanos(System.nanoTime() - started)).isLessThan(Duration.ofSeconds(4));
        assertThat(cache.contains(sha)).isFalse();
    }

    @Test
    void refusesABlobLargerThanItsBoundBeforeWritingAByte() throws Exception {
        byte[] blob = bytes(5000, 15);
        String sha = sha256(blob);
        cache(4000);
        server.enqueue(whole(blob));

        assertThatThrownBy(() -> cache.acquire(sha, -1, GOING)).isInstanceOfSatisfying(CacheFailure.class, e -> {
            assertThat(e.kind()).isEqualTo(Kind.TOO_LARGE);
            assertThat(e.getMessage()).contains("5000 bytes").contains("worker.cache.max-bytes = 4000")
                    .contains("WORKER_CACHE_MAX_BYTES");
        });
        assertThat(part(sha)).doesNotExist();
        assertThat(cached(sha)).doesNotExist();
        // An input whose size the job states is refused without asking the Boss at all.
        assertThatThrownBy(() -> cache.acquire(sha256(bytes(1, 1)), 5000, GOING)).isInstanceOfSatisfying(
                CacheFailure.class, e -> assertThat(e.kind()).isEqualTo(Kind.TOO_LARGE));
    }

    @Test
    void refusesWhenTheDiskHasNotTheRoomEvenWithEveryUnheldBlobRemoved() throws Exception {
        byte[] old = bytes(1000, 16);
        byte[] big = bytes(3000, 17);
        AtomicInteger free = new AtomicInteger(Integer.MAX_VALUE);
        cache(1 << 20, () -> free.get());
        use(old);
        free.set(1000); // the disk is nearly full: far less than the blob and the headroom
        server.enqueue(whole(big));

        assertThatThrownBy(() -> cache.acquire(sha256(big), -1, GOING)).isInstanceOfSatisfying(CacheFailure.class, e -> {
            assertThat(e.kind()).isEqualTo(Kind.NO_SPACE);
            assertThat(e.getMessage()).contains("3000 more bytes").contains("1000 free").contains("1000 more in blobs");
        });
        assertThat(cache.contains(sha256(old))).as("not removed for a download it could not have made room for")
                .isTrue();
        assertThat(cached(sha256(big))).doesNotExist();
    }

    @Test
    void theFreeSpaceCheckLeavesWhatOtherDownloadsUnderWayStillHaveToWrite() throws Exception {
        byte[] a = bytes(1000, 1);
        byte[] b = bytes(1000, 2);
        CountDownLatch sendA = new CountDownLatch(1);
        String shaA = sha256(a);
        try (ServerSocket raw = new ServerSocket(0)) {
            // A Boss that announces A's 1000 bytes at once and sends them once the test says; B's, at once.
            Thread boss = new Thread(() -> {
                while (!raw.isClosed()) {
                    try {
                        Socket socket = raw.accept();
                        Thread answer = new Thread(() -> answer(socket, shaA, a, sendA, b));
                        answer.setDaemon(true);
                        answer.start();
                    } catch (Exception e) {
                        return; // closed: the test is over
                    }
                }
            }, "boss-of-a-and-b");
            boss.setDaemon(true);
            boss.start();
            // The disk has room for one of them (and the headroom), as neither has written a byte yet.
            LongSupplier room = () -> BlobCache.DISK_HEADROOM + 1500;
            BossBlobs slowBoss = new BossBlobs("http://127.0.0.1:" + raw.getLocalPort(), Optional.empty(),
                    Duration.ofSeconds(2), Duration.ofSeconds(10), Duration.ofSeconds(2), TestSettings.JSON);
            cache = new BlobCache(root.resolve("cache"), 1 << 20, slowBoss, meters, room);
            ExecutorService threads = Executors.newFixedThreadPool(1);
            try {
                Future<byte[]> first = threads.submit(() -> read(shaA));
                awaitReserved(a.length); // A's download made room, and has written nothing yet

                assertThatThrownBy(() -> cache.acquire(sha256(b), -1, GOING)).isInstanceOfSatisfying(
                        CacheFailure.class, e -> {
                            assertThat(e.kind()).isEqualTo(Kind.NO_SPACE);
                            assertThat(e.getMessage()).contains("1000 of them promised to other downloads under way");
                        });
                sendA.countDown();
                assertThat(first.get(10, TimeUnit.SECONDS)).isEqualTo(a);
            } finally {
                sendA.countDown();
                threads.shutdownNow();
            }
        }
    }

    /** Answers one blob request: {@code held} (its headers at once, its bytes after {@code send}) or {@code other}. */
    private static void answer(Socket socket, String heldSha, byte[] held, CountDownLatch send, byte[] other) {
        try (socket) {
            boolean isHeld = RawHttpHead.read(socket.getInputStream()).contains(heldSha);
            byte[] body = isHeld ? held : other;
            OutputStream out = socket.getOutputStream();
            out.write(("HTTP/1.1 200 OK\r\nContent-Length: " + body.length + "\r\nConnection: close\r\n\r\n")
                    .getBytes(StandardCharsets.US_ASCII));
            out.flush();
            if (isHeld) {
                send.await(10, TimeUnit.SECONDS);
            }
            out.write(body);
        } catch (Exception e) {
            // the test is over
        }
    }

    @Test
    void partsOfStoppedDownloadsCountAgainstTheBoundAndGoLikeUnusedBlobs() throws Exception {
        cache(3000);
        for (int i = 0; i < 5; i++) {
            byte[] blob = bytes(2500, 100 + i);
            server.enqueue(cutAfter(blob, 2000)); // cut after 2000 bytes
            server.enqueue(new MockResponse.Builder().code(503).build()); // the resume finds the Boss failing
            String sha = sha256(blob);
            assertThatThrownBy(() -> cache.acquire(sha, -1, GOING)).isInstanceOf(CacheFailure.class);
            assertThat(part(sha)).as("kept for a resume").exists();
            assertThat(cache.partBytes()).isEqualTo(2000);
        }
        byte[] ok = bytes(2500, 1);
        server.enqueue(whole(ok));

        cache.acquire(sha256(ok), -1, GOING).close();

        assertThat(cache.bytes()).isEqualTo(2500);
        assertThat(cache.partBytes()).isZero();
        assertThat(directoryBytes()).as("bytes on the disk of a cache bounded at 3000").isLessThanOrEqualTo(3000);

        byte[] resumed = bytes(2500, 7);
        server.enqueue(cutAfter(resumed, 1000));
        server.enqueue(new MockResponse.Builder().code(503).build());
        assertThatThrownBy(() -> cache.acquire(sha256(resumed), -1, GOING)).isInstanceOf(CacheFailure.class);
        cache(3000); // a restart counts the part it finds, and the blob, and removes the older one to fit
        assertThat(cache.partBytes() + cache.bytes()).isLessThanOrEqualTo(3000);
        assertThat(part(sha256(resumed))).as("the newer one, kept").exists();
    }

    @Test
    void aResumeTheBossAnswersFromAnotherByteStartsOverFromZero() throws Exception {
        byte[] blob = bytes(50_000, 21);
        String sha = sha256(blob);
        Files.createDirectories(root.resolve("cache"));
        Files.write(part(sha), Arrays.copyOf(blob, 20_000));
        cache(1 << 20);
        server.enqueue(from(blob, 10_000)); // asked from 20000, answers from 10000
        server.enqueue(whole(blob));

        try (BlobCache.Pin pin = cache.acquire(sha, -1, GOING)) {
            assertThat(Files.readAllBytes(pin.path())).isEqualTo(blob);
        }
        assertThat(server.takeRequest(5, TimeUnit.SECONDS).getHeaders().get("Range")).isEqualTo("bytes=20000-");
        assertThat(server.takeRequest(5, TimeUnit.SECONDS).getHeaders().get("Range")).isNull();
    }

    @Test
    void withoutAContentLengthTheSizeTheJobStatesBoundsTheDownload() throws Exception {
        byte[] blob = bytes(5000, 22);
        cache(1 << 20);
        server.enqueue(new MockResponse.Builder().code(200).chunkedBody(new Buffer().write(blob), 1024).build());

        assertThatThrownBy(() -> cache.acquire(sha256(blob), 4000, GOING)).isInstanceOfSatisfying(CacheFailure.class,
                e -> {
                    assertThat(e.kind()).isEqualTo(Kind.CORRUPT);
                    assertThat(e.getMessage()).contains("more than the 4000 bytes");
                });
        assertThat(cache.contains(sha256(blob))).isFalse();
    }

    @Test
    void aRunWhoseJobStatesAnotherSizeGetsNoBlobFromTheCacheNorFromAnotherRunsDownload() throws Exception {
        byte[] blob = bytes(1000, 23);
        String sha = sha256(blob);
        cache(1 << 20);
        CountDownLatch asked = new CountDownLatch(1);
        CountDownLatch answer = new CountDownLatch(1);
        server.setDispatcher(new Dispatcher() {
            @Override
            public MockResponse dispatch(RecordedRequest request) throws InterruptedException {
                asked.countDown();
                answer.await(10, TimeUnit.SECONDS);
                return whole(blob);
            }
        });
        ExecutorService threads = Executors.newFixedThreadPool(2);
        try {
            Future<byte[]> first = threads.submit(() -> read(sha));
            assertThat(asked.await(5, TimeUnit.SECONDS)).isTrue();
            Future<?> wrong = threads.submit(() -> cache.acquire(sha, 999, GOING));
            awaitWaiting(sha, 1);
            answer.countDown();

            assertThat(first.get(10, TimeUnit.SECONDS)).isEqualTo(blob);
            assertThatThrownBy(() -> wrong.get(10, TimeUnit.SECONDS)).cause().isInstanceOfSatisfying(CacheFailure.class,
                    e -> assertThat(e.kind()).isEqualTo(Kind.CORRUPT));
        } finally {
            answer.countDown();
            threads.shutdownNow();
        }
        assertThatThrownBy(() -> cache.acquire(sha, 1001, GOING)).isInstanceOfSatisfying(CacheFailure.class, e -> {
            assertThat(e.kind()).isEqualTo(Kind.CORRUPT);
            assertThat(e.getMessage()).contains("1000 bytes, but the job says 1001");
        });
    }

    @Test
    void twoRunsNeedingTheSameBlobAtOnceDownloadItOnce() throws Exception {
        byte[] blob = bytes(20_000, 18);
        String sha = sha256(blob);
        cache(1 << 20);
        CountDownLatch asked = new CountDownLatch(1);
        CountDownLatch answer = new CountDownLatch(1);
        AtomicInteger gets = new AtomicInteger();
        server.setDispatcher(new Dispatcher() {
            @Override
            public MockResponse dispatch(RecordedRequest request) throws InterruptedException {
                gets.incrementAndGet();
                asked.countDown();
                answer.await(10, TimeUnit.SECONDS);
                return whole(blob);
            }
        });
        ExecutorService threads = Executors.newFixedThreadPool(2);
        try {
            Future<byte[]> first = threads.submit(() -> read(sha));
            assertThat(asked.await(5, TimeUnit.SECONDS)).isTrue(); // the first run's download is under way
            Future<byte[]> second = threads.submit(() -> read(sha));
            awaitWaiting(sha, 1); // the second run waits for it instead of downloading too
            answer.countDown();

            assertThat(first.get(10, TimeUnit.SECONDS)).isEqualTo(blob);
            assertThat(second.get(10, TimeUnit.SECONDS)).isEqualTo(blob);
            assertThat(gets.get()).isEqualTo(1);
        } finally {
            answer.countDown();
            threads.shutdownNow();
        }
    }

    @Test
    void whenTheRunThatDownloadsIsStoppedTheOneWaitingFetchesInItsPlace() throws Exception {
        byte[] blob = bytes(200_000, 19);
        String sha = sha256(blob);
        cache(1 << 20);
        AtomicBoolean firstStopped = new AtomicBoolean();
        CountDownLatch bytesArrived = new CountDownLatch(1);
        server.setDispatcher(new Dispatcher() {
            @Override
            public MockResponse dispatch(RecordedRequest request) {
                String range = request.getHeaders().get("Range");
                // The first answer trickles (1 KiB every 50 ms); the second serves the rest at once.
                return range == null
                        ? new MockResponse.Builder().code(200).body(new Buffer().write(blob))
                                .throttleBody(1024, 50, TimeUnit.MILLISECONDS).build()
                        : from(blob, Integer.parseInt(range.substring("bytes=".length(), range.length() - 1)));
            }
        });
        ExecutorService threads = Executors.newFixedThreadPool(2);
        try {
            Future<?> first = threads.submit(() -> cache.acquire(sha, -1, () -> {
                if (BlobDownload.size(part(sha)) > 0) {
                    bytesArrived.countDown();
                }
                return firstStopped.get();
            }));
            assertThat(bytesArrived.await(5, TimeUnit.SECONDS)).isTrue();
            Future<byte[]> second = threads.submit(() -> read(sha));
            awaitWaiting(sha, 1);
            firstStopped.set(true);

            assertThatThrownBy(() -> first.get(10, TimeUnit.SECONDS)).hasCauseInstanceOf(CacheFailure.class)
                    .cause().satisfies(e -> assertThat(((CacheFailure) e).kind()).isEqualTo(Kind.STOPPED));
            assertThat(second.get(10, TimeUnit.SECONDS)).isEqualTo(blob);
            assertThat(server.getRequestCount()).isEqualTo(2); // the second resumed from the first one's part
        } finally {
            threads.shutdownNow();
        }
    }

    @Test
    void aRunWaitingForAnotherOnesDownloadEndsWhenItIsStopped() throws Exception {
        String sha = sha256(bytes(10, 20));
        cache(1 << 20);
        CountDownLatch asked = new CountDownLatch(1);
        CountDownLatch answer = new CountDownLatch(1);
        server.setDispatcher(new Dispatcher() {
            @Override
            public MockResponse dispatch(RecordedRequest request) throws InterruptedException {
                asked.countDown();
                answer.await(10, TimeUnit.SECONDS);
                return new MockResponse.Builder().code(503).build();
            }
        });
        ExecutorService threads = Executors.newFixedThreadPool(2);
        try {
            threads.submit(() -> cache.acquire(sha, -1, GOING));
            assertThat(asked.await(5, TimeUnit.SECONDS)).isTrue();
            AtomicBoolean stopped = new AtomicBoolean();
            Future<?> waiter = threads.submit(() -> cache.acquire(sha, -1, stopped::get));
            awaitWaiting(sha, 1);
            stopped.set(true);
            assertThatThrownBy(() -> waiter.get(5, TimeUnit.SECONDS)).cause()
                    .satisfies(e -> assertThat(((CacheFailure) e).kind()).isEqualTo(Kind.STOPPED));
        } finally {
            answer.countDown();
            threads.shutdownNow();
        }
    }

    @Test
    void aCacheDirectoryIsOneWorkersOnlyAndASecondWorkerTakesASiblingOfItsOwn() throws Exception {
        byte[] blob = bytes(100, 24);
        cache(1 << 20);
        use(blob);
        List<BlobCache> others = new ArrayList<>();
        try {
            // Workers scaled from one configuration on one volume: each finds the next directory free.
            for (int n = 2; n <= BlobCache.MAX_SIBLINGS; n++) {
                BlobCache other = new BlobCache(root.resolve("cache"), 1 << 20, boss, meters, null);
                others.add(other);
                assertThat(other.dir()).isEqualTo(root.resolve("cache-" + n));
                assertThat(other.contains(sha256(blob))).as("another Worker's blobs are not this one's").isFalse();
            }
            assertThatThrownBy(() -> new BlobCache(root.resolve("cache"), 1 << 20, boss, meters, null))
                    .hasMessageContaining("are all in use by other Workers").hasMessageContaining("WORKER_CACHE_DIR");
            others.remove(0).close(); // the Worker on cache-2 stops: a new one takes its directory again
            BlobCache again = new BlobCache(root.resolve("cache"), 1 << 20, boss, meters, null);
            others.add(again);
            assertThat(again.dir()).isEqualTo(root.resolve("cache-2"));
        } finally {
            others.forEach(BlobCache::close);
        }
    }

    private byte[] read(String sha) throws Exception {
        try (BlobCache.Pin pin = cache.acquire(sha, -1, GOING)) {
            return Files.readAllBytes(pin.path());
        }
    }

    private long directoryBytes() throws Exception {
        try (java.util.stream.Stream<Path> files = Files.list(root.resolve("cache"))) {
            return files.filter(Files::isRegularFile).mapToLong(BlobDownload::size).sum();
        }
    }

    private void awaitReserved(long bytes) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (cache.reservedBytes() < bytes) {
            assertThat(System.nanoTime()).as("bytes promised to downloads under way").isLessThan(deadline);
            Thread.sleep(10);
        }
    }

    private void awaitWaiting(String sha, int runs) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (cache.waiting(sha) < runs) {
            assertThat(System.nanoTime()).as("runs waiting for the download").isLessThan(deadline);
            Thread.sleep(10);
        }
    }
}
