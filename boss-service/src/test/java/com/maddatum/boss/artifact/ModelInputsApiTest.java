package com.maddatum.boss.artifact;

import static org.assertj.core.api.Assertions.assertThat;

import com.maddatum.boss.blob.BlobReferences;
import com.maddatum.testsupport.HttpJson;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import tools.jackson.databind.JsonNode;

/** {@code model: {jobId}} and {@code inputs} at submit: what a predict job gets, and what is refused. */
class ModelInputsApiTest extends ArtifactApiTestBase {

    @Autowired
    List<BlobReferences> references;

    private JsonNode refused(Map<String, Object> job, String field) {
        HttpJson.Reply reply = boss.post("/job/create", job);
        assertThat(reply.status()).as(reply.body()).isEqualTo(400);
        assertThat(reply.json().get("field").asString()).isEqualTo(field);
        return reply.json();
    }

    /** Bytes a job left: the only bytes a job may name as its inputs. */
    private Map<String, Object> leftByAJob(String name, String content) {
        Map<String, Object> file = artifact(name, content);
        // Ahead of whatever the test left waiting, so that the claim is this job's.
        Claimed claimed = submitAndClaim(job("projectName", project("source"), "maxAttempts", 1, "priority", 1_000_000),
                "art-node");
        HttpJson.Reply reply = boss.post("/callback", outcome(claimed, 200, 1.0, List.of(file)));
        assertThat(reply.status()).as(reply.body()).isEqualTo(200);
        return file;
    }

    private JsonNode storedJob(String jobId) {
        return boss.get("/retrieve/job/" + jobId).json();
    }

    @Test
    void aModelJobsModelFilesBecomeTheNewJobsInputs() {
        Map<String, Object> weights = artifact("model.pt", "state dict");
        Map<String, Object> meta = artifact("model.json", "{\"kind\":\"torch\"}");
        String trained = finish(project("model"), 200, 0.3, List.of(weights, meta, artifact("curve.png", "png"),
                artifact("plots/model.png", "nested")));

        String predict = submit(job("scriptName", "predict.py", "model", Map.of("jobId", trained)))
                .get("jobId").asString();
        JsonNode inputs = storedJob(predict).get("inputs");
        assertThat(inputs).extracting(i -> i.get("name").asString()).containsExactlyInAnyOrder("model.pt", "model.json");
        JsonNode pt = inputs.get(0).get("name").asString().equals("model.pt") ? inputs.get(0) : inputs.get(1);
        assertThat(pt.get("sha256").asString()).isEqualTo(weights.get("sha256"));
        assertThat(pt.get("size").asLong()).isEqualTo(((Number) weights.get("size")).longValue());
        assertThat(storedJob(predict).get("model").get("jobId").asString()).isEqualTo(trained);
    }

    @Test
    void anInputGivenByNameIsKeptOverTheModelsFileOfThatName() {
        String trained = finish(project("given"), 200, 0.3, List.of(artifact("model.pt", "old"),
                artifact("model.json", "{}")));
        Map<String, Object> mine = leftByAJob("model.pt", "my own weights");
        Map<String, Object> extra = leftByAJob("lookup.csv", "a,b\n");
        String predict = submit(job("scriptName", "predict.py", "model", Map.of("jobId", trained),
                "inputs", List.of(Map.of("name", "model.pt", "sha256", mine.get("sha256")),
                        Map.of("name", "lookup.csv", "sha256", extra.get("sha256"), "size", extra.get("size")))))
                .get("jobId").asString();
        JsonNode inputs = storedJob(predict).get("inputs");
        assertThat(inputs).extracting(i -> i.get("name").asString())
                .containsExactly("model.pt", "lookup.csv", "model.json");
        assertThat(inputs.get(0).get("sha256").asString()).isEqualTo(mine.get("sha256"));
        // The size a job left out is the blob's.
        assertThat(inputs.get(0).get("size").asLong()).isEqualTo(((Number) mine.get("size")).longValue());
    }

