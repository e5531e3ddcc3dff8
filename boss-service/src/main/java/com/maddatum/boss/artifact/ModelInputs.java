package com.maddatum.boss.artifact;

import com.maddatum.boss.blob.BlobStore;
import com.maddatum.boss.order.Order;
import com.maddatum.boss.order.OrderQueries;
import com.maddatum.boss.order.OrderStatus;
import com.maddatum.boss.web.ApiProblem;
import com.maddatum.boss.web.Names;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.bson.Document;
import org.bson.types.ObjectId;
import org.springframework.stereotype.Service;

/**
 * A job's {@code inputs} at submit: the files the Worker fetches into {@code $INPUT_DIR} before the script
 * starts, each {@code {name, sha256, size}}. Inputs a job gives are checked (a plain file name, a blob the
 * Boss has that is an artifact of some job: never bytes uploaded any other way, since a script may load an
 * input as code, as predict.py unpickles {@code model.joblib}, and a submitter must not be able to hand a
 * Worker a pickle of their own); {@code model: {"jobId": X}} adds every unpruned artifact of job X named {@code model.*}, unless
 * an input of that name is given, each marked {@code "from": "model"}. The mark is what lets a rerun that
 * names another model replace them, and keep the submitter's own. A {@code model} that is not an object is
 * the script's business (sk.py's {@code "model": "ridge"}) and is left alone.
 */
@Service
public class ModelInputs {

    static final int MAX_INPUTS = 100;
    static final String MODEL_PREFIX = "model.";
    /** On an input the Boss filled from the job's {@code model}: {@code "from": "model"}. */
    static final String FROM = "from";
    static final String FROM_MODEL = "model";

    private final ArtifactStore store;
    private final BlobStore blobs;
    private final OrderQueries orders;

    ModelInputs(ArtifactStore store, BlobStore blobs, OrderQueries orders) {
        this.store = store;
        this.blobs = blobs;
        this.orders = orders;
    }

    /**
     * At submit: checks the job's {@code inputs} and adds its model's; throws a 400 naming the field at fault.
     * Inputs marked as the model's in the body (a job fetched and sent back as it was) are the Boss's to
     * write: they are filled again from {@code model}.
     */
    public void fill(Document job) {
        merge(job, checked(job.get("inputs"), "inputs", false), modelInputs(job.get("model")));
    }

    /**
     * At a rerun, {@code job} being the original's fields with the overrides over them. When the overrides
     * name {@code model} (another job, or null for none), the original's model inputs go and the new model's
     * come; otherwise the original's stay as they were, and the model is not looked up again: the rerun
     * works even after the model job's artifacts were pruned (their blobs must still be stored).
     * {@code originalInputs} is the original's {@code inputs}, where its model's are when the overrides
     * replace {@code inputs}.
     */
    public void fillRerun(Document job, Object originalInputs, boolean modelNamed) {
        List<Document> given = checked(job.get("inputs"), "inputs", false);
        List<Document> models = modelNamed ? modelInputs(job.get("model"))
                : checked(originalInputs, "inputs of the original job", true).stream().filter(ModelInputs::fromModel)
                        .toList();
        merge(job, given, models);
    }

    /** The submitter's inputs first (theirs win a name), then the model's. */
    private static void merge(Document job, List<Document> given, List<Document> models) {
        if (!job.containsKey("inputs") && models.isEmpty()) {
            return;
        }
        Map<String, Document> inputs = new LinkedHashMap<>();
        given.forEach(input -> inputs.put(input.getString("name"), input));
        models.forEach(input -> inputs.putIfAbsent(input.getString("name"), input));
        job.put("inputs", new ArrayList<>(inputs.values()));
    }

    private static boolean fromModel(Document input) {
        return FROM_MODEL.equals(input.get(FROM));
    }

    private List<Document> modelInputs(Object model) {
        return model instanceof Map<?, ?> asked ? modelInputs(asked) : List.of();
    }

