package com.maddatum.worker.client;

import com.maddatum.worker.config.FailedGpu;
import com.maddatum.worker.config.Gpu;
import java.util.List;

/**
 * {@code POST /worker-node/create}. {@code gpus} are the GPUs that passed the health check;
 * {@code failedGpus} those that did not, with why; {@code cpuOnlyBecause} says why a machine with GPUs
 * (or a failing nvidia-smi) offers none. The last two are always sent, null or empty when all is well.
 * {@code bootId}: a random UUID made once per Worker process start and sent with each of its
 * registrations, so the Boss tells a restarted Worker (a new bootId) from one re-registering after a GPU
 * check (the same): only the first lifts the node's own drain. {@code dataFiles}: the plain file names in
 * the Worker's data directory, sorted, at most {@link #MAX_DATA_FILES}, so the Boss can tell at submit
 * whether a {@code dataFileName} that is no dataset is a file some Worker has.
 */
public record Registration(String name, List<String> labels, int slots, String host, List<Gpu> gpus,
        List<String> scripts, List<FailedGpu> failedGpus, String cpuOnlyBecause, String bootId,
        List<String> dataFiles) {

    /** The contract's bound on {@code dataFiles}. */
    public static final int MAX_DATA_FILES = 1000;
}
