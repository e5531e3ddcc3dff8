package com.maddatum.boss.blob;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.maddatum.testsupport.MutableClock;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.stream.Collectors;
import java.util.stream.StreamSupport;
import org.junit.jupiter.api.Test;

/**
 * What every blob store must do: bytes stored once under the hash they have, nothing stored (nor left
 * half-stored) under a hash that was not verified or past a limit, reads from any offset. Run against the
 * disk, GridFS on the embedded server, and GridFS on a real MongoDB wherever Docker runs.
 */
abstract class BlobStoreContract {

    /** Later than any blob a test stores: a delete with this cutoff is unconditional. */
    static final Instant ANY_AGE = Instant.parse("3000-01-01T00:00:00Z");

    /** The clock that stamps {@code storedAt}: stores made by {@link #store()} use it. */
    protected final MutableClock clock = MutableClock.stopped();

    /** A fresh, empty store on {@link #clock}. */
    protected abstract BlobStore store();

    /** Whatever a failed or finished put could have left behind besides its blob (temporary files, chunks). */
    protected abstract int leftovers();

    static byte[] bytes(int size, long seed) {
        byte[] bytes = new byte[size];
        new Random(seed).nextBytes(bytes);
        return bytes;
    }

    static String sha256(byte[] bytes) {
        return HexFormat.of().formatHex(HashingCopy.sha256().digest(bytes));
    }

    private static InputStream in(byte[] bytes) {
        return new ByteArrayInputStream(bytes);
    }

    private static List<BlobStore.Blob> all(BlobStore store) {
        return StreamSupport.stream(store.all().spliterator(), false).toList();
    }

    @Test
    void storesBytesUnderTheirHashAndReadsThemBack() throws IOException {
        BlobStore store = store();
        byte[] data = bytes(HashingCopy.CHUNK * 2 + 17, 1); // crosses chunk boundaries
        BlobStore.Blob blob = store.put(in(data), null, Long.MAX_VALUE, null);
        assertThat(blob.sha256()).isEqualTo(sha256(data));
        assertThat(blob.size()).isEqualTo(data.length);
        assertThat(store.find(blob.sha256())).get().extracting(BlobStore.Blob::size).isEqualTo((long) data.length);
        try (InputStream read = store.open(blob.sha256(), 0)) {
            assertThat(read.readAllBytes()).isEqualTo(data);
        }
        assertThat(leftovers()).isZero();
    }

    @Test
    void theSameBytesTwiceAreStoredOnce() throws IOException {
        BlobStore store = store();
        byte[] data = bytes(5000, 2);
        BlobStore.Blob first = store.put(in(data), null, Long.MAX_VALUE, null);
        BlobStore.Blob second = store.put(in(data), sha256(data), Long.MAX_VALUE, null);
        assertThat(second.sha256()).isEqualTo(first.sha256());
        assertThat(all(store)).hasSize(1);
        assertThat(leftovers()).isZero();
    }

    @Test
    void aHashOtherThanExpectedStoresNothing() throws IOException {
        BlobStore store = store();
        byte[] data = bytes(HashingCopy.CHUNK + 3, 3);
        String wrong = sha256(new byte[] {1, 2, 3});
        assertThatThrownBy(() -> store.put(in(data), wrong, Long.MAX_VALUE, null))
                .isInstanceOfSatisfying(BlobStore.HashMismatch.class, e -> {
                    assertThat(e.expected()).isEqualTo(wrong);
                    assertThat(e.actual()).isEqualTo(sha256(data));
                });
        assertThat(store.find(sha256(data))).isEmpty();
        assertThat(store.find(wrong)).isEmpty();
        assertThat(all(store)).isEmpty();
        assertThat(leftovers()).isZero();
    }

    @Test
    void theExpectedHashMayBeUpperCase() throws IOException {
        byte[] data = bytes(100, 4);
        assertThat(store().put(in(data), sha256(data).toUpperCase(), Long.MAX_VALUE, null).sha256())
                .isEqualTo(sha256(data));
    }

