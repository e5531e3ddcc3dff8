package com.maddatum.boss.dataset;

import com.maddatum.boss.blob.BlobStore;
import com.maddatum.boss.blob.ClientBody;
import com.maddatum.boss.blob.UploadLimits;
import com.maddatum.boss.web.ApiProblem;
import com.maddatum.boss.web.Names;
import java.io.IOException;
import java.io.InputStream;
import java.io.PushbackInputStream;
import java.time.Clock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.stereotype.Service;

/**
 * An upload becomes a dataset version: the body (raw, or the multipart field {@code file}) is streamed into
 * the blob store while its hash, its size and, for CSV, its columns and rows are learnt on the way; only
 * then is the version recorded. Nothing is held in memory but a chunk, and nothing is spooled but the one
 * temporary copy the blob store renames into place.
 */
@Service
class DatasetUploads {

    private static final Logger log = LoggerFactory.getLogger(DatasetUploads.class);

    /** The multipart field that holds the file ({@code curl -F file=@wine.csv}). */
    static final String FILE_FIELD = "file";
    /**
     * What a multipart body may carry beside the file (boundaries, part headers, small fields): its
     * Content-Length is the file's plus this at most, for the check made before a byte is read.
     */
    static final long MULTIPART_ALLOWANCE = 64 * 1024;

    record Uploaded(DatasetVersion version, boolean created) {}

    private final UploadLimits limits;
    private final DatasetStore store;
    private final Clock clock;

    DatasetUploads(UploadLimits limits, DatasetStore store, Clock clock) {
        this.limits = limits;
        this.store = store;
        this.clock = clock;
    }

    Uploaded upload(String name, String contentType, long declaredLength, InputStream requestBody) throws IOException {
        String boundary;
        try {
            boundary = MultipartReader.boundaryOf(contentType);
        } catch (MultipartReader.Malformed e) {
            throw ApiProblem.invalidHeader("Content-Type", e.getMessage() + ".");
        }
        boolean multipart = boundary != null;
        String field = multipart ? FILE_FIELD : "body";
        if (!multipart || name != null) {
            checkName(name, null);
        }
        limits.checkDeclared(multipart ? declaredLength - MULTIPART_ALLOWANCE : declaredLength, field);
        InputStream body = new ClientBody(requestBody);
        try {
            if (multipart) {
                MultipartReader.Part part = filePart(new MultipartReader(body, boundary));
                if (name == null) {
                    name = checkName(part.fileName(), part.fileName() == null ? null : "the file's own name");
                }
                body = part.body();
            }
            return store(name, field, body);
        } catch (MultipartReader.Malformed e) {
            throw ApiProblem.invalidField("body", "The multipart body is malformed: " + e.getMessage() + ".");
        }
    }

    private static MultipartReader.Part filePart(MultipartReader reader) throws IOException {
        MultipartReader.Part part;
        while ((part = reader.next()) != null) {
            if (FILE_FIELD.equals(part.name())) {
                return part;
            }
        }
        throw ApiProblem.invalidField(FILE_FIELD, "The multipart body has no field named 'file'; send the file as "
                + "curl -F file=@wine.csv, or as the raw body (curl --data-binary @wine.csv).");
    }

    private Uploaded store(String name, String field, InputStream content) throws IOException {
        PushbackInputStream peeked = new PushbackInputStream(content, 1);
        int first = peeked.read();
        if (first < 0) {
            throw ApiProblem.invalidField(field, "The upload of '" + name + "' is empty; a dataset needs at least one "
                    + "byte.");
        }
        peeked.unread(first);
        CsvScan csv = new CsvScan(name);
        BlobStore.Blob blob;
        try {
            blob = limits.store(peeked, null, csv, field);
        } catch (CsvScan.NotText e) {
            throw ApiProblem.invalidField(field, "'" + name + "' is named .csv but is not text (its first MiB holds a "
                    + "NUL byte); nothing was stored. Upload the CSV file itself, or give binary data another name.");
        }
        DatasetStore.Added added = store.add(name, blob.sha256(), blob.size(), clock.instant(), csv.summary());
        DatasetVersion version = added.version();
        log.info("dataset uploaded name={} version={} sha256={} size={} new={} rows={}", name, version.version(),
                version.sha256(), version.size(), added.created(), version.rows());
        return new Uploaded(version, added.created());
    }

    /** {@code from}: where the name came from when not from {@code ?name=}, for the message. */
    static String checkName(String name, String from) {
        if (name == null || name.isEmpty()) {
            throw ApiProblem.invalidField("name", "name is required: POST /datasets?name=wine.csv (the file name a "
                    + "job's dataFileName names).");
        }
        // A job's dataFileName names it: the name a script opens the data by.
        if (!Names.isPlainFileName(name)) {
            throw ApiProblem.invalidField("name", "name" + (from == null ? "" : " (" + from + ")") + " must be "
                    + Names.PLAIN_FILE_NAME_RULE + ", e.g. wine.csv.");
        }
        return name;
    }
}
