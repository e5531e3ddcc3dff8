package com.maddatum.boss.job;

import java.util.List;
import org.bson.Document;

/**
 * Jobs not created yet but promised: a running sweep makes each trial's job from its {@code base}. What such a
 * template names (its data, its inputs, its model) is kept as a queued job's is, by {@link PendingJobs}:
 * otherwise a blob collection, a dataset's delete or the model's retention between two trials would make every
 * later trial's job a refusal. Implemented by the feature that holds the templates (sweeps), so that this
 * package never depends on it.
 */
public interface JobTemplates {

    /** A template and who holds it, for the messages ({@code "sweep 65a..."}). */
    record Template(String owner, Document job) {}

    /** The templates that may still make jobs; only {@link PendingJobs#FIELDS} of each need be filled. */
    List<Template> templates();
}
