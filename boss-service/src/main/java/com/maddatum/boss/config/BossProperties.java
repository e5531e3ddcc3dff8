package com.maddatum.boss.config;

import jakarta.validation.Valid;
import jakarta.validation.constraints.Max;
import jakarta.validation.constraints.Min;
import jakarta.validation.constraints.NotBlank;
import jakarta.validation.constraints.NotNull;
import java.time.Duration;
import java.util.List;
import org.hibernate.validator.constraints.time.DurationMax;
import org.hibernate.validator.constraints.time.DurationMin;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;
import org.springframework.util.unit.DataSize;
import org.springframework.validation.annotation.Validated;

/**
 * Every tunable of the Boss, bound once at start-up and validated, so that a typo in
 * {@code application.yml} or an environment variable fails the start instead of a claim.
 */
@Validated
@ConfigurationProperties("boss")
public record BossProperties(
        @Valid @NotNull @DefaultValue Lease lease,
        @Valid @NotNull @DefaultValue Claim claim,
        @Valid @NotNull @DefaultValue Store store,
        @Valid @NotNull @DefaultValue Limits limits,
        @Valid @NotNull @DefaultValue Workers workers,
        @Valid @NotNull @DefaultValue Security security,
        @Valid @NotNull @DefaultValue Idempotency idempotency,
        @Valid @NotNull @DefaultValue Queue queue,
        @Valid @NotNull @DefaultValue Fleet fleet,
        @Valid @NotNull @DefaultValue Artifacts artifacts,
        @Valid @NotNull @DefaultValue BlobCollection blobCollection,
        @Valid @NotNull @DefaultValue Datasets datasets,
        @Valid @NotNull @DefaultValue Sweeps sweeps) {

    /**
     * How long an assignment is held without a heartbeat, and how often expired ones are reaped.
     * {@code seedTimeout} is the lease of a claim by a worker that does not heartbeat (the seed's own
     * worker, which claims without {@code heartbeats=true}) for a job that sets no
     * {@code timeoutSeconds}; with {@code timeoutSeconds} such a claim holds that long plus {@code timeout}.
     */
    public record Lease(
            @NotNull @DefaultValue("5m") Duration timeout,
            @NotNull @DefaultValue("5s") Duration reapInterval,
            @Min(1) @Max(100) @DefaultValue("3") int defaultMaxAttempts,
            @NotNull @DefaultValue("6h") Duration seedTimeout) {}

    /** Long-poll cap for {@code POST /bored/{node}?waitSeconds=N}. */
    public record Claim(@NotNull @DefaultValue("30s") Duration maxWait) {}

    /**
     * The embedded store's directory (used only when {@code spring.mongodb.uri} is unset); whether it
     * commits every write before acknowledging it ({@code sync-writes}: turning it off trades up to a
     * second of acknowledged writes on {@code kill -9} for throughput); and how often a Boss sharing a
     * real MongoDB with other replicas reads what the others wrote, going back {@code resyncOverlap}
     * before its last look (more than the clocks of two replicas may differ), and how often it checks its
     * counters against the store's ({@code auditInterval}) to catch what the feed missed.
     */
    public record Store(
            @NotBlank @DefaultValue("./data") String dataDir,
            @NotNull @DefaultValue("3s") Duration resyncInterval,
            @NotNull @DefaultValue("10s") Duration resyncOverlap,
            @NotNull @DefaultValue("5m") Duration auditInterval,
            @DefaultValue("true") boolean syncWrites) {}

    /** Input limits; each is documented in the README and enforced before anything is stored. */
    public record Limits(
            @Min(1024) @DefaultValue("1048576") int maxBodyBytes,
            @Min(2) @DefaultValue("32") int maxDepth,
            @Min(1) @DefaultValue("5000") int maxFields,
            @Min(256) @DefaultValue("65536") int maxLogTailChars,
            @Min(1) @Max(1000) @DefaultValue("100") int maxPageSize,
            @Min(1024) @DefaultValue("262144") int maxLogCharsPerOrder) {}

    /**
     * Bearer tokens by role, and CORS. With no tokens at all the Boss runs without authentication,
     * which it allows only on a loopback address unless {@code allowAnonymous} says otherwise.
     * {@code operatorTokens} may drain and undrain Workers; {@code metricsTokens} may read only the
     * fleet's demand and the Prometheus metrics (what an autoscaler such as KEDA needs).
     */
    public record Security(
            @DefaultValue List<@NotBlank String> submitterTokens,
            @DefaultValue List<@NotBlank String> workerTokens,
            @DefaultValue List<@NotBlank String> operatorTokens,
            @DefaultValue List<@NotBlank String> metricsTokens,
            @DefaultValue("false") boolean allowAnonymous,
            @DefaultValue List<@NotBlank String> corsAllowedOrigins) {

        public boolean enabled() {
            return !submitterTokens.isEmpty() || !workerTokens.isEmpty() || !operatorTokens.isEmpty()
                    || !metricsTokens.isEmpty();
        }
    }

    /**
     * A worker not heard from for {@code offlineAfter} is shown as offline; one not heard from for
     * {@code forgetAfter} is removed from the fleet. At most {@code maxKnown} nodes are kept: node
     * names come from requests, and each would otherwise be kept forever.
     */
    public record Workers(
            @NotNull @DefaultValue("90s") Duration offlineAfter,
            @NotNull @DefaultValue("7d") Duration forgetAfter,
            @Min(1) @DefaultValue("10000") int maxKnown) {}

    /**
     * {@code Idempotency-Key} on creating routes. A key is kept {@code keepFor}, at least a day: the
     * promise to submitters is that a retry within 24 h never creates a second job, and a client that
     * retries after a night's outage is the case it is for. A repeat that finds the first request still
     * running waits up to {@code pendingWait} for its answer, then gets 409 with {@code Retry-After}. A
     * first request that has held its key for {@code takeOverAfter} without answering (its Boss died) is
     * finished by the next retry, with the id it had chosen, so it never creates a second job.
     */
    public record Idempotency(
            @NotNull @DurationMin(hours = 24) @DefaultValue("24h") Duration keepFor,
            @NotNull @DurationMax(minutes = 1) @DefaultValue("5s") Duration pendingWait,
            @NotNull @DurationMin(seconds = 1) @DefaultValue("15s") Duration takeOverAfter) {}

    /**
     * What a submitter learns about a waiting job. {@code maxWait} caps {@code waitSeconds} on
     * {@code GET /jobs/{id}} and {@code POST /job/create}; a held request costs no thread, only memory. The
     * estimate of when a job finishes uses the last {@code durationsKept} run durations of its script in its
     * project, kept for at most {@code durationScripts} (project, script) pairs, the least recently used
     * dropped first.
     */
    public record Queue(
            @NotNull @DefaultValue("10m") Duration maxWait,
            @Min(1) @Max(1000) @DefaultValue("20") int durationsKept,
            @Min(1) @DefaultValue("10000") int durationScripts) {

        public Queue {
            if (maxWait != null && (maxWait.isNegative() || maxWait.isZero() || maxWait.toHours() > 24)) {
                throw new IllegalArgumentException("boss.queue.max-wait must be more than 0 and at most 24h, was "
                        + maxWait);
            }
        }
    }

    /**
     * Automatic quarantine: a Worker whose last {@code quarantineAfter} attempts all ended in failures
     * that count against it (see the README's "Operating a fleet") gets no more work until an operator
     * undrains it; {@code 0} turns quarantine off. {@code standingRefresh} is how stale a replica's view of
     * a node another replica changed (its drain, its registration) may be before a claim reads the node's
     * document again. An order that failed on a node avoids it for at most {@code avoidFor} after its last
     * failure there, while another node could run it: "could" is a guess (a live node may be busy for days), so
     * the avoidance must end, or the order could wait forever beside an idle node able to run it.
     */
    public record Fleet(
            @Min(0) @Max(20) @DefaultValue("3") int quarantineAfter,
            @NotNull @DurationMax(seconds = 60) @DefaultValue("1s") Duration standingRefresh,
            @NotNull @DurationMin(seconds = 0) @DefaultValue("10m") Duration avoidFor) {}

    /**
     * What is kept of jobs' artifacts. Per project (jobs without a project form one group of their own),
     * the artifacts of the {@code best} jobs by loss (lower is better, as the leaderboard ranks) and of the
     * {@code latest} jobs to deliver artifacts are kept; the others are marked pruned and their blobs left
     * for {@link BlobCollection}. {@code enabled=false} keeps everything. Swept every {@code pruneInterval}
     * and soon after each accepted outcome with artifacts.
     */
    public record Artifacts(
            @Valid @NotNull @DefaultValue Keep keep,
            @NotNull @DurationMin(seconds = 1) @DefaultValue("10m") Duration pruneInterval) {

        public record Keep(
                @DefaultValue("true") boolean enabled,
                @Min(0) @Max(100000) @DefaultValue("10") int best,
                @Min(0) @Max(100000) @DefaultValue("20") int latest) {

            public Keep {
                // Keeping nothing would prune a model the moment its job finished: say so at start-up rather
                // than lose every artifact; turning pruning off is what enabled=false is for.
                if (enabled && best == 0 && latest == 0) {
                    throw new IllegalArgumentException("boss.artifacts.keep.best and boss.artifacts.keep.latest are "
                            + "both 0, which would prune every artifact; set boss.artifacts.keep.enabled=false to keep "
                            + "them all");
                }
            }
        }
    }

    /**
     * Deleting blobs that nothing refers to any more (pruned artifacts, deleted dataset versions), every
     * {@code interval}. A blob younger than {@code grace} is never deleted: a Worker uploads a job's artifacts
     * before it reports the outcome that refers to them, and the upload must outlive that gap (and the
     * outcome's retries).
     */
    public record BlobCollection(
            @DefaultValue("true") boolean enabled,
            @NotNull @DurationMin(seconds = 1) @DefaultValue("10m") Duration interval,
            @NotNull @DurationMin(minutes = 1) @DefaultValue("1h") Duration grace) {}

    /**
     * What uploads to the Boss may bring: {@code maxUploadBytes} per upload (a dataset, or a blob a Worker
     * sends), and {@code quotaBytes} for every stored blob together (datasets' versions and artifacts, each
     * counted once however many names refer to it). Both bound the Boss's disk, not its memory: uploads are
     * streamed, whatever their size.
     */
    public record Datasets(
            @NotNull @DefaultValue("2GB") DataSize maxUploadBytes,
            @NotNull @DefaultValue("50GB") DataSize quotaBytes) {

        public Datasets {
            if (maxUploadBytes != null && maxUploadBytes.toBytes() < 1) {
                throw new IllegalArgumentException("boss.datasets.max-upload-bytes must be at least 1 byte, was "
                        + maxUploadBytes);
            }
            if (quotaBytes != null && quotaBytes.toBytes() < 1) {
                throw new IllegalArgumentException("boss.datasets.quota-bytes must be at least 1 byte, was " + quotaBytes);
            }
        }
    }

    /**
     * Hyper-parameter sweeps ({@code POST /sweeps}). Each running sweep is driven every {@code tick} (creating
     * trials as slots free up, noticing trials that ended) besides when one of its trials ends, so that nothing
     * depends on that event reaching this replica. A sweep may ask for at most {@code maxJobs} trials and
     * {@code maxParallelism} at once. A trial keeps at most {@code maxPointsPerTrial} progress points (the
     * median rule and the curve read them); a sampler that proposes only configurations already tried is
     * asked {@code sampleAttempts} times per trial before the sweep counts its space as exhausted. A sweep whose
     * last {@code maxRefusedInARow} trials' jobs the Boss refused to create (its data or model gone) is stopped:
     * every later one would be refused too.
     */
    public record Sweeps(
            @NotNull @DurationMin(millis = 10) @DefaultValue("2s") Duration tick,
            @Min(1) @Max(100_000) @DefaultValue("10000") int maxJobs,
            @Min(1) @Max(100_000) @DefaultValue("1000") int maxParallelism,
            @Min(10) @Max(50_000) @DefaultValue("2000") int maxPointsPerTrial,
            @Min(1) @Max(10_000) @DefaultValue("100") int sampleAttempts,
            @Min(1) @Max(10_000) @DefaultValue("5") int maxRefusedInARow) {}
}
