/**
 * What jobs leave behind: the files a script wrote under {@code OUTPUT_DIR}, which the Worker uploads as
 * blobs and names in its outcome. {@link ArtifactIntake} records them when the Boss accepts that outcome
 * (never when a blob is uploaded), {@link ArtifactController} lists and streams them,
 * {@link ModelInputs} turns {@code model: {jobId}} into a job's {@code inputs} at submit, and
 * {@link ArtifactRetention} prunes all but the best and the latest jobs' artifacts per project. Below
 * {@code job} and {@code outcome}, which call into it; it reads orders, never jobs or outcomes.
 */
package com.maddatum.boss.artifact;
