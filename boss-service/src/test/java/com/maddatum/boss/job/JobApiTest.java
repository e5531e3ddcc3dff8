package com.maddatum.boss.job;

import static org.assertj.core.api.Assertions.assertThat;

import com.maddatum.boss.support.BossApiTestBase;
import com.maddatum.testsupport.HttpJson;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;

class JobApiTest extends BossApiTestBase {

    /** The seed's sample job, verbatim, misspelling and all. */
    static Map<String, Object> seedJob() {
        return job("hiddenLayers", List.of(
                        Map.of("activation", "relu", "widthModifier", 4, "dropout", 0.2),
                        Map.of("activation", "relu", "widthModifier", 2.3, "dropout", 0.2)),
                "dataFileName", "wine_data.csv", "scriptName", "nn.py", "projectName", "wine_data",
                "depedentVariable", "con_lot", "crossValidateOnly", true,
                "crossValidationCrossingType", "neg_mean_squared_error", "batchSize", 100000, "epochs", 3000,
                "patienceRate", 0.05, "lastLayerActivator", "", "learningRate", 0.05, "l1", 0.1,
                "minDependentVarValue", 0, "maxDependentVarValue", 1500, "scalerType", "standard");
    }

    @Test
    void storesTheJobExactlyAsSubmittedPlusItsIdAndSeed() {
        Map<String, Object> sent = seedJob();
        JsonNode created = submit(sent);
        String jobId = created.get("jobId").asString();
        assertThat(created.get("_id").asString()).isEqualTo(jobId);
        assertThat(created.get("status").asString()).isEqualTo("unassigned");

        JsonNode stored = boss.get("/retrieve/job/" + jobId).json();
        assertThat(stored.get("_id").asString()).isEqualTo(jobId);
        ((tools.jackson.databind.node.ObjectNode) stored).remove("_id");
        // The Boss gives every job a seed (SeedApiTest); the rest is the body, field for field.
        assertThat(stored.get("seedSource").asString()).isEqualTo("boss");
        ((tools.jackson.databind.node.ObjectNode) stored).remove(List.of("seed", "seedSource"));
        assertThat(stored).isEqualTo(tools.jackson.databind.json.JsonMapper.builder().build()
                .readTree(HttpJson.json(sent)));
        assertThat(stored.get("widthModifier")).isNull();
        assertThat(stored.get("hiddenLayers").get(0).get("widthModifier").isIntegralNumber()).isTrue();
        assertThat(stored.get("depedentVariable").asString()).isEqualTo("con_lot");
    }

    @Test
    void createsAnUnassignedOrderVisibleInTheSeedListing() {
        JsonNode created = submit(seedJob());
        HttpJson.Reply listing = boss.get("/retrieve/order");
        assertThat(listing.status()).isEqualTo(200);
        JsonNode newest = listing.json().get(0);
        assertThat(newest.get("_id").asString()).isEqualTo(created.get("orderId").asString());
        assertThat(newest.get("jobId").asString()).isEqualTo(created.get("jobId").asString());
        assertThat(newest.get("status").asString()).isEqualTo("unassigned");
        assertThat(newest.get("createdDate").asString()).isNotBlank();
        assertThat(listing.headers().firstValue("X-Total-Count")).isPresent();
    }

    @Test
    void listsJobsByProjectAndStatus() {
        String project = "proj-" + System.nanoTime();
        submit(job("projectName", project, "n", 1));
        JsonNode second = submit(job("projectName", project, "n", 2));
        submit(job("projectName", "other"));
        boss.post("/jobs/" + second.get("jobId").asString() + "/cancel", "");

        JsonNode all = boss.get("/jobs?project=" + project).json();
        assertThat(all.get("total").asLong()).isEqualTo(2);
        JsonNode cancelled = boss.get("/jobs?project=" + project + "&status=cancelled").json();
        assertThat(cancelled.get("total").asLong()).isEqualTo(1);
        assertThat(cancelled.get("items").get(0).get("job").get("n").asInt()).isEqualTo(2);
    }