    private List<Document> modelInputs(Map<?, ?> model) {
        Object value = model.get("jobId");
        if (!(value instanceof String jobId) || !ObjectId.isValid(jobId)) {
            throw ApiProblem.invalidField("model.jobId", "model.jobId must be the 24-digit hex id of a finished job "
                    + "whose model to use.");
        }
        Optional<Order> order = orders.findByJobId(jobId);
        if (order.isEmpty()) {
            throw ApiProblem.invalidField("model.jobId", "No job has the id '" + jobId + "'.");
        }
        if (order.get().status() != OrderStatus.DONE) {
            throw ApiProblem.invalidField("model.jobId", "Job " + jobId + " has not finished successfully (it is "
                    + order.get().status().wire() + "): only a done job's model can be used.");
        }
        List<ArtifactRecord> models = store.ofJob(jobId).stream()
                .filter(a -> a.stored() && a.name().startsWith(MODEL_PREFIX) && Names.isPlainFileName(a.name()))
                .toList();
        if (models.isEmpty()) {
            throw ApiProblem.invalidField("model.jobId", "Job " + jobId + " left no model: none of its artifacts is "
                    + "named " + MODEL_PREFIX + "* (a job with crossValidateOnly true saves none).");
        }
        List<ArtifactRecord> kept = models.stream().filter(a -> !a.pruned()).toList();
        if (kept.isEmpty()) {
            ArtifactRecord pruned = models.get(0);
            throw ApiProblem.invalidField("model.jobId", "Job " + jobId + "'s model artifacts were pruned at "
                    + pruned.prunedAt() + " (" + pruned.prunedReason() + "); see boss.artifacts.keep.");
        }
        return kept.stream().map(a -> input(a.name(), a.sha256(), a.size()).append(FROM, FROM_MODEL)).toList();
    }

    /**
     * The inputs, checked. {@code withModels} false: those marked as the model's are left out unchecked (the
     * caller fills them again). {@code what}: the field, for the messages.
     */
    private List<Document> checked(Object given, String what, boolean withModels) {
        if (given == null) {
            return List.of();
        }
        if (!(given instanceof List<?> list) || list.size() > MAX_INPUTS) {
            throw ApiProblem.invalidField("inputs", what + " must be an array of at most " + MAX_INPUTS
                    + " objects {name, sha256, size}.");
        }
        List<Document> inputs = new ArrayList<>();
        List<String> names = new ArrayList<>();
        for (int i = 0; i < list.size(); i++) {
            String at = "inputs[" + i + "]";
            if (!(list.get(i) instanceof Map<?, ?> entry)) {
                throw ApiProblem.invalidField(at, at + " must be an object {name, sha256, size}.");
            }
            Object from = entry.get(FROM);
            if (from != null && !FROM_MODEL.equals(from)) {
                throw ApiProblem.invalidField(at + "." + FROM, at + "." + FROM + " is the Boss's to write: \""
                        + FROM_MODEL + "\" marks the inputs it took from the job's model. Leave it out.");
            }
            if (from != null && !withModels) {
                continue;
            }
            Object name = entry.get("name");
            if (!(name instanceof String file) || !Names.isPlainFileName(file)) {
                throw ApiProblem.invalidField(at + ".name", at + ".name must be " + Names.PLAIN_FILE_NAME_RULE
                        + ": the Worker puts the file in INPUT_DIR under it.");
            }
            if (names.contains(file)) {
                throw ApiProblem.invalidField(at + ".name", "Two inputs are named '" + file + "'.");
            }
            names.add(file);
            String sha256 = Names.sha256(entry.get("sha256"));
            if (sha256 == null) {
                throw ApiProblem.invalidField(at + ".sha256", at + ".sha256 must be 64 hex digits.");
            }
            BlobStore.Blob blob = blobs.find(sha256).orElseThrow(() -> ApiProblem.invalidField(at + ".sha256",
                    "No blob " + sha256 + " is stored" + (from == null
                            ? ": an input is a file another job left (GET /jobs/{id}/artifacts lists them with their sha256)."
                            : " any more: the model's file " + file + " was pruned and its bytes collected; name "
                                    + "another model.")));
            if (from == null && !store.isArtifact(sha256)) {
                throw ApiProblem.invalidField(at + ".sha256", "The bytes " + sha256 + " are not an artifact of any "
                        + "job: inputs must be files jobs left (GET /jobs/{id}/artifacts), because a script may load "
                        + "an input as code (predict.py unpickles model.joblib). Data goes in as a dataset "
                        + "(POST /datasets, then dataFileName).");
            }
            Object size = entry.get("size");
            if (size != null && !((size instanceof Integer || size instanceof Long)
                    && ((Number) size).longValue() == blob.size())) {
                throw ApiProblem.invalidField(at + ".size", at + ".size must be the blob's size, " + blob.size()
                        + " bytes, or be left out.");
            }
            Document input = input(file, sha256, blob.size());
            if (from != null) {
                input.append(FROM, FROM_MODEL);
            }
            inputs.add(input);
        }
        return inputs;
    }

    private static Document input(String name, String sha256, long size) {
        return new Document("name", name).append("sha256", sha256).append("size", size);
    }
}