    @Test
    void aModelFromAFailedJobOrOneThatLeftNoModelIsRefused() {
        String failed = finish(project("failed-model"), 500, null, List.of(artifact("model.pt", "half")));
        assertThat(refused(job("model", Map.of("jobId", failed)), "model.jobId").get("detail").asString())
                .contains(failed).contains("failed");

        String noModel = finish(project("no-model"), 200, 1.0, List.of(artifact("curve.png", "png")));
        assertThat(refused(job("model", Map.of("jobId", noModel)), "model.jobId").get("detail").asString())
                .contains("no model");

        String nothing = finish(project("nothing"), 200, 1.0, null);
        refused(job("model", Map.of("jobId", nothing)), "model.jobId");

        String running = submitAndClaim(job("projectName", project("running")), "model-node").jobId();
        assertThat(refused(job("model", Map.of("jobId", running)), "model.jobId").get("detail").asString())
                .contains("assigned");

        assertThat(refused(job("model", Map.of("jobId", "0123456789abcdef01234567")), "model.jobId")
                .get("detail").asString()).contains("No job");
        refused(job("model", Map.of("jobId", "../etc")), "model.jobId");
        refused(job("model", Map.of("job", running)), "model.jobId");
    }

    @Test
    void aModelThatIsNotAnObjectIsTheScriptsBusiness() {
        String jobId = submit(job("scriptName", "sk.py", "model", "ridge")).get("jobId").asString();
        JsonNode stored = storedJob(jobId);
        assertThat(stored.get("model").asString()).isEqualTo("ridge");
        assertThat(stored.has("inputs")).isFalse();
    }

    @Test
    void inputsAreCheckedFieldByField() {
        Map<String, Object> blob = leftByAJob("x.csv", "input bytes");
        Object sha = blob.get("sha256");
        refused(job("inputs", "model.pt"), "inputs");
        refused(job("inputs", List.of("model.pt")), "inputs[0]");
        refused(job("inputs", List.of(Map.of("name", "../model.pt", "sha256", sha))), "inputs[0].name");
        refused(job("inputs", List.of(Map.of("name", "dir/model.pt", "sha256", sha))), "inputs[0].name");
        refused(job("inputs", List.of(Map.of("sha256", sha))), "inputs[0].name");
        refused(job("inputs", List.of(Map.of("name", "a.csv", "sha256", "ABC"))), "inputs[0].sha256");
        assertThat(refused(job("inputs", List.of(Map.of("name", "a.csv", "sha256", "cd".repeat(32)))),
                "inputs[0].sha256").get("detail").asString()).contains("GET /jobs/{id}/artifacts");
        refused(job("inputs", List.of(Map.of("name", "a.csv", "sha256", sha, "size", 1))), "inputs[0].size");
        refused(job("inputs", List.of(Map.of("name", "a.csv", "sha256", sha), Map.of("name", "a.csv", "sha256", sha))),
                "inputs[1].name");
    }

    /**
     * predict.py unpickles model.joblib: bytes that no job left (uploaded by a Worker token, or a dataset's
     * version) would let whoever uploaded them run code on a Worker, so they are never an input.
     */
    @Test
    void bytesNoJobLeftAreNeverAnInput() {
        Map<String, Object> pickle = artifact("model.joblib", "cos\nsystem\n(S'touch /tmp/owned'\ntR.");
        String detail = refused(job("scriptName", "predict.py", "inputs", List.of(Map.of("name", "model.joblib",
                "sha256", pickle.get("sha256")))), "inputs[0].sha256").get("detail").asString();
        assertThat(detail).contains("not an artifact of any job");
        // A file a job's outcome named but the Boss skipped (its blob was never checked in) does not count either.
        Map<String, Object> skipped = artifact("model.joblib", "skipped " + System.nanoTime());
        Map<String, Object> lying = new java.util.LinkedHashMap<>(skipped);
        lying.put("size", 1);
        finish(project("skipped"), 200, 1.0, List.of(lying));
        refused(job("inputs", List.of(Map.of("name", "model.joblib", "sha256", skipped.get("sha256")))),
                "inputs[0].sha256");
    }