    @Test
    void jobDetailShowsOrderHistoryAndOutcome() {
        JsonNode created = submit(job("projectName", "detail"));
        String jobId = created.get("jobId").asString();
        JsonNode order = seedClaim("detail-node");
        boss.post("/callback", Map.of("status", 200, "jobId", jobId, "loss", 1.25, "metric", 3.5));

        JsonNode detail = boss.get("/jobs/" + jobId).json();
        assertThat(detail.get("job").get("projectName").asString()).isEqualTo("detail");
        assertThat(detail.get("order").get("status").asString()).isEqualTo("done");
        assertThat(detail.get("order").get("history")).extracting(h -> h.get("status").asString())
                .containsExactly("unassigned", "assigned", "done");
        assertThat(detail.get("order").get("history").get(2).get("node").asString()).isEqualTo("detail-node");
        assertThat(detail.get("outcome").get("loss").asDouble()).isEqualTo(1.25);
        assertThat(detail.get("outcome").get("orderId").asString()).isEqualTo(order.get("_id").asString());
    }

    @Test
    void cancellingAQueuedJobTakesItOutOfTheQueue() {
        JsonNode created = submit(job());
        HttpJson.Reply cancelled = boss.post("/jobs/" + created.get("jobId").asString() + "/cancel", "");
        assertThat(cancelled.status()).isEqualTo(200);
        assertThat(cancelled.json().get("status").asString()).isEqualTo("cancelled");
        assertThat(boss.post("/bored/anyone", "").status()).isEqualTo(204);
        HttpJson.Reply again = boss.post("/jobs/" + created.get("jobId").asString() + "/cancel", "");
        assertThat(again.status()).isEqualTo(409);
        assertThat(again.json().get("type").asString()).endsWith("/invalid-transition");
    }

    @Test
    void minGpuMemoryMiBIsCopiedIntoTheOrderWithinItsBounds() {
        for (long mib : new long[] {1, 40_960, 10_000_000}) {
            JsonNode created = submit(job("minGpuMemoryMiB", mib));
            JsonNode order = boss.get("/jobs/" + created.get("jobId").asString()).json().get("order");
            assertThat(order.get("minGpuMemoryMiB").asLong()).isEqualTo(mib);
            assertThat(mongo.getCollection("orders").find(new org.bson.Document("_id",
                    new org.bson.types.ObjectId(created.get("orderId").asString()))).first().get("minGpuMemoryMiB"))
                    .isInstanceOfSatisfying(Number.class, n -> assertThat(n.longValue()).isEqualTo(mib));
        }
        for (Object bad : new Object[] {0, -1, 10_000_001, 2.5, "40960", true, List.of(1)}) {
            long jobs = count("jobs");
            HttpJson.Reply reply = boss.post("/job/create", job("minGpuMemoryMiB", bad));
            assertThat(reply.status()).as("%s", bad).isEqualTo(400);
            assertThat(reply.json().get("field").asString()).isEqualTo("minGpuMemoryMiB");
            assertThat(reply.json().get("detail").asString()).contains("1 to 10000000");
            assertThat(count("jobs")).isEqualTo(jobs);
        }
    }

    @Test
    void aRerunCanDropOrChangeTheGpuMemoryItNeeds() {
        String original = submit(job("minGpuMemoryMiB", 81_920)).get("jobId").asString();
        HttpJson.Reply smaller = boss.post("/jobs/" + original + "/rerun", Map.of("minGpuMemoryMiB", 40_960));
        assertThat(smaller.status()).as(smaller.body()).isEqualTo(201);
        assertThat(orderOf(smaller).get("minGpuMemoryMiB").asLong()).isEqualTo(40_960);
        java.util.Map<String, Object> drop = new java.util.HashMap<>();
        drop.put("minGpuMemoryMiB", null);
        HttpJson.Reply none = boss.post("/jobs/" + original + "/rerun", drop);
        assertThat(none.status()).as(none.body()).isEqualTo(201);
        assertThat(orderOf(none).has("minGpuMemoryMiB")).isFalse();
    }

    private JsonNode orderOf(HttpJson.Reply created) {
        return boss.get("/jobs/" + created.json().get("jobId").asString()).json().get("order");
    }
}
