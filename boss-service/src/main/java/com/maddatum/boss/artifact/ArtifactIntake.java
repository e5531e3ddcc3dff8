package com.maddatum.boss.artifact;

import com.maddatum.boss.blob.BlobStore;
import com.maddatum.boss.web.Names;
import java.time.Clock;
import java.time.Instant;
import java.util.Date;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.bson.Document;
import org.bson.types.ObjectId;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.stereotype.Service;

/**
 * Attaches the artifacts an accepted outcome names to its job. The outcome is already accepted when this
 * runs, so nothing here refuses it: an entry with a bad name or hash, or whose blob was never uploaded, is
 * recorded as skipped with the reason, beside the files the Worker itself skipped. Recording is by name per
 * job, so a re-delivered outcome (the Worker did not hear our answer) records nothing twice.
 */
@Service
public class ArtifactIntake {

    private static final Logger log = LoggerFactory.getLogger(ArtifactIntake.class);
    /** A Worker's reason is shown to people: long enough for an error message, not for a log. */
    private static final int MAX_REASON = 500;

    /**
     * What an accepted outcome says about its job's files: {@code artifacts} and {@code skippedArtifacts}
     * as the Worker sent them (see the README's "Artifacts"), unchecked.
     *
     * @param loss the outcome's loss when its job finished successfully (what retention ranks by), else null
     */
    public record Delivery(String jobId, String projectName, ObjectId outcomeId, Double loss, Object artifacts,
            Object skippedArtifacts) {}

    /** What one delivery added: names stored, names recorded as skipped, and the stored bytes. */
    public record Attached(int stored, int skipped, long bytes) {}

    private final ArtifactStore store;
    private final BlobStore blobs;
    private final ArtifactRetention retention;
    private final Clock clock;

    ArtifactIntake(ArtifactStore store, BlobStore blobs, ArtifactRetention retention, Clock clock) {
        this.store = store;
        this.blobs = blobs;
        this.retention = retention;
        this.clock = clock;
    }

    public Attached accept(Delivery delivery) {
        if (delivery.artifacts() == null && delivery.skippedArtifacts() == null) {
            return new Attached(0, 0, 0);
        }
        Instant now = clock.instant();
        int stored = 0;
        int skipped = 0;
        long bytes = 0;
        for (Object entry : entries(delivery.artifacts(), "artifacts", delivery.jobId())) {
            Document record = artifact(entry, delivery, now);
            if (store.insertIfAbsent(record)) {
                if (record.containsKey(ArtifactRecord.SKIPPED)) {
                    skipped++;
                    log.warn("artifact skipped job={} name={} reason={}", delivery.jobId(),
                            record.get(ArtifactRecord.NAME), record.get(ArtifactRecord.SKIPPED));
                } else {
                    stored++;
                    bytes += ((Number) record.get(ArtifactRecord.SIZE)).longValue();
                }
            }
        }
        for (Object entry : entries(delivery.skippedArtifacts(), "skippedArtifacts", delivery.jobId())) {
            if (store.insertIfAbsent(skippedByWorker(entry, delivery, now))) {
                skipped++;
            }
        }
        if (stored + skipped > 0) {
            store.sync();
            log.info("artifacts recorded job={} project={} stored={} skipped={} bytes={}", delivery.jobId(),
                    delivery.projectName(), stored, skipped, bytes);
        }
        if (stored > 0) {
            retention.soon(delivery.projectName());
        }
        return new Attached(stored, skipped, bytes);
    }

    private static List<?> entries(Object value, String field, String jobId) {
        if (value == null) {
            return List.of();
        }
        if (!(value instanceof List<?> list)) {
            // Nothing in it can be named, so nothing can be recorded; the outcome keeps what was sent.
            log.warn("outcome field ignored job={} field={} reason=not an array", jobId, field);
            return List.of();
        }
        return list;
    }

    /** The record for one entry of {@code artifacts}: stored, or skipped with the reason the Boss found. */
    private Document artifact(Object entry, Delivery delivery, Instant now) {
        Map<?, ?> fields = entry instanceof Map<?, ?> map ? map : Map.of();
        Object rawName = fields.get("name");
        String name = rawName instanceof String s ? s : null;
        String nameProblem = ArtifactNames.artifactNameProblem(name);
        if (nameProblem != null) {
            return skipped(delivery, rawName == null ? "(no name)" : ArtifactNames.printable(rawName),
                    sizeOf(fields.get("size")), "refused: " + nameProblem, now);
        }
        Long size = sizeOf(fields.get("size"));
        String sha256 = Names.sha256(fields.get("sha256"));
        if (sha256 == null) {
            return skipped(delivery, name, size, "refused: sha256 is not 64 hex digits", now);
        }
        if (size == null) {
            return skipped(delivery, name, null, "refused: size is not a whole number of bytes", now);
        }
        Optional<BlobStore.Blob> blob = blobs.find(sha256);
        if (blob.isEmpty()) {
            return skipped(delivery, name, size, "no blob " + sha256 + " was uploaded", now);
        }
        if (blob.get().size() != size) {
            return skipped(delivery, name, size, "the uploaded blob has " + blob.get().size() + " bytes, not " + size,
                    now);
        }
        Document record = base(delivery, name, now)
                .append(ArtifactRecord.SHA256, sha256)
                .append(ArtifactRecord.SIZE, size)
                .append(ArtifactRecord.CONTENT_TYPE, ArtifactNames.contentType(name))
                .append(ArtifactRecord.PRUNED, false);
        if (delivery.loss() != null) {
            record.append(ArtifactRecord.LOSS, delivery.loss());
        }
        return record;
    }

    private Document skippedByWorker(Object entry, Delivery delivery, Instant now) {
        Map<?, ?> fields = entry instanceof Map<?, ?> map ? map : Map.of();
        Object rawName = fields.get("name");
        String name = rawName == null ? "(no name)" : ArtifactNames.printable(rawName);
        Object reason = fields.get("reason");
        String why = reason instanceof String text && !text.isBlank() ? ArtifactNames.printable(cap(text))
                : "skipped by the Worker";
        return skipped(delivery, name, sizeOf(fields.get("size")), why, now);
    }

    private static Document skipped(Delivery delivery, String name, Long size, String reason, Instant now) {
        Document record = base(delivery, name, now).append(ArtifactRecord.SKIPPED, reason);
        if (size != null) {
            record.append(ArtifactRecord.SIZE, size);
        }
        return record;
    }

    private static Document base(Delivery delivery, String name, Instant now) {
        Document record = new Document(ArtifactRecord.ID, ArtifactRecord.id(delivery.jobId(), name))
                .append(ArtifactRecord.JOB_ID, delivery.jobId())
                .append(ArtifactRecord.NAME, name)
                .append(ArtifactRecord.CREATED_AT, Date.from(now))
                .append(ArtifactRecord.OUTCOME_ID, delivery.outcomeId());
        if (delivery.projectName() != null) {
            record.append(ArtifactRecord.PROJECT_NAME, delivery.projectName());
        }
        return record;
    }

    private static Long sizeOf(Object value) {
        boolean whole = value instanceof Integer || value instanceof Long;
        return whole && ((Number) value).longValue() >= 0 ? ((Number) value).longValue() : null;
    }

    private static String cap(String text) {
        return text.length() > MAX_REASON ? text.substring(0, MAX_REASON) + "..." : text;
    }
}
