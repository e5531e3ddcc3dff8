package com.maddatum.boss.dataset;

import java.util.Optional;

/**
 * Whether a queued or running job's data is these bytes. Datasets ask before a version is deleted; the job
 * package answers (it knows jobs and their orders; this package knows neither, so that jobs can depend on
 * datasets and not the other way round).
 */
public interface DataInUse {

    /** The id of a job waiting or running with {@code dataSha256} equal to {@code sha256}, if there is one. */
    Optional<String> liveJobUsing(String sha256);
}
