package com.maddatum.worker.manifest;

import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * What one run ran with, recorded by the Worker without the script's help: the script's and the data
 * file's SHA-256 (taken before the launch, so a file replaced while the script runs does not pass for
 * what it read), each input's name and SHA-256, the interpreter's versions, the GPU (or {@code "cpu"}),
 * this Worker and the seed.
 */
public final class RunManifest {

    /** The most characters of any one text the probes read (a version, a GPU's name, the host's). */
    static final int MAX_TEXT = 256;
    /** How long an outcome waits for the interpreter probe the first run started (it imports torch). */
    static final Duration PROBE_WAIT = Duration.ofSeconds(20);

    private final RunManifests source;
    private final Map<String, Object> files;
    private final Integer gpu;
    private final Object seed;
    private final String seedSource;

    RunManifest(RunManifests source, Map<String, Object> files, Integer gpu, Object seed, String seedSource) {
        this.source = source;
        this.files = files;
        this.gpu = gpu;
        this.seed = seed;
        this.seedSource = seedSource;
    }

    /**
     * Puts the manifest into {@code outcome} as {@code manifest}. The Worker's record wins: a script that
     * printed a {@code manifest} of its own finds it under {@code scriptManifest}. A hand-back
     * ({@code retryable}) gets none: the Boss stores no outcome for it, and a shutdown must not wait for
     * the probe. Never throws, and never loses the outcome: interrupted while it waits for the probe, it
     * leaves the versions out and keeps the interrupt for the caller.
     */
    public void attach(Map<String, Object> outcome) {
        attach(outcome, true);
    }

    /**
     * As {@link #attach(Map)}; {@code mayWait} false (a run that was cancelled or stopped) takes only what
     * the probes already know, so that a cancellation or a shutdown never waits {@link #PROBE_WAIT} or
     * an {@code nvidia-smi} for a manifest.
     */
    public void attach(Map<String, Object> outcome, boolean mayWait) {
        if (Boolean.TRUE.equals(outcome.get("retryable"))) {
            return;
        }
        Object scripts = outcome.put("manifest", toMap(mayWait));
        if (scripts != null) {
            outcome.put("scriptManifest", scripts);
        }
    }

    Map<String, Object> toMap(boolean mayWait) {
        Map<String, Object> manifest = new LinkedHashMap<>(files);
        Map<String, Object> versions = InterpreterProbe.unknown();
        GpuIdentities.Identity identity = null;
        try {
            versions = source.interpreter().versions(mayWait ? PROBE_WAIT : Duration.ZERO);
            identity = gpu == null ? null
                    : (mayWait ? source.gpus().of(gpu) : source.gpus().known(gpu)).orElse(null);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        manifest.putAll(versions);
        if (gpu == null) {
            manifest.put("cuda", null); // a CUDA build of torch on a CPU slot still runs without CUDA
        }
        manifest.put("driver", identity == null ? null : identity.driver());
        if (gpu == null) {
            manifest.put("gpu", "cpu");
        } else {
            Map<String, Object> device = new LinkedHashMap<>();
            device.put("model", identity == null ? null : identity.model());
            device.put("uuid", identity == null ? null : identity.uuid());
            manifest.put("gpu", device);
        }
        manifest.put("host", source.host());
        manifest.put("worker", source.worker());
        manifest.put("workerVersion", source.version());
        manifest.put("seed", seed);
        manifest.put("seedSource", seedSource);
        return manifest;
    }
}
