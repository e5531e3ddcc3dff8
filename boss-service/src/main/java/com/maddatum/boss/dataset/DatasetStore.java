package com.maddatum.boss.dataset;

import com.maddatum.boss.store.StoreDurability;
import com.mongodb.ErrorCategory;
import com.mongodb.MongoWriteException;
import com.mongodb.client.MongoCollection;
import com.mongodb.client.model.Filters;
import com.mongodb.client.model.FindOneAndUpdateOptions;
import com.mongodb.client.model.IndexOptions;
import com.mongodb.client.model.Indexes;
import com.mongodb.client.model.ReturnDocument;
import com.mongodb.client.model.Sorts;
import com.mongodb.client.model.Updates;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Date;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import org.bson.Document;
import org.springframework.data.mongodb.core.MongoTemplate;
import org.springframework.stereotype.Component;

/**
 * Datasets in two collections. {@code datasetVersions}: one document per version (name, version, sha256,
 * size, createdAt, and a CSV's columns and rows). {@code datasets}: one per name, holding the last version
 * number handed out, so that a number is never given twice, not even after the version that had it was
 * deleted (a job's log or a person's note saying "version 3" must keep meaning those bytes).
 */
@Component
public class DatasetStore {

    static final String VERSIONS = "datasetVersions";
    static final String NAMES = "datasets";

    /** What {@link #add} did: the version the bytes are under, and whether it is new. */
    record Added(DatasetVersion version, boolean created) {}

    private final MongoCollection<Document> versions;
    private final MongoCollection<Document> names;
    private final StoreDurability durability;

    DatasetStore(MongoTemplate mongo, StoreDurability durability) {
        this.versions = mongo.getCollection(VERSIONS);
        this.names = mongo.getCollection(NAMES);
        this.durability = durability;
        // version(name, N) (GET ?version=, DELETE ?version=). Unique: two uploads can never be given the same
        // number, and a unique index matched on all its keys is the one kind the embedded server uses. On a real
        // MongoDB it also serves latest(name) ({name} sorted by version, newest first: every job submitted with
        // a dataFileName); the embedded server scans the versions for that, which are few.
        versions.createIndex(Indexes.ascending(DatasetVersion.NAME, DatasetVersion.VERSION),
                new IndexOptions().unique(true).name("versionOf_name_version_unique"));
        // add() and bySha256(name, sha256) (GET ?sha256=): the same bytes under one name are one version,
        // also when two uploads of them race.
        versions.createIndex(Indexes.ascending(DatasetVersion.NAME, DatasetVersion.SHA256),
                new IndexOptions().unique(true).name("sameBytes_name_sha256_unique"));
        if (!durability.isEmbedded()) {
            // referenced(): the blobs datasets refer to, for the blob collector. (The embedded server ignores
            // non-unique indexes and would rebuild this one at every start; its collections are small.)
            versions.createIndex(Indexes.ascending(DatasetVersion.SHA256), new IndexOptions().name("blobReferences_sha256"));
        }
    }

    /**
     * Records the bytes as the next version of {@code name}, or answers the version that already has these
     * bytes. The number is taken first (one conditional write on the name's document); when the insert then
     * finds the same bytes stored by a racing upload, that number is left unused.
     */
    Added add(String name, String sha256, long size, Instant now, CsvScan.Summary csv) {
        Optional<DatasetVersion> same = bySha256(name, sha256);
        if (same.isPresent()) {
            return new Added(same.get(), false);
        }
        Document counter = names.findOneAndUpdate(Filters.eq("_id", name),
                Updates.combine(Updates.inc("lastVersion", 1), Updates.setOnInsert("createdAt", Date.from(now))),
                new FindOneAndUpdateOptions().upsert(true).returnDocument(ReturnDocument.AFTER));
        int number = counter.getInteger("lastVersion");
        DatasetVersion version = new DatasetVersion(name, number, sha256, size, now,
                csv == null ? null : csv.columns(), csv == null ? null : csv.rows());
        try {
            versions.insertOne(version.toDocument());
        } catch (MongoWriteException e) {
            if (e.getError().getCategory() != ErrorCategory.DUPLICATE_KEY) {
                throw e;
            }
            return new Added(bySha256(name, sha256).orElseThrow(() -> e), false);
        }
        durability.sync();
        return new Added(version, true);
    }

    /** The newest version of the dataset; empty when there is no such dataset (or all its versions were deleted). */
    public Optional<DatasetVersion> latest(String name) {
        return Optional.ofNullable(versions.find(Filters.eq(DatasetVersion.NAME, name))
                .sort(Sorts.descending(DatasetVersion.VERSION)).limit(1).first()).map(DatasetVersion::fromDocument);
    }

    Optional<DatasetVersion> version(String name, int version) {
        return Optional.ofNullable(versions.find(Filters.and(Filters.eq(DatasetVersion.NAME, name),
                Filters.eq(DatasetVersion.VERSION, version))).first()).map(DatasetVersion::fromDocument);
    }

    Optional<DatasetVersion> bySha256(String name, String sha256) {
        return Optional.ofNullable(versions.find(Filters.and(Filters.eq(DatasetVersion.NAME, name),
                Filters.eq(DatasetVersion.SHA256, sha256))).first()).map(DatasetVersion::fromDocument);
    }

    /** Every version of the dataset, newest first. */
    List<DatasetVersion> versions(String name) {
        List<DatasetVersion> found = new ArrayList<>();
        versions.find(Filters.eq(DatasetVersion.NAME, name)).sort(Sorts.descending(DatasetVersion.VERSION))
                .forEach(d -> found.add(DatasetVersion.fromDocument(d)));
        return found;
    }

    /** The names that have at least one version, sorted. */
    List<String> names() {
        Set<String> sorted = new TreeSet<>();
        versions.distinct(DatasetVersion.NAME, String.class).forEach(sorted::add);
        return List.copyOf(sorted);
    }

    boolean delete(String name, int version) {
        boolean deleted = versions.deleteOne(Filters.and(Filters.eq(DatasetVersion.NAME, name),
                Filters.eq(DatasetVersion.VERSION, version))).getDeletedCount() > 0;
        if (deleted) {
            durability.sync();
        }
        return deleted;
    }

    /** The hashes of every version of every dataset. */
    Set<String> referenced() {
        Set<String> hashes = new HashSet<>();
        versions.distinct(DatasetVersion.SHA256, String.class).forEach(hashes::add);
        return hashes;
    }
}
