package com.maddatum.boss.blob;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.maddatum.boss.support.TestProperties;
import com.maddatum.testsupport.MutableClock;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

class BlobCollectorTest {

    private final MutableClock clock = MutableClock.stopped();
    private final InMemoryBlobStore store = new InMemoryBlobStore(clock);
    private final Set<String> referenced = new HashSet<>();
    private final BlobCollector collector = new BlobCollector(store, List.of(() -> Set.copyOf(referenced)), clock,
            TestProperties.with(Map.of("boss.blob-collection.grace", "1h")));

    private String blob(String text) {
        return store.putAt(text.getBytes(StandardCharsets.UTF_8), clock.instant());
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