    @Test
    void moreThanTheLimitStoresNothing() throws IOException {
        BlobStore store = store();
        byte[] data = bytes(HashingCopy.CHUNK + 10, 5);
        assertThatThrownBy(() -> store.put(in(data), null, data.length - 1, null))
                .isInstanceOfSatisfying(BlobStore.TooLarge.class, e -> assertThat(e.limit()).isEqualTo(data.length - 1));
        assertThat(all(store)).isEmpty();
        assertThat(leftovers()).isZero();
        // Exactly the limit is allowed.
        assertThat(store.put(in(data), null, data.length, null).size()).isEqualTo(data.length);
    }

    @Test
    void readsFromAnOffset() throws IOException {
        BlobStore store = store();
        byte[] data = bytes(HashingCopy.CHUNK * 3 + 5, 6);
        String sha = store.put(in(data), null, Long.MAX_VALUE, null).sha256();
        for (long offset : new long[] {0, 1, HashingCopy.CHUNK - 1, HashingCopy.CHUNK, HashingCopy.CHUNK * 2L + 7,
                data.length - 1, data.length}) {
            try (InputStream read = store.open(sha, offset)) {
                assertThat(read.readAllBytes()).as("from %d", offset)
                        .isEqualTo(Arrays.copyOfRange(data, (int) offset, data.length));
            }
        }
        assertThatThrownBy(() -> store.open(sha, data.length + 1L)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void deleteRemovesTheBlob() throws IOException {
        BlobStore store = store();
        byte[] data = bytes(2000, 7);
        String sha = store.put(in(data), null, Long.MAX_VALUE, null).sha256();
        assertThat(store.delete(sha, ANY_AGE)).isTrue();
        assertThat(store.find(sha)).isEmpty();
        assertThatThrownBy(() -> store.open(sha, 0)).isInstanceOf(BlobStore.Missing.class);
        assertThat(store.delete(sha, ANY_AGE)).isFalse();
        assertThat(store.touch(sha)).isEmpty();
        assertThat(all(store)).isEmpty();
        // And it can be stored again.
        assertThat(store.put(in(data), sha, Long.MAX_VALUE, null).sha256()).isEqualTo(sha);
    }

    @Test
    void allListsEveryBlobWithItsSize() throws IOException {
        BlobStore store = store();
        Map<String, Long> stored = new java.util.HashMap<>();
        for (int i = 0; i < 3; i++) {
            byte[] data = bytes(1000 * (i + 1), 10 + i);
            stored.put(store.put(in(data), null, Long.MAX_VALUE, null).sha256(), (long) data.length);
        }
        assertThat(all(store).stream().collect(Collectors.toMap(BlobStore.Blob::sha256, BlobStore.Blob::size)))
                .isEqualTo(stored);
    }

    @Test
    void aMissingOrMalformedHashNamesNothing() throws IOException {
        BlobStore store = store();
        String unknown = sha256(new byte[] {9});
        assertThat(store.find(unknown)).isEmpty();
        assertThatThrownBy(() -> store.open(unknown, 0)).isInstanceOf(BlobStore.Missing.class);
        assertThat(store.delete(unknown, ANY_AGE)).isFalse();
        assertThat(store.touch(unknown)).isEmpty();
        for (String bad : new String[] {"../../boss.mv", "tmp", unknown.toUpperCase(), unknown + "0", ""}) {
            assertThat(store.find(bad)).as(bad).isEmpty();
            assertThatThrownBy(() -> store.open(bad, 0)).as(bad).isInstanceOf(BlobStore.Missing.class);
            assertThat(store.delete(bad, ANY_AGE)).as(bad).isFalse();
            assertThat(store.touch(bad)).as(bad).isEmpty();
        }
    }

    @Test
    void anEmptyBlobIsABlob() throws IOException {
        BlobStore store = store();
        BlobStore.Blob empty = store.put(in(new byte[0]), null, 0, null);
        assertThat(empty.sha256()).isEqualTo("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
        assertThat(empty.size()).isZero();
        try (InputStream read = store.open(empty.sha256(), 0)) {
            assertThat(read.readAllBytes()).isEmpty();
        }
    }

    @Test
    void theObserverSeesEveryChunkInOrderAndFullChunksButTheLast() throws IOException {
        byte[] data = bytes(HashingCopy.CHUNK * 2 + 100, 8);
        ByteArrayOutputStream seen = new ByteArrayOutputStream();
        List<Integer> lengths = new ArrayList<>();
        // An input that hands out a few bytes per read: chunks are still filled.
        InputStream trickle = new java.io.FilterInputStream(in(data)) {
            @Override
            public int read(byte[] b, int off, int len) throws IOException {
                return super.read(b, off, Math.min(len, 1000));
            }
        };
        store().put(trickle, null, Long.MAX_VALUE, chunk -> {
            seen.write(chunk.bytes(), chunk.offset(), chunk.length());
            lengths.add(chunk.length());
        });
        assertThat(seen.toByteArray()).isEqualTo(data);
        assertThat(lengths).containsExactly(HashingCopy.CHUNK, HashingCopy.CHUNK, 100);
    }

    @Test
    void anObserverThatRefusesStoresNothing() {
        BlobStore store = store();
        byte[] data = bytes(HashingCopy.CHUNK + 1, 9);
        assertThatThrownBy(() -> store.put(in(data), null, Long.MAX_VALUE, chunk -> {
            throw new IllegalStateException("not this");
        })).hasMessage("not this");
        assertThat(all(store)).isEmpty();
        assertThat(leftovers()).isZero();
    }

    @Test
    void anInputThatFailsHalfWayStoresNothing() {
        BlobStore store = store();
        InputStream failing = new InputStream() {
            private int served;

            @Override
            public int read() throws IOException {
                if (served++ > HashingCopy.CHUNK + 50) {
                    throw new IOException("connection reset");
                }
                return 7;
            }
        };
        assertThatThrownBy(() -> store.put(failing, null, Long.MAX_VALUE, null)).hasMessage("connection reset");
        assertThat(all(store)).isEmpty();
        assertThat(leftovers()).isZero();
    }

    @Test
    void storesRacingTheSameBytesLeaveOneBlob() throws Exception {
        BlobStore store = store();
        byte[] data = bytes(HashingCopy.CHUNK + 1000, 30);
        int racers = 4;
        java.util.concurrent.CountDownLatch start = new java.util.concurrent.CountDownLatch(1);
        java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(racers);
        try {
            List<java.util.concurrent.Future<BlobStore.Blob>> puts = new ArrayList<>();
            for (int i = 0; i < racers; i++) {
                puts.add(pool.submit(() -> {
                    start.await();
                    return store.put(in(data), null, Long.MAX_VALUE, null);
                }));
            }
            start.countDown();
            for (var put : puts) {
                assertThat(put.get().sha256()).isEqualTo(sha256(data));
            }
        } finally {
            pool.shutdownNow();
        }
        assertThat(all(store)).hasSize(1);
        assertThat(leftovers()).isZero();
        try (InputStream read = store.open(sha256(data), 0)) {
            assertThat(read.readAllBytes()).isEqualTo(data);
        }
    }

    @Test
    void aDeleteLeavesABlobStoredAtOrAfterItsCutoff() throws IOException {
        BlobStore store = store();
        byte[] data = bytes(3000, 40);
        BlobStore.Blob blob = store.put(in(data), null, Long.MAX_VALUE, null);
        assertThat(blob.storedAt()).isEqualTo(clock.instant());
        assertThat(store.find(blob.sha256()).orElseThrow().storedAt()).isEqualTo(clock.instant());
        assertThat(store.delete(blob.sha256(), clock.instant())).isFalse();
        assertThat(store.find(blob.sha256())).isPresent();
        assertThat(store.delete(blob.sha256(), clock.instant().plusMillis(1))).isTrue();
        assertThat(store.find(blob.sha256())).isEmpty();
    }

    @Test
    void storingTheSameBytesAgainMakesTheBlobYoungForADeleteThatListedItOld() throws IOException {
        BlobStore store = store();
        byte[] data = bytes(3000, 41);
        String sha = store.put(in(data), null, Long.MAX_VALUE, null).sha256();
        clock.advance(Duration.ofHours(2));
        Instant cutoff = clock.instant().minus(Duration.ofHours(1)); // a collector's round: this blob is old
        clock.advance(Duration.ofMinutes(1));
        BlobStore.Blob again = store.put(in(data), sha, Long.MAX_VALUE, null); // then a client stores it again
        assertThat(again.storedAt()).isEqualTo(clock.instant());
        assertThat(store.delete(sha, cutoff)).as("the round's delete").isFalse();
        assertThat(store.find(sha)).get().extracting(BlobStore.Blob::storedAt).isEqualTo(clock.instant());
        assertThat(all(store)).hasSize(1);
        assertThat(leftovers()).isZero();
    }

    @Test
    void touchMakesAStoredBlobYoungAgain() throws IOException {
        BlobStore store = store();
        byte[] data = bytes(1234, 42);
        String sha = store.put(in(data), null, Long.MAX_VALUE, null).sha256();
        clock.advance(Duration.ofHours(2));
        Instant cutoff = clock.instant().minus(Duration.ofHours(1));
        BlobStore.Blob touched = store.touch(sha).orElseThrow();
        assertThat(touched.size()).isEqualTo(data.length);
        assertThat(touched.storedAt()).isEqualTo(clock.instant());
        assertThat(store.delete(sha, cutoff)).isFalse();
        assertThat(store.delete(sha, clock.instant().plusSeconds(1))).isTrue();
        assertThat(store.touch(sha)).isEmpty();
    }

    @Test
    void totalBytesCountsEachStoredBlobOnce() throws IOException {
        BlobStore store = store();
        assertThat(store.totalBytes()).isZero();
        byte[] first = bytes(HashingCopy.CHUNK + 5, 43);
        byte[] second = bytes(777, 44);
        store.put(in(first), null, Long.MAX_VALUE, null);
        store.put(in(second), null, Long.MAX_VALUE, null);
        store.put(in(first), null, Long.MAX_VALUE, null);
        assertThat(store.totalBytes()).isEqualTo(first.length + second.length);
        // Failed puts count nothing.
        assertThatThrownBy(() -> store.put(in(bytes(900, 45)), sha256(second), Long.MAX_VALUE, null))
                .isInstanceOf(BlobStore.HashMismatch.class);
        assertThatThrownBy(() -> store.put(in(bytes(900, 46)), null, 100, null)).isInstanceOf(BlobStore.TooLarge.class);
        assertThat(store.totalBytes()).isEqualTo(first.length + second.length);
        store.delete(sha256(first), ANY_AGE);
        assertThat(store.totalBytes()).isEqualTo(second.length);
    }

    @Test
    void newBytesPastTheQuotaAreNotStoredButStoredBytesStillAre() throws IOException {
        BlobStore store = store();
        byte[] first = bytes(1000, 47);
        byte[] second = bytes(1000, 48);
        store.put(in(first), null, BlobStore.Limits.NONE, null);
        BlobStore.Limits limits = new BlobStore.Limits(Long.MAX_VALUE, 1500);
        assertThatThrownBy(() -> store.put(in(second), null, limits, null))
                .isInstanceOfSatisfying(BlobStore.OverQuota.class, e -> {
                    assertThat(e.quota()).isEqualTo(1500);
                    assertThat(e.stored()).isEqualTo(1000);
                    assertThat(e.size()).isEqualTo(1000);
                });
        assertThat(store.find(sha256(second))).isEmpty();
        assertThat(store.totalBytes()).isEqualTo(1000);
        assertThat(leftovers()).isZero();
        // The same bytes again take nothing more, whatever the quota.
        assertThat(store.put(in(first), sha256(first), limits, null).sha256()).isEqualTo(sha256(first));
        // Exactly the quota is allowed.
        assertThat(store.put(in(second), null, new BlobStore.Limits(Long.MAX_VALUE, 2000), null).size())
                .isEqualTo(1000);
        assertThat(store.totalBytes()).isEqualTo(2000);
    }
}
