package com.maddatum.boss.blob;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.maddatum.boss.support.TestProperties;
import com.maddatum.testsupport.MutableClock;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The collector over the store the embedded Boss runs, with a clock the test moves. */
class BlobCollectorTest {

    @TempDir
    Path dir;

    private final MutableClock clock = MutableClock.stopped();
    private final Set<String> referenced = new HashSet<>();
    private DiskBlobStore store;
    private BlobCollector collector;

    @BeforeEach
    void store() {
        store = new DiskBlobStore(dir.resolve("blobs"), clock);
        collector = collector(List.of(() -> Set.copyOf(referenced)));
    }

    private BlobCollector collector(List<BlobReferences> features) {
        return new BlobCollector(store, features, clock, TestProperties.with(Map.of("boss.blob-collection.grace", "1h")));
    }

    private String blob(String text) {
        return put(text.getBytes(StandardCharsets.UTF_8), null).sha256();
    }

    private BlobStore.Blob put(byte[] bytes, String sha256) {
        try {
            return store.put(new ByteArrayInputStream(bytes), sha256, Long.MAX_VALUE, null);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Test
    void deletesAnOldBlobNothingRefersToAndKeepsTheRest() throws Exception {
        String oldUnreferenced = blob("pruned model");
        String oldReferenced = blob("kept model");
        referenced.add(oldReferenced);
        clock.advance(Duration.ofMinutes(61));
        String young = blob("uploaded for an outcome still on its way");

        BlobCollector.Collected collected = collector.collect();

        assertThat(collected.blobs()).isEqualTo(1);
        assertThat(collected.bytes()).isEqualTo("pruned model".length());
        assertThat(store.find(oldUnreferenced)).isEmpty();
        assertThat(store.find(oldReferenced)).isPresent();
        assertThat(store.find(young)).isPresent();
        assertThat(store.totalBytes()).isEqualTo("kept model".length() + "uploaded for an outcome still on its way".length());
    }

    @Test
    void aBlobJustInsideTheGraceSurvives() throws Exception {
        String blob = blob("fresh");
        clock.advance(Duration.ofMinutes(59));
        assertThat(collector.collect().blobs()).isZero();
        assertThat(store.find(blob)).isPresent();
        clock.advance(Duration.ofMinutes(2));
        assertThat(collector.collect().blobs()).isEqualTo(1);
        assertThat(store.find(blob)).isEmpty();
    }

    /**
     * The round lists X as old; a Worker then uploads X again and is told it is stored; the outcome naming X
     * is not accepted yet when the round asks for references. The round must not delete what was just
     * acknowledged.
     */
    @Test
    void aBlobStoredAgainWhileTheRoundRunsIsKept() throws Exception {
        byte[] model = "the same model.pt a re-run makes again".getBytes(StandardCharsets.UTF_8);
        String sha = put(model, null).sha256();
        clock.advance(Duration.ofHours(3));
        BlobStore.Blob[] acknowledged = new BlobStore.Blob[1];
        BlobCollector round = collector(List.of(() -> {
            acknowledged[0] = put(model, sha); // POST /blobs?sha256=X answered while the round runs
            return Set.of(); // the outcome naming X arrives a moment later
        }));

        assertThat(round.collect().blobs()).isZero();

        assertThat(acknowledged[0].storedAt()).isEqualTo(clock.instant());
        assertThat(store.find(sha)).as("a blob the Boss just acknowledged is still stored").isPresent();
    }

    @Test
    void aFeatureThatCannotSayWhatItNeedsStopsTheRound() {
        String blob = blob("maybe needed");
        clock.advance(Duration.ofHours(2));
        BlobCollector failing = new BlobCollector(store, List.of(() -> Set.of(), () -> {
            throw new IllegalStateException("store down");
        }), clock, TestProperties.defaults());
        assertThatThrownBy(failing::collect).hasMessageContaining("store down");
        assertThat(store.find(blob)).isPresent();
    }

    @Test
    void theDefaultGraceIsAnHour() {
        assertThat(TestProperties.defaults().blobCollection().grace()).isEqualTo(Duration.ofHours(1));
    }
}
