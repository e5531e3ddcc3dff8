package com.maddatum.boss.worker;

import jakarta.validation.Valid;
import jakarta.validation.constraints.Max;
import jakarta.validation.constraints.Min;
import jakarta.validation.constraints.NotNull;
import jakarta.validation.constraints.Pattern;
import jakarta.validation.constraints.PositiveOrZero;
import jakarta.validation.constraints.Size;
import java.util.List;

/**
 * {@code POST /worker-node/create}. The seed's config file called the name {@code nodeName}, so
 * either key is accepted. {@code failedGpus} and {@code cpuOnlyBecause} say which GPUs the Worker's
 * checks refused and why it runs without one; they are shown in the fleet view, never used to match work.
 * {@code dataFiles}: the file names in the Worker's data directory (at most {@value #MAX_DATA_FILES}), which a
 * job's {@code dataFileName} may name without a dataset; a Worker that sends no such field (the seed's) says
 * nothing about its files, which keeps the Boss from refusing any name at submit. Nor does a full list: a
 * Worker with more files sends the first {@value #MAX_DATA_FILES}, so a list that long may be cut short.
 */
public record WorkerRegistration(
        @Pattern(regexp = WorkerRegistry.NODE_NAME) String name,
        @Pattern(regexp = WorkerRegistry.NODE_NAME) String nodeName,
        @Size(max = 64) List<@Pattern(regexp = "[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}") String> labels,
        @Min(1) @Max(1024) Integer slots,
        @Size(max = 255) String host,
        @Size(max = 64) List<@Valid Gpu> gpus,
        @Size(max = 1000) List<@Pattern(regexp = "[A-Za-z0-9][A-Za-z0-9_.-]*\\.py") String> scripts,
        @Size(max = 64) List<@Valid FailedGpu> failedGpus,
        @Size(max = 500) String cpuOnlyBecause,
        @Pattern(regexp = "[A-Za-z0-9-]{1,64}") String bootId,
        @Size(max = WorkerRegistration.MAX_DATA_FILES) List<@NotNull @Size(max = 255) String> dataFiles) {

    /** The most data file names a Worker sends; a list of this many may be cut short. */
    public static final int MAX_DATA_FILES = 1000;

    /** Whether {@code dataFiles} says what the Worker has: sent, and shorter than the most a Worker sends. */
    boolean listsItsDataFiles() {
        return dataFiles != null && dataFiles.size() < MAX_DATA_FILES;
    }

    public record Gpu(@PositiveOrZero Integer index, @Size(max = 255) String model, @PositiveOrZero Long memoryMb) {}

    /** A GPU the Worker found but did not offer, and why (the driver did not list it, an allocation failed). */
    public record FailedGpu(@PositiveOrZero Integer index, @Size(max = 255) String model,
            @PositiveOrZero Long memoryMb, @Size(max = 500) String reason) {}

    String effectiveName() {
        return name != null ? name : nodeName;
    }
}
