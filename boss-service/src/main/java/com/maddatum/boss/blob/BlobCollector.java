package com.maddatum.boss.blob;

import com.maddatum.boss.config.BossProperties;
import java.io.IOException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.scheduling.annotation.Scheduled;
import org.springframework.stereotype.Component;

/**
 * Deletes the blobs that no {@link BlobReferences} names and that are older than
 * {@code boss.blob-collection.grace}. The grace is what makes an upload safe before anything refers to it:
 * a Worker uploads a job's artifacts, then reports the outcome that names them, and until the Boss accepts
 * that outcome the blobs are nobody's.
 *
 * <p>The old blobs are listed before the references are asked for, so a reference recorded before the
 * features answer is seen. A blob that becomes needed after that (an upload of its bytes again, answered
 * "stored", for an outcome the Boss has not accepted yet) is made young by that upload, and the delete is
 * conditional on the age the round listed it by ({@link BlobStore#delete(String, Instant)}): the round leaves
 * it. A feature that fails to say what it refers to stops the whole round: deleting on half the answer could
 * delete what the other half needed.
 */
@Component
class BlobCollector {

    private static final Logger log = LoggerFactory.getLogger(BlobCollector.class);

    private final BlobStore store;
    private final List<BlobReferences> references;
    private final Clock clock;
    private final BossProperties.BlobCollection settings;

    BlobCollector(BlobStore store, List<BlobReferences> references, Clock clock, BossProperties properties) {
        this.store = store;
        this.references = references;
        this.clock = clock;
        this.settings = properties.blobCollection();
    }

    /** What a round did: blobs deleted and their bytes. */
    record Collected(int blobs, long bytes) {}

    @Scheduled(fixedDelayString = "${boss.blob-collection.interval:10m}",
            initialDelayString = "${boss.blob-collection.interval:10m}")
    void scheduled() {
        if (settings.enabled()) {
            try {
                collect();
            } catch (IOException | RuntimeException e) {
                log.warn("blob collection failed error={}", e.toString());
            }
        }
    }

    Collected collect() throws IOException {
        return collect(settings.grace());
    }

    Collected collect(Duration grace) throws IOException {
        Instant cutoff = clock.instant().minus(grace);
        List<BlobStore.Blob> old = new ArrayList<>();
        for (BlobStore.Blob blob : store.all()) {
            // A blob whose age is unknown is never taken for an old one.
            if (blob.storedAt() != null && blob.storedAt().isBefore(cutoff)) {
                old.add(blob);
            }
        }
        if (old.isEmpty()) {
            return new Collected(0, 0);
        }
        Set<String> referenced = new HashSet<>();
        for (BlobReferences feature : references) {
            referenced.addAll(feature.referenced());
        }
        int deleted = 0;
        long bytes = 0;
        for (BlobStore.Blob blob : old) {
            if (!referenced.contains(blob.sha256()) && store.delete(blob.sha256(), cutoff)) {
                deleted++;
                bytes += blob.size();
                log.info("blob collected sha256={} size={} storedAt={}", blob.sha256(), blob.size(), blob.storedAt());
            }
        }
        if (deleted > 0) {
            log.info("blob collection done deleted={} bytes={} referenced={}", deleted, bytes, referenced.size());
        }
        return new Collected(deleted, bytes);
    }
}
