package com.maddatum.worker.runner;

import java.nio.file.Path;

/**
 * Where a run's script finds its data and inputs ({@code run/RunInputs} prepares them): {@code dataDir}
 * replaces {@code worker.data-dir} as {@code $DATA_DIR} when not null (a dataset job's own directory),
 * {@code dataFile} is {@code $DATA_FILE}, and {@code inputDir} is {@code $INPUT_DIR}; null ones are not set.
 */
public record RunFiles(Path dataDir, Path dataFile, Path inputDir) {

    /** Nothing beyond the Worker's own data directory. */
    public static final RunFiles NONE = new RunFiles(null, null, null);
}
