package com.maddatum.boss.dataset;

import java.util.Optional;

/**
 * Whether a queued or running job's data is a dataset version. Datasets ask before a version is deleted; the
 * job package answers (it knows jobs and their orders; this package knows neither, so that jobs can depend on
 * datasets and not the other way round).
 */
public interface DataInUse {

    /** A job still to run (or a sweep whose trials will) whose data is a dataset version, and how it names it. */
    record LiveUse(String user, boolean byName) {}

    /**
     * A job waiting or running whose data is version {@code sha256} of the dataset {@code name}: one that names
     * it ({@code dataFileName} {@code name} resolved to these bytes), or one that pinned the bytes alone
     * ({@code dataSha256} {@code sha256}, no {@code dataFileName}), which depends on them whatever their name.
     * A job of another name that happens to have the same bytes is not this version's.
     */
    Optional<LiveUse> liveJobUsing(String name, String sha256);
}
