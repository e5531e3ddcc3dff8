package com.maddatum.boss.readmodel;

import static org.assertj.core.api.Assertions.assertThat;

import com.maddatum.boss.support.BossApiTestBase;
import com.maddatum.testsupport.HttpJson;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;

/** {@code GET /fleet/demand}: what a kind of Worker could take, as KEDA's metrics-api trigger reads it. */
class DemandApiTest extends BossApiTestBase {

    private final String gpu = "gpu" + System.nanoTime();
    private final String cuda = "cuda" + System.nanoTime();

    private void submitMany(int n, Object... fields) {
        for (int i = 0; i < n; i++) {
            submit(job(fields));
        }
    }

    private JsonNode demand(String query) {
        HttpJson.Reply reply = boss.get("/fleet/demand" + query);
        assertThat(reply.status()).as(reply.body()).isEqualTo(200);
        return reply.json();
    }

    @Test
    void countsTheOrdersOfEveryLabelSetTheWorkerHas() {
        submitMany(2);
        submitMany(3, "requiredLabels", List.of(gpu));
        submitMany(1, "requiredLabels", List.of(gpu, cuda));
        submitMany(4, "requiredLabels", List.of("other"));

        JsonNode both = demand("?labels=" + gpu + "," + cuda);
        assertThat(both.get("claimable").asLong()).isEqualTo(6);
        assertThat(strings(both.get("labels"))).containsExactly(cuda, gpu);
        assertThat(both.get("gpuMemoryMiB").isNull()).isTrue();
        assertThat(both.get("byLabelSet")).hasSize(3);
        JsonNode first = both.get("byLabelSet").get(0);
        assertThat(strings(first.get("requiredLabels"))).isEmpty();
        assertThat(first.get("unassigned").asLong()).isEqualTo(2);
        assertThat(first.get("claimable").asLong()).isEqualTo(2);
        assertThat(strings(both.get("byLabelSet").get(2).get("requiredLabels"))).containsExactly(cuda, gpu);

        assertThat(demand("?labels=" + gpu).get("claimable").asLong()).isEqualTo(5);
        assertThat(demand("").get("claimable").asLong()).isEqualTo(2); // a Worker with no labels
        assertThat(demand("?labels=").get("claimable").asLong()).isEqualTo(2);
        assertThat(demand("?labels=" + cuda).get("claimable").asLong()).isEqualTo(2); // cuda alone is not enough
    }

    @Test
    void leavesOutOrdersThatNeedMoreGpuMemoryThanTheWorkerHas() {
        submitMany(2, "requiredLabels", List.of(gpu));
        submitMany(3, "requiredLabels", List.of(gpu), "minGpuMemoryMiB", 40_960);
        submitMany(1, "requiredLabels", List.of(gpu), "minGpuMemoryMiB", 24_576);

        assertThat(demand("?labels=" + gpu + "&gpuMemoryMiB=81920").get("claimable").asLong()).isEqualTo(6);
        JsonNode small = demand("?labels=" + gpu + "&gpuMemoryMiB=24576");
        assertThat(small.get("claimable").asLong()).isEqualTo(3);
        assertThat(small.get("gpuMemoryMiB").asLong()).isEqualTo(24_576);
        JsonNode gpuSet = small.get("byLabelSet").get(0);
        assertThat(gpuSet.get("unassigned").asLong()).isEqualTo(6);
        assertThat(gpuSet.get("claimable").asLong()).isEqualTo(3);
        // A Worker that says no GPU memory is never given such orders, so they are not its demand.
        assertThat(demand("?labels=" + gpu).get("claimable").asLong()).isEqualTo(2);
    }

    @Test
    void countsFallAsOrdersAreClaimedAndRiseWhenOneIsRequeued() {
        boss.post("/worker-node/create", Map.of("name", "demand-w", "labels", List.of(gpu)));
        submitMany(3, "requiredLabels", List.of(gpu));
        String query = "?labels=" + gpu;
        assertThat(demand(query).get("claimable").asLong()).isEqualTo(3);
        JsonNode claimed = claim("demand-w");
        claim("demand-w");
        assertThat(demand(query).get("claimable").asLong()).isEqualTo(1);
        claim("demand-w");
        JsonNode empty = demand(query);
        assertThat(empty.get("claimable").asLong()).isZero();
        assertThat(empty.get("byLabelSet")).isEmpty();
        // What an autoscaler scales on: the three held orders still want their Workers.
        assertThat(empty.get("inFlight").asLong()).isEqualTo(3);
        assertThat(empty.get("wanted").asLong()).isEqualTo(3);
        assertThat(demand("").get("inFlight").asLong()).as("a Worker without the label could not run them").isZero();
        // An unlabelled job running on a CPU box is not the GPU pool's work, though a GPU Worker could run it.
        String cpu = "cpu" + System.nanoTime();
        boss.post("/worker-node/create", Map.of("name", "demand-cpu", "labels", List.of(cpu)));
        submitMany(1);
        claim("demand-cpu");
        assertThat(demand(query).get("inFlight").asLong()).isEqualTo(3);
        assertThat(demand("?labels=" + cpu).get("inFlight").asLong()).isEqualTo(1);

        HttpJson.Reply handBack = boss.post("/callback", Map.of("status", 503, "orderId", claimed.get("_id").asString(),
                "attempt", 1, "node", "demand-w", "retryable", true,
                "error", Map.of("type", "WorkerShutdown", "message", "worker stopped")));
        assertThat(handBack.status()).as(handBack.body()).isEqualTo(200);
        JsonNode afterHandBack = demand(query);
        assertThat(afterHandBack.get("claimable").asLong()).isEqualTo(1);
        assertThat(afterHandBack.get("inFlight").asLong()).isEqualTo(2);
        assertThat(afterHandBack.get("wanted").asLong()).isEqualTo(3);
    }

    @Test
    void refusesBadParametersNamingThem() {
        assertBad("?labels=gpu,,cuda", "labels");
        assertBad("?labels=-gpu", "labels");
        assertBad("?labels=" + "x".repeat(65), "labels");
        assertBad("?labels=" + String.join(",", java.util.Collections.nCopies(65, "a")), "labels");
        assertBad("?gpuMemoryMiB=-1", "gpuMemoryMiB");
        assertBad("?gpuMemoryMiB=lots", "gpuMemoryMiB");
        assertBad("?gpuMemoryMiB=1.5", "gpuMemoryMiB");
    }

    private void assertBad(String query, String field) {
        HttpJson.Reply reply = boss.get("/fleet/demand" + query);
        assertThat(reply.status()).as(query).isEqualTo(400);
        assertThat(reply.json().get("field").asString()).as(query).isEqualTo(field);
    }

    private static List<String> strings(JsonNode array) {
        List<String> values = new ArrayList<>();
        array.forEach(v -> values.add(v.asString()));
        return values;
    }
}
