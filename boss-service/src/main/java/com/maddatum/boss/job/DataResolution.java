package com.maddatum.boss.job;

import com.maddatum.boss.blob.BlobStore;
import com.maddatum.boss.dataset.DatasetStore;
import com.maddatum.boss.dataset.DatasetVersion;
import com.maddatum.boss.web.ApiProblem;
import com.maddatum.boss.web.Names;
import com.maddatum.boss.worker.WorkerRegistry;
import java.util.Optional;
import java.util.Set;
import org.bson.Document;
import org.springframework.stereotype.Component;

/**
 * What a job's data is, settled at submit so that it never changes under the job: {@code dataSha256} pinned
 * by the submitter (it must name stored bytes), or the latest version of the dataset {@code dataFileName}
 * names, recorded in the job so that a re-run trains on the same bytes after a new version is uploaded.
 * A {@code dataFileName} that is neither a dataset nor a file any Worker advertises is refused now, rather
 * than failing minutes later on a Worker; but only when that can be known: when at least one Worker is
 * registered and every registered Worker says what files it has (the seed's Worker says nothing, a Worker
 * whose list is full may have cut it short, and jobs may be submitted before any Worker starts).
 */
@Component
class DataResolution {

    static final String DATA_SHA256 = "dataSha256";
    static final String DATA_FILE_NAME = "dataFileName";

    private final DatasetStore datasets;
    private final BlobStore blobs;
    private final WorkerRegistry workers;

    DataResolution(DatasetStore datasets, BlobStore blobs, WorkerRegistry workers) {
        this.datasets = datasets;
        this.blobs = blobs;
        this.workers = workers;
    }

    /** Sets (or checks) the job's {@code dataSha256}; throws naming the field at fault. */
    void resolve(Document job) {
        Object pinned = job.get(DATA_SHA256);
        if (pinned != null) {
            job.put(DATA_SHA256, checkPinned(pinned));
            return;
        }
        if (!(job.get(DATA_FILE_NAME) instanceof String name)) {
            return; // no data, or not a string: JobRules has refused the latter already
        }
        Optional<DatasetVersion> dataset = datasets.latest(name);
        if (dataset.isPresent()) {
            job.put(DATA_SHA256, dataset.get().sha256());
            return;
        }
        Optional<Set<String>> advertised = workers.advertisedDataFiles();
        if (advertised.isPresent() && !advertised.get().contains(name)) {
            throw ApiProblem.invalidField(DATA_FILE_NAME, "dataFileName '" + name + "' is not a dataset and no "
                    + "registered Worker has it in its data directory. Upload it first (curl --data-binary @" + name
                    + " 'http://BOSS/datasets?name=" + name + "') or copy it to the Workers' data directory.");
        }
    }

    private String checkPinned(Object pinned) {
        String sha = Names.sha256(pinned);
        if (sha == null) {
            throw ApiProblem.invalidField(DATA_SHA256, "dataSha256 must be the SHA-256 of stored data, 64 hex "
                    + "digits (a dataset version's sha256).");
        }
        if (blobs.find(sha).isEmpty()) {
            throw ApiProblem.invalidField(DATA_SHA256, "dataSha256 " + sha + " names no stored data; upload it with "
                    + "POST /datasets (GET /datasets/{name} lists each version's sha256).");
        }
        return sha;
    }
}