    @Test
    void aRerunOfAPredictJobKeepsItsInputs() {
        String trained = finish(project("rerun-model"), 200, 0.3, List.of(artifact("model.pt", "w"),
                artifact("model.json", "{}")));
        String predict = submit(job("scriptName", "predict.py", "model", Map.of("jobId", trained))).get("jobId")
                .asString();
        HttpJson.Reply rerun = boss.post("/jobs/" + predict + "/rerun", Map.of());
        assertThat(rerun.status()).as(rerun.body()).isEqualTo(201);
        JsonNode again = storedJob(rerun.json().get("jobId").asString());
        assertThat(again.get("inputs")).isEqualTo(storedJob(predict).get("inputs"));
    }

    @Test
    void theModelsInputsAreMarkedAndTheSubmittersAreNot() {
        String trained = finish(project("marked"), 200, 0.3, List.of(artifact("model.pt", "marked weights")));
        Map<String, Object> mine = leftByAJob("lookup.csv", "mine");
        String predict = submit(job("scriptName", "predict.py", "model", Map.of("jobId", trained),
                "inputs", List.of(Map.of("name", "lookup.csv", "sha256", mine.get("sha256"))))).get("jobId").asString();
        JsonNode inputs = storedJob(predict).get("inputs");
        assertThat(inputs).extracting(i -> i.get("name").asString()).containsExactly("lookup.csv", "model.pt");
        assertThat(inputs.get(0).has("from")).isFalse();
        assertThat(inputs.get(1).get("from").asString()).isEqualTo("model");

        // A job fetched and sent back as it was: the marked inputs are the Boss's, filled again from its model.
        Map<String, Object> resent = new java.util.LinkedHashMap<>(job("scriptName", "predict.py", "model",
                Map.of("jobId", trained)));
        resent.put("inputs", List.of(Map.of("name", "lookup.csv", "sha256", mine.get("sha256")),
                Map.of("name", "model.pt", "sha256", "ef".repeat(32), "from", "model")));
        JsonNode again = storedJob(submit(resent).get("jobId").asString()).get("inputs");
        assertThat(again).isEqualTo(inputs);

        refused(job("inputs", List.of(Map.of("name", "a.csv", "sha256", mine.get("sha256"), "from", "me"))),
                "inputs[0].from");
    }

    @Test
    void anUpperCaseHashIsAcceptedAndStoredInLowerCase() {
        Map<String, Object> blob = leftByAJob("upper.csv", "upper " + System.nanoTime());
        String sha = (String) blob.get("sha256");
        String jobId = submit(job("inputs", List.of(Map.of("name", "upper.csv", "sha256", sha.toUpperCase())),
                "dataSha256", sha.toUpperCase())).get("jobId").asString();
        JsonNode stored = storedJob(jobId);
        assertThat(stored.get("inputs").get(0).get("sha256").asString()).isEqualTo(sha);
        assertThat(stored.get("dataSha256").asString()).isEqualTo(sha);
    }

