package com.maddatum.boss.sweep;

import static org.assertj.core.api.Assertions.assertThat;

import com.maddatum.boss.artifact.ModelUses;
import com.maddatum.boss.blob.BlobReferences;
import com.maddatum.boss.support.RawHttp;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.function.Predicate;
import com.maddatum.boss.job.JobService;
import com.maddatum.boss.web.ApiProblem;
import org.bson.Document;
import org.bson.types.ObjectId;
import org.mockito.ArgumentMatchers;
import org.mockito.Mockito;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import tools.jackson.databind.JsonNode;

/**
 * A running sweep's base is every later trial's job: what it names is kept as a queued job's is. And a sweep
 * whose trials' jobs the Boss keeps refusing stops, rather than record a refusal for each trial of its budget.
 */
class SweepBaseHoldsItsDataApiTest extends SweepApiTestBase {

    private static final String CSV = "x,y\n1,2\n3,4\n";

    @Autowired List<BlobReferences> references;
    @Autowired ModelUses models;

    private RawHttp http;

    @BeforeEach
    void rawHttp() {
        http = new RawHttp(port);
    }

    private String upload(String name) {
        RawHttp.Reply reply = http.post("/datasets?name=" + name, "text/csv", CSV.getBytes(StandardCharsets.UTF_8));
        assertThat(reply.status()).as(reply.text()).isEqualTo(201);
        return reply.json().get("sha256").asString();
    }

    private RawHttp.Reply deleteFirstVersion(String name) {
        return http.send("DELETE", "/datasets/" + name + "?version=1", null, null);
    }

    @Test
    void aRunningSweepsDataCannotBeDeletedEvenWithNoTrialQueued() {
        String name = label + "-held.csv";
        String sha = upload(name);
        // As POST /sweeps stores a base whose data no parameter varies: its dataSha256 pinned.
        ObjectId id = stored(new Document("scriptName", "noop.py").append("dataFileName", name)
                .append("dataSha256", sha), SweepStatus.RUNNING);

        RawHttp.Reply refused = deleteFirstVersion(name);
        assertThat(refused.status()).as(refused.text()).isEqualTo(409);
        assertThat(refused.json().get("detail").asString()).contains("sweep " + id.toHexString());
        assertThat(references.stream().flatMap(r -> r.referenced().stream())).contains(sha);

        assertThat(sweeps.cancel(id, systemClock.instant())).isTrue();
        RawHttp.Reply deleted = deleteFirstVersion(name);
        assertThat(deleted.status()).as("a sweep that runs no more holds nothing: " + deleted.text()).isEqualTo(200);
    }

    @Test
    void aRunningSweepsModelAndInputsAreInUseAndADoneOnesAreNot() {
        String model = new ObjectId().toHexString();
        String input = "ab".repeat(32);
        Document base = new Document("scriptName", "predict.py").append("model", new Document("jobId", model))
                .append("inputs", List.of(new Document("name", "extra.bin").append("sha256", input).append("size", 1)));
        ObjectId running = stored(base, SweepStatus.RUNNING);
        assertThat(models.modelJobsInUse()).contains(model);
        assertThat(references.stream().flatMap(r -> r.referenced().stream())).contains(input);

        assertThat(sweeps.cancel(running, systemClock.instant())).isTrue();
        assertThat(models.modelJobsInUse()).doesNotContain(model);
        assertThat(references.stream().flatMap(r -> r.referenced().stream())).doesNotContain(input);
    }

    @Test
    void trialsRefusedOneAfterAnotherStopTheSweepWithTheReason() {
        ObjectId id = stored(new Document("scriptName", "noop.py"), SweepStatus.RUNNING);
        driverRefusing(job -> true).drive(id);

        int limit = properties.sweeps().maxRefusedInARow();
        JsonNode sweep = sweep(id.toHexString());
        assertThat(sweep.get("status").asString()).isEqualTo("cancelled");
        assertThat(sweep.get("stopReason").asString()).contains("the last " + limit + " trials' jobs were refused")
                .contains("the data is gone");
        assertThat(sweep.get("counts").get("failed").asInt()).isEqualTo(limit);
        assertThat(countIn(TrialStore.COLLECTION, new Document("sweepId", id.toHexString()))).isEqualTo(limit);
        assertThat(leaderboard(id.toHexString()).get("trials").get(0).get("error").asString())
                .contains("the data is gone");
    }

    @Test
    void aJobCreatedBetweenRefusalsStartsTheCountAgain() {
        ObjectId id = stored(new Document("scriptName", "noop.py"), SweepStatus.RUNNING);
        // Every other trial refused: never two in a row, so all 20 are tried and the sweep runs on.
        driverRefusing(job -> job.getInteger("trial") % 2 == 0).drive(id);

        JsonNode sweep = sweep(id.toHexString());
        assertThat(sweep.get("status").asString()).isEqualTo("running");
        assertThat(sweep.has("stopReason")).isFalse();
        assertThat(sweep.get("counts").get("failed").asInt()).isEqualTo(10);
        assertThat(sweep.get("counts").get("queued").asInt()).isEqualTo(10);
    }

    /** A running sweep of 20 random trials, all at once, stored without telling any driver. */
    private ObjectId stored(Document base, SweepStatus status) {
        ObjectId id = new ObjectId();
        sweeps.insert(new Sweep(id, label, null, "random", base,
                List.of(new ParameterSpec("learningRate", null, 0.0, 1.0, "uniform")), 20, 20, 1,
                new Sweep.Metric("loss", "minimize"), null, false, null, status, systemClock.instant(), 0, 0, 0,
                false, null, false, 0, null));
        return id;
    }

    /** A driver whose job service refuses, as the job rules would, the trials' jobs {@code refuse} picks. */
    private SweepDriver driverRefusing(Predicate<Document> refuse) {
        JobService refusing = Mockito.spy(jobs);
        Mockito.doAnswer(call -> {
            if (refuse.test(call.getArgument(1))) {
                throw ApiProblem.invalidField("dataSha256", "the data is gone");
            }
            return call.callRealMethod();
        }).when(refusing).create(ArgumentMatchers.any(ObjectId.class), ArgumentMatchers.any(Document.class));
        return newDriver(trials, refusing);
    }
}
