package com.maddatum.boss.blob;

import com.mongodb.ErrorCategory;
import com.mongodb.MongoGridFSException;
import com.mongodb.MongoWriteException;
import com.mongodb.client.MongoCollection;
import com.mongodb.client.MongoDatabase;
import com.mongodb.client.gridfs.GridFSBucket;
import com.mongodb.client.gridfs.GridFSBuckets;
import com.mongodb.client.gridfs.GridFSDownloadStream;
import com.mongodb.client.gridfs.GridFSUploadStream;
import com.mongodb.client.gridfs.model.GridFSFile;
import com.mongodb.client.gridfs.model.GridFSUploadOptions;
import com.mongodb.client.model.Accumulators;
import com.mongodb.client.model.Aggregates;
import com.mongodb.client.model.Filters;
import com.mongodb.client.model.FindOneAndDeleteOptions;
import com.mongodb.client.model.FindOneAndUpdateOptions;
import com.mongodb.client.model.IndexOptions;
import com.mongodb.client.model.Indexes;
import com.mongodb.client.model.ReturnDocument;
import com.mongodb.client.model.Updates;
import java.io.IOException;
import java.io.InputStream;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Date;
import java.util.Iterator;
import java.util.List;
import java.util.Optional;
import java.util.function.Consumer;
import org.bson.BsonObjectId;
import org.bson.BsonValue;
import org.bson.Document;
import org.bson.types.ObjectId;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Blobs in GridFS, bucket {@code blobs}, one file per blob whose {@code filename} is its SHA-256: MongoDB's
 * own chunked file store, which a replica set replicates and a sharded cluster spreads, so every Boss
 * replica sees every blob. A put uploads under a temporary name while hashing, and renames the file to its
 * hash only once the hash is known (and matches what was expected); a unique index on {@code filename}
 * makes that rename the one place where two replicas storing the same bytes at once meet, and the loser's
 * copy is deleted.
 *
 * <p>A blob's {@code storedAt} is its file's {@code uploadDate}, set from the Boss's clock when it is named or
 * touched. The collector's delete removes the file document only while that date is older than its cutoff, in
 * one conditional write, so it cannot remove a blob a put has just answered for.
 */
final class GridFsBlobStore implements BlobStore {

    private static final Logger log = LoggerFactory.getLogger(GridFsBlobStore.class);

    static final String BUCKET = "blobs";
    /** Uploads in progress are named this plus their id: never a hash, so no reader takes them for a blob. */
    static final String UPLOADING = "uploading-";
    /** The names of stored blobs: a hash. */
    private static final String NAMED = "^[0-9a-f]{64}$";
    /**
     * A put whose file document exists but is not renamed yet is seconds old at most; one whose chunks exist
     * with no file document may still be streaming on another replica. Older than these, they are a dead
     * Boss's, and a start removes them.
     */
    static final Duration UNNAMED_AFTER = Duration.ofHours(1);
    static final Duration ORPHAN_CHUNKS_AFTER = Duration.ofHours(24);

    private final GridFSBucket bucket;
    private final MongoCollection<Document> files;
    private final MongoCollection<Document> chunks;
    private final Clock clock;

    GridFsBlobStore(MongoDatabase database, Clock clock) {
        this.bucket = GridFSBuckets.create(database, BUCKET);
        this.files = database.getCollection(BUCKET + ".files");
        this.chunks = database.getCollection(BUCKET + ".chunks");
        this.clock = clock;
        // find(), open(), the rename that names a put: {filename: sha256}. Unique: a blob is stored once even
        // when two replicas finish storing the same bytes together, and unique indexes are the ones the
        // embedded server uses for exact lookups. (GridFS makes its own {filename, uploadDate} and
        // {files_id, n} indexes on the first upload.)
        files.createIndex(Indexes.ascending("filename"),
                new IndexOptions().unique(true).name("blobByHash_filename_unique"));
        sweepDeadUploads();
    }

    private void sweepDeadUploads() {
        Instant now = clock.instant();
        int unnamed = 0;
        for (Document stale : files.find(Filters.regex("filename", "^" + UPLOADING)).projection(new Document("_id", 1))) {
            if (stale.get("_id") instanceof ObjectId id && id.getDate().toInstant().isBefore(now.minus(UNNAMED_AFTER))) {
                deleteQuietly(new BsonObjectId(id));
                unnamed++;
            }
        }
        int orphans = 0;
        for (ObjectId id : chunks.distinct("files_id", ObjectId.class)) {
            if (id.getDate().toInstant().isBefore(now.minus(ORPHAN_CHUNKS_AFTER))
                    && files.find(Filters.eq("_id", id)).first() == null) {
                chunks.deleteMany(Filters.eq("files_id", id));
                orphans++;
            }
        }
        if (unnamed + orphans > 0) {
            log.info("unfinished blob uploads removed unnamed={} orphanedChunks={}", unnamed, orphans);
        }
    }

