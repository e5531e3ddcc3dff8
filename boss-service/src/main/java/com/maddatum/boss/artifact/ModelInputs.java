package com.maddatum.boss.artifact;

import com.maddatum.boss.blob.BlobStore;
import com.maddatum.boss.order.Order;
import com.maddatum.boss.order.OrderQueries;
import com.maddatum.boss.order.OrderStatus;
import com.maddatum.boss.web.ApiProblem;
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
 * Boss has); {@code model: {"jobId": X}} adds every unpruned artifact of job X named {@code model.*}, unless
 * an input of that name is given. A {@code model} that is not an object is the script's business (sk.py's
 * {@code "model": "ridge"}) and is left alone.
 */
@Service
public class ModelInputs {

    static final int MAX_INPUTS = 100;
    static final String MODEL_PREFIX = "model.";

    private final ArtifactStore store;
    private final BlobStore blobs;
    private final OrderQueries orders;

    ModelInputs(ArtifactStore store, BlobStore blobs, OrderQueries orders) {
        this.store = store;
        this.blobs = blobs;
        this.orders = orders;
    }

    /** Checks the job's {@code inputs} and adds its model's; throws a 400 naming the field at fault. */
    public void fill(Document job) {
        Object model = job.get("model");
        List<Document> fromModel = model instanceof Map<?, ?> asked ? modelInputs(asked) : List.of();
        Object given = job.get("inputs");
        if (given == null && fromModel.isEmpty()) {
            return;
        }
        Map<String, Document> inputs = new LinkedHashMap<>();
        checked(given).forEach(input -> inputs.put(input.getString("name"), input));
        fromModel.forEach(input -> inputs.putIfAbsent(input.getString("name"), input));
        job.put("inputs", new ArrayList<>(inputs.values()));
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
                .filter(a -> a.stored() && a.name().startsWith(MODEL_PREFIX) && ArtifactNames.isPlainFileName(a.name()))
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
        return kept.stream().map(a -> input(a.name(), a.sha256(), a.size())).toList();
    }

    private List<Document> checked(Object given) {
        if (given == null) {
            return List.of();
        }
        if (!(given instanceof List<?> list) || list.size() > MAX_INPUTS) {
            throw ApiProblem.invalidField("inputs", "inputs must be an array of at most " + MAX_INPUTS
                    + " objects {name, sha256, size}.");
        }
        List<Document> inputs = new ArrayList<>();
        List<String> names = new ArrayList<>();
        for (int i = 0; i < list.size(); i++) {
            String at = "inputs[" + i + "]";
            if (!(list.get(i) instanceof Map<?, ?> entry)) {
                throw ApiProblem.invalidField(at, at + " must be an object {name, sha256, size}.");
            }
            Object name = entry.get("name");
            if (!(name instanceof String file) || !ArtifactNames.isPlainFileName(file)) {
                throw ApiProblem.invalidField(at + ".name", at + ".name must be a plain file name (letters, digits, "
                        + "'_', '.', '-'; no path): the Worker puts the file in INPUT_DIR under it.");
            }
            if (names.contains(file)) {
                throw ApiProblem.invalidField(at + ".name", "Two inputs are named '" + file + "'.");
            }
            names.add(file);
            Object hash = entry.get("sha256");
            if (!(hash instanceof String sha256) || !ArtifactNames.isSha256(sha256)) {
                throw ApiProblem.invalidField(at + ".sha256", at + ".sha256 must be 64 lower-case hex digits.");
            }
            BlobStore.Blob blob = blobs.find(sha256).orElseThrow(() -> ApiProblem.invalidField(at + ".sha256",
                    "No blob " + sha256 + " is stored; upload it first (POST /blobs?sha256=...)."));
            Object size = entry.get("size");
            if (size != null && !((size instanceof Integer || size instanceof Long)
                    && ((Number) size).longValue() == blob.size())) {
                throw ApiProblem.invalidField(at + ".size", at + ".size must be the blob's size, " + blob.size()
                        + " bytes, or be left out.");
            }
            inputs.add(input(file, sha256, blob.size()));
        }
        return inputs;
    }

    private static Document input(String name, String sha256, long size) {
        return new Document("name", name).append("sha256", sha256).append("size", size);
    }
}
