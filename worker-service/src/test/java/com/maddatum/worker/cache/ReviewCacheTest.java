package com.maddatum.worker.cache;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.maddatum.worker.client.BossBlobs;
import com.maddatum.worker.support.TestSettings;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import mockwebserver3.Dispatcher;
import mockwebserver3.MockResponse;
import mockwebserver3.MockWebServer;
import mockwebserver3.RecordedRequest;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ReviewCacheTest {

    @TempDir
    Path root;
    MockWebServer server;
    BossBlobs boss;
    BlobCache cache;

    @BeforeEach
    void start() throws Exception {
        server = new MockWebServer();
        server.start(0);
        boss = new BossBlobs(server.url("/").toString(), Optional.empty(), Duration.ofSeconds(2),
                Duration.ofMillis(700), Duration.ofSeconds(2), TestSettings.JSON);
    }

    @AfterEach
    void stop() {
        if (cache != null) cache.close();
        server.close();
    }

    long dirBytes() throws Exception {
        try (Stream<Path> files = Files.list(root.resolve("cache"))) {
            return files.filter(Files::isRegularFile).mapToLong(BlobDownload::size).sum();
        }
    }

    /** Parts of downloads that were stopped or failed are neither counted nor removed while the Worker runs. */
    @Test
    void partsOfAbandonedDownloadsAreNotCountedAgainstTheBound() throws Exception {
        cache = new BlobCache(root.resolve("cache"), 3000, boss, new SimpleMeterRegistry(), null);
        for (int i = 0; i < 5; i++) {
            byte[] blob = BlobCacheTest.bytes(2500, 100 + i);
            server.enqueue(BlobCacheTest.cutAfter(blob, 2000));          // cut after 2000 bytes
            server.enqueue(new MockResponse.Builder().code(503).build()); // the resume finds the Boss failing
            String sha = BlobCacheTest.sha256(blob);
            assertThatThrownBy(() -> cache.acquire(sha, -1, () -> false)).isInstanceOf(CacheFailure.class);
        }
        byte[] ok = BlobCacheTest.bytes(2500, 1);
        server.enqueue(BlobCacheTest.whole(ok));
        cache.acquire(BlobCacheTest.sha256(ok), -1, () -> false).close();
        assertThat(cache.bytes()).isEqualTo(2500);
        // the cache is bounded at 3000 bytes, yet its directory holds 12500
        assertThat(dirBytes()).as("bytes on disk in a cache bounded at 3000").isLessThanOrEqualTo(3000);
    }

    /** Two different blobs downloading at once both pass a free-space check that only one of them fits. */
    @Test
    void theFreeSpaceCheckIgnoresBytesPromisedToOtherDownloadsUnderWay() throws Exception {
        byte[] a = BlobCacheTest.bytes(1000, 1);
        byte[] b = BlobCacheTest.bytes(1000, 2);
        String shaA = BlobCacheTest.sha256(a);
        String shaB = BlobCacheTest.sha256(b);
        // The disk has room for one of them (plus the headroom), as neither has written a byte yet.
        cache = new BlobCache(root.resolve("cache"), 1 << 20, boss, new SimpleMeterRegistry(),
                () -> BlobCache.DISK_HEADROOM + 1500);
        CountDownLatch release = new CountDownLatch(1);
        server.setDispatcher(new Dispatcher() {
            @Override
            public MockResponse dispatch(RecordedRequest request) throws InterruptedException {
                if (request.getTarget().endsWith(shaA)) {
                    return new MockResponse.Builder().code(200).body(new okio.Buffer().write(a))
                            .bodyDelay(300, TimeUnit.MILLISECONDS).build();
                }
                return BlobCacheTest.whole(b);
            }
        });
        ExecutorService threads = Executors.newFixedThreadPool(2);
        try {
            Future<?> first = threads.submit(() -> { cache.acquire(shaA, -1, () -> false).close(); return null; });
            Thread.sleep(100); // scratch test only: let A reserve first
            Throwable second = null;
            try {
                cache.acquire(shaB, -1, () -> false).close();
            } catch (CacheFailure e) {
                second = e;
            }
            first.get(5, TimeUnit.SECONDS);
            assertThat(second).as("the second download should not be promised disk the first one has").isNotNull();
        } finally {
            threads.shutdownNow();
        }
    }
}