    @Override
    public Blob put(InputStream in, String expectedSha256, Limits limits, Consumer<ChunkView> onChunk)
            throws IOException {
        BsonObjectId id = new BsonObjectId(new ObjectId());
        HashingCopy.Copied copied;
        GridFSUploadStream upload = bucket.openUploadStream(id, UPLOADING + id.getValue().toHexString(),
                new GridFSUploadOptions().chunkSizeBytes(HashingCopy.CHUNK));
        try {
            copied = HashingCopy.copy(in, limits.maxBytes(), onChunk, upload::write);
        } catch (IOException | RuntimeException e) {
            upload.abort(); // deletes the chunks written so far
            throw e;
        }
        boolean named = false;
        try {
            upload.close(); // writes the file document, under the temporary name
            HashingCopy.checkExpected(expectedSha256, copied.sha256());
            Optional<Blob> existing = touch(copied.sha256());
            if (existing.isPresent()) {
                return existing.get(); // made young again; this copy goes
            }
            // New bytes (or a blob deleted since it was touched last: this copy takes its place).
            long stored = totalBytes();
            if (stored + copied.size() > limits.quotaBytes()) {
                throw new OverQuota(limits.quotaBytes(), stored, copied.size());
            }
            try {
                // uploadDate is the Boss's clock, as touch() and the collector's cutoff are.
                files.updateOne(Filters.eq("_id", id), Updates.combine(Updates.set("filename", copied.sha256()),
                        Updates.set("uploadDate", Date.from(clock.instant()))));
                named = true;
            } catch (MongoWriteException e) {
                if (e.getError().getCategory() != ErrorCategory.DUPLICATE_KEY) {
                    throw e;
                }
                // Another put of the same bytes was named first: that copy is the blob.
                return touch(copied.sha256()).orElseThrow(() -> e);
            }
            return find(copied.sha256()).orElseThrow(() -> new IOException("blob " + copied.sha256()
                    + " vanished right after it was stored"));
        } finally {
            if (!named) {
                deleteQuietly(id);
            }
        }
    }

    /**
     * As the disk store does: a put of stored bytes makes the blob young again for a collector's grace. One
     * conditional write: when it matches nothing, a collector deleted the blob, and the caller stores its own.
     */
    @Override
    public Optional<Blob> touch(String sha256) {
        if (!HashingCopy.isSha256(sha256)) {
            return Optional.empty();
        }
        Instant now = clock.instant();
        Document touched = files.findOneAndUpdate(Filters.eq("filename", sha256),
                Updates.set("uploadDate", Date.from(now)),
                new FindOneAndUpdateOptions().projection(new Document("length", 1))
                        .returnDocument(ReturnDocument.AFTER));
        return touched == null ? Optional.empty()
                : Optional.of(new Blob(sha256, ((Number) touched.get("length")).longValue(), now));
    }

    private void deleteQuietly(BsonValue id) {
        try {
            bucket.delete(id);
        } catch (MongoGridFSException noFileDocument) {
            // The driver removes the chunks before it finds no file document; nothing else to remove.
        }
    }

    @Override
    public Optional<Blob> find(String sha256) {
        return file(sha256).map(GridFsBlobStore::describe);
    }

    private Optional<GridFSFile> file(String sha256) {
        if (!HashingCopy.isSha256(sha256)) {
            return Optional.empty();
        }
        return Optional.ofNullable(bucket.find(Filters.eq("filename", sha256)).first());
    }

    @Override
    public InputStream open(String sha256, long offset) throws IOException {
        GridFSFile file = file(sha256).orElseThrow(() -> new Missing(sha256));
        if (offset < 0 || offset > file.getLength()) {
            throw new IllegalArgumentException("offset " + offset + " is outside the blob's " + file.getLength()
                    + " bytes");
        }
        GridFSDownloadStream stream;
        try {
            // Two chunks per reply: the driver's default batch would hold up to 16 MiB of chunks per download.
            stream = bucket.openDownloadStream(file.getId()).batchSize(2);
        } catch (MongoGridFSException deletedMeanwhile) {
            throw new Missing(sha256);
        }
        // skip() starts reading at the chunk holding the offset: the chunks before it are never fetched.
        long skipped = 0;
        while (skipped < offset) {
            long step = stream.skip(offset - skipped);
            if (step <= 0) {
                stream.close();
                throw new IOException("blob " + sha256 + " ended before offset " + offset);
            }
            skipped += step;
        }
        return stream;
    }

    /**
     * The file document goes first, in one write conditional on its age, so a put or a touch that made the
     * blob young meanwhile keeps it; its chunks follow, by the document's id.
     */
    @Override
    public boolean delete(String sha256, Instant storedBefore) {
        if (!HashingCopy.isSha256(sha256)) {
            return false;
        }
        Document deleted = files.findOneAndDelete(Filters.and(Filters.eq("filename", sha256),
                Filters.lt("uploadDate", Date.from(storedBefore))),
                new FindOneAndDeleteOptions().projection(new Document("_id", 1)));
        if (deleted == null) {
            return false;
        }
        chunks.deleteMany(Filters.eq("files_id", deleted.get("_id")));
        return true;
    }

    /** Summed by the database: only named blobs, not the uploads streaming under a temporary name. */
    @Override
    public long totalBytes() {
        Document sum = files.aggregate(List.of(
                Aggregates.match(Filters.regex("filename", NAMED)),
                Aggregates.group(null, Accumulators.sum("total", "$length")))).first();
        return sum == null ? 0 : ((Number) sum.get("total")).longValue();
    }

    /** Streamed from the store: only the files' documents are read, never a chunk. */
    @Override
    public Iterable<Blob> all() {
        return () -> new Iterator<>() {
            private final Iterator<GridFSFile> named = bucket.find(Filters.regex("filename", NAMED))
                    .iterator();

            @Override
            public boolean hasNext() {
                return named.hasNext();
            }

            @Override
            public Blob next() {
                return describe(named.next());
            }
        };
    }

    private static Blob describe(GridFSFile file) {
        return new Blob(file.getFilename(), file.getLength(), file.getUploadDate().toInstant());
    }

    /** For tests: the files GridFS holds, named or not. */
    List<String> fileNames() {
        List<String> names = new ArrayList<>();
        files.find().forEach(d -> names.add(d.getString("filename")));
        return names;
    }
}
