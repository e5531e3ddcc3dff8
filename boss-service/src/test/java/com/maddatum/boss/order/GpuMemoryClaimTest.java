package com.maddatum.boss.order;

import static org.assertj.core.api.Assertions.assertThat;

import com.maddatum.boss.support.BossApiTestBase;
import com.maddatum.testsupport.HttpJson;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.bson.Document;
import org.bson.types.ObjectId;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;

/** Jobs with {@code minGpuMemoryMiB} go only to a slot that says, in {@code /bored}, that its GPU has that much. */
class GpuMemoryClaimTest extends BossApiTestBase {

    private static final long GIB = 1024;

    @Autowired
    ClaimWaiters waiters;

    @Autowired
    MeterRegistry meters;

    private String submitNeeding(Long mib, Object... more) {
        clock.advance(Duration.ofSeconds(1)); // distinct ages: claim order is oldest first
        Map<String, Object> job = job(more);
        if (mib != null) {
            job.put("minGpuMemoryMiB", mib);
        }
        return submit(job).get("orderId").asString();
    }

    private HttpJson.Reply bored(String node, String query) {
        return boss.post("/bored/" + node + "?heartbeats=true" + query, "");
    }

    @Test
    void aSlotWithTooLittleGpuMemoryGetsTheNextFittingOrderAndTheBigOneKeepsItsPlace() {
        String big = submitNeeding(40 * GIB, "priority", 5);
        String small = submitNeeding(16 * GIB);
        String plain = submitNeeding(null);

        HttpJson.Reply first = bored("rtx-4090", "&gpuMemoryMiB=" + 24 * GIB);
        assertThat(first.status()).isEqualTo(200);
        assertThat(first.json().get("_id").asString()).isEqualTo(small);
        assertThat(first.json().get("minGpuMemoryMiB").asLong()).isEqualTo(16 * GIB);

        assertThat(orderStatus(big)).isEqualTo("unassigned");
        // Still first in line for a slot big enough, ahead of the plain order it was submitted before.
        assertThat(bored("a100", "&gpuMemoryMiB=" + 80 * GIB).json().get("_id").asString()).isEqualTo(big);
        assertThat(bored("a100", "&gpuMemoryMiB=" + 80 * GIB).json().get("_id").asString()).isEqualTo(plain);
    }

    @Test
    void aSlotThatSaysNoGpuMemoryNeverGetsAnOrderThatNeedsSome() {
        String big = submitNeeding(8 * GIB);
        assertThat(bored("cpu-box", "").status()).isEqualTo(204);
        assertThat(boss.post("/bored/seed-worker", "").status()).isEqualTo(204); // the seed's worker
        assertThat(bored("tiny", "&gpuMemoryMiB=0").status()).isEqualTo(204);
        assertThat(bored("exact", "&gpuMemoryMiB=" + 8 * GIB).json().get("_id").asString()).isEqualTo(big);
    }

    @Test
    void orderStoredWithoutTheFieldGoesToAnySlot() {
        String plain = submitNeeding(null);
        assertThat(mongo.getCollection("orders").find(new Document("_id", new ObjectId(plain))).first())
                .doesNotContainKey("minGpuMemoryMiB");
        assertThat(bored("cpu-only", "").json().get("_id").asString()).isEqualTo(plain);
    }

    @Test
    void requiredLabelsAndGpuMemoryMustBothFit() {
        String label = "g" + System.nanoTime();
        assertThat(boss.post("/worker-node/create", Map.of("name", "labelled", "labels", List.of(label))).status())
                .isEqualTo(200);
        String both = submitNeeding(40 * GIB, "requiredLabels", List.of(label));
        assertThat(bored("unlabelled", "&gpuMemoryMiB=" + 80 * GIB).status()).isEqualTo(204);
        assertThat(bored("labelled", "&gpuMemoryMiB=" + 24 * GIB).status()).isEqualTo(204);
        assertThat(bored("labelled", "&gpuMemoryMiB=" + 40 * GIB).json().get("_id").asString()).isEqualTo(both);
    }

    @Test
    void aLongPollThatCannotFitKeepsWaitingWithoutSpinningAndIsAnsweredByAFittingOrder() throws Exception {
        CompletableFuture<HttpJson.Reply> poll = boss.postAsync(
                "/bored/small-gpu?heartbeats=true&waitSeconds=20&gpuMemoryMiB=" + 24 * GIB, "");
        awaitWaiters(1);
        double emptyBefore = emptyClaims();
        String big = submitNeeding(40 * GIB);
        // The offer woke the waiter, which found nothing it fits: it is still waiting, not answered 204.
        assertThat(bored("other-small", "&gpuMemoryMiB=" + 24 * GIB).status()).isEqualTo(204);
        assertThat(poll).isNotDone();
        assertThat(waiters.waiting()).isEqualTo(1);

        String fitting = submitNeeding(24 * GIB);
        HttpJson.Reply reply = poll.get(5, TimeUnit.SECONDS);
        assertThat(reply.status()).isEqualTo(200);
        assertThat(reply.json().get("_id").asString()).isEqualTo(fitting);
        // One empty claim per wake-up (the big order's offer) and one for our own /bored above: a waiter
        // re-tried in a loop against an order it cannot fit would count thousands.
        assertThat(emptyClaims() - emptyBefore).isLessThanOrEqualTo(4);
        assertThat(orderStatus(big)).isEqualTo("unassigned");
        assertThat(bored("big-gpu", "&gpuMemoryMiB=" + 48 * GIB).json().get("_id").asString()).isEqualTo(big);
    }

    @Test
    void theWorkerSeesWhatTheJobNeedsInTheClaimedOrder() {
        submitNeeding(12 * GIB);
        assertThat(bored("w", "&gpuMemoryMiB=" + 12 * GIB).json().get("minGpuMemoryMiB").asLong())
                .isEqualTo(12 * GIB);
        submitNeeding(null);
        assertThat(bored("w", "&gpuMemoryMiB=" + 12 * GIB).json().has("minGpuMemoryMiB")).isFalse();
    }

    private String orderStatus(String orderId) {
        return mongo.getCollection("orders").find(new Document("_id", new ObjectId(orderId))).first()
                .getString("status");
    }

    private double emptyClaims() {
        return meters.get("boss.claims").tag("result", "empty").counter().count();
    }

    /** Waits (bounded) until the Boss has registered the long polls; not a sleep standing in for a result. */
    private void awaitWaiters(int count) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (waiters.waiting() < count && System.nanoTime() < deadline) {
            Thread.sleep(5);
        }
        assertThat(waiters.waiting()).isEqualTo(count);
    }
}