    @Test
    void aRerunNamingAnotherModelGetsThatModelsFilesAndKeepsTheSubmittersOwn() {
        Map<String, Object> oldWeights = artifact("model.pt", "weights of X " + System.nanoTime());
        String x = finish(project("rx"), 200, 0.3, List.of(oldWeights, artifact("model.json", "{\"job\":\"X\"}"),
                artifact("model.scaler", "only X has one")));
        Map<String, Object> newWeights = artifact("model.pt", "weights of Y " + System.nanoTime());
        Map<String, Object> newMeta = artifact("model.json", "{\"job\":\"Y\"}");
        String y = finish(project("ry"), 200, 0.2, List.of(newWeights, newMeta));
        Map<String, Object> mine = leftByAJob("lookup.csv", "kept across models");
        String predict = submit(job("scriptName", "predict.py", "model", Map.of("jobId", x),
                "inputs", List.of(Map.of("name", "lookup.csv", "sha256", mine.get("sha256"))))).get("jobId").asString();

        HttpJson.Reply rerun = boss.post("/jobs/" + predict + "/rerun", Map.of("model", Map.of("jobId", y)));

        assertThat(rerun.status()).as(rerun.body()).isEqualTo(201);
        JsonNode again = storedJob(rerun.json().get("jobId").asString());
        assertThat(again.get("model").get("jobId").asString()).isEqualTo(y);
        Map<String, String> shaByName = new java.util.LinkedHashMap<>();
        again.get("inputs").forEach(i -> shaByName.put(i.get("name").asString(), i.get("sha256").asString()));
        assertThat(shaByName).containsExactly(Map.entry("lookup.csv", (String) mine.get("sha256")),
                Map.entry("model.json", (String) newMeta.get("sha256")),
                Map.entry("model.pt", (String) newWeights.get("sha256")));

        // No model at all: the model's files go, the submitter's stay.
        Map<String, Object> none = new java.util.HashMap<>();
        none.put("model", null);
        HttpJson.Reply withoutModel = boss.post("/jobs/" + predict + "/rerun", none);
        assertThat(withoutModel.status()).as(withoutModel.body()).isEqualTo(201);
        assertThat(storedJob(withoutModel.json().get("jobId").asString()).get("inputs"))
                .extracting(i -> i.get("name").asString()).containsExactly("lookup.csv");
    }

    @Test
    void aRerunWithTheSameModelKeepsItsInputsAfterTheModelsArtifactsWerePruned() {
        Map<String, Object> weights = artifact("model.pt", "pruned later " + System.nanoTime());
        String trained = finish(project("pruned-model"), 200, 0.3, List.of(weights));
        String predict = submit(job("scriptName", "predict.py", "model", Map.of("jobId", trained))).get("jobId")
                .asString();
        mongo.getCollection("artifacts").updateMany(new org.bson.Document("jobId", trained),
                new org.bson.Document("$set", new org.bson.Document("pruned", true)
                        .append("prunedAt", new java.util.Date()).append("prunedReason", "not among the best")));

        HttpJson.Reply rerun = boss.post("/jobs/" + predict + "/rerun", Map.of("priority", 5));

        assertThat(rerun.status()).as(rerun.body()).isEqualTo(201);
        assertThat(storedJob(rerun.json().get("jobId").asString()).get("inputs"))
                .isEqualTo(storedJob(predict).get("inputs"));
        // Overriding only the submitter's inputs keeps the model's too.
        Map<String, Object> mine = leftByAJob("lookup.csv", "added at the rerun");
        HttpJson.Reply withMine = boss.post("/jobs/" + predict + "/rerun",
                Map.of("inputs", List.of(Map.of("name", "lookup.csv", "sha256", mine.get("sha256")))));
        assertThat(withMine.status()).as(withMine.body()).isEqualTo(201);
        assertThat(storedJob(withMine.json().get("jobId").asString()).get("inputs"))
                .extracting(i -> i.get("name").asString()).containsExactly("lookup.csv", "model.pt");
    }

    @Test
    void theBlobsAJobStillToRunNamesAreReferencedUntilItEnds() {
        Map<String, Object> input = leftByAJob("lookup.csv", "still needed " + System.nanoTime());
        String waiting = submit(job("inputs", List.of(Map.of("name", "lookup.csv", "sha256", input.get("sha256")))))
                .get("jobId").asString();
        assertThat(referenced()).contains((String) input.get("sha256"));
        assertThat(boss.post("/jobs/" + waiting + "/cancel", "").status()).isEqualTo(200);
        assertThat(referenced()).doesNotContain((String) input.get("sha256"));
    }

    /** What jobs refer to: the input is also a kept artifact of the job that left it, which holds it anyway. */
    private Set<String> referenced() {
        Set<String> all = new HashSet<>();
        references.stream().filter(r -> !(r instanceof ArtifactBlobs)).forEach(r -> all.addAll(r.referenced()));
        return all;
    }
}
