package com.maddatum.boss.order;

import static org.assertj.core.api.Assertions.assertThat;

import com.maddatum.boss.support.BossApiTestBase;
import com.maddatum.testsupport.HttpJson;
import java.time.Duration;
import org.bson.Document;
import org.bson.types.ObjectId;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.TestConfiguration;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Import;
import org.springframework.context.annotation.Primary;

/**
 * Writes whose commit fails after the store applied them: the client hears 500, and yet the Boss's
 * memory holds what the store holds, so nothing is left undispatched or unreaped.
 */
@Import(WriteFailureApiTest.Flaky.class)
class WriteFailureApiTest extends BossApiTestBase {

    @TestConfiguration(proxyBeanMethods = false)
    static class Flaky {
        @Bean
        @Primary
        OrderConsistencyTest.FlakyDurability flakyDurability(
                org.springframework.beans.factory.ObjectProvider<com.maddatum.boss.store.EmbeddedMongo> embedded,
                com.maddatum.boss.config.BossProperties properties) {
            return new OrderConsistencyTest.FlakyDurability(embedded, properties);
        }
    }

    @Autowired
    OrderConsistencyTest.FlakyDurability durability;

    @Autowired
    OrderService orders;

    @AfterEach
    void disarm() {
        durability.failNext.set(0);
    }

    @Test
    void aClaimWhoseCommitFailedIsStillReapedAndRunsLater() {
        String jobId = submit(job()).get("jobId").asString();
        durability.failNext.set(1);
        assertThat(boss.post("/bored/unlucky?heartbeats=true", "").status()).isEqualTo(500);
        Document stored = mongo.findOne(new org.springframework.data.mongodb.core.query.BasicQuery(
                new Document("jobId", jobId)), Document.class, "orders");
        assertThat(stored.getString("status")).isEqualTo("assigned"); // the write landed
        assertThat(boss.post("/bored/other?heartbeats=true", "").status()).isEqualTo(204);

        clock.advance(Duration.ofMinutes(6));
        assertThat(orders.reapExpired()).isEqualTo(1);
        JsonAssert.claimed(claim("lucky"), jobId, 2);
    }

    @Test
    void aJobWhoseOrderCommitFailedIsStillDispatched() {
        // The job's insert commits first, then the order's: fail the second.
        durability.failNext.set(2);
        HttpJson.Reply created = boss.post("/job/create", job("projectName", "commit-fails"));
        assertThat(created.status()).isEqualTo(500);
        HttpJson.Reply claimed = boss.post("/bored/taker?heartbeats=true", "");
        assertThat(claimed.status()).isEqualTo(200);
        assertThat(boss.get("/jobs?project=commit-fails").json().get("total").asLong()).isEqualTo(1);
    }

    @Test
    void aCallbackWhoseOrderCommitFailedLeavesAReadableOutcomeAndARepeatFinishesNothingTwice() {
        String jobId = submit(job()).get("jobId").asString();
        String orderId = claim("reporter").get("_id").asString();
        java.util.Map<String, Object> report = java.util.Map.of("status", 200, "jobId", jobId, "orderId", orderId,
                "attempt", 1, "node", "reporter", "loss", 0.25);
        durability.failNext.set(2); // the outcome's commit passes, the order's fails
        assertThat(boss.post("/callback", report).status()).isEqualTo(500);
        assertThat(boss.get("/jobs/" + jobId).json().get("order").get("status").asString()).isEqualTo("done");
        assertThat(boss.get("/retrieve/outcome/" + jobId).status()).isEqualTo(200);
        HttpJson.Reply repeat = boss.post("/callback", report);
        assertThat(repeat.status()).isEqualTo(200);
        assertThat(repeat.json().get("duplicate").asBoolean()).isTrue();
        assertThat(mongo.getCollection("outcomes").countDocuments(new Document("jobId", jobId))).isEqualTo(1);
        assertThat(boss.get("/stats").json().get("queue").get("done").asLong()).isGreaterThanOrEqualTo(1);
    }

    /** Small assertions on claim answers. */
    static final class JsonAssert {
        static void claimed(tools.jackson.databind.JsonNode order, String jobId, int attempt) {
            assertThat(order.get("jobId").asString()).isEqualTo(jobId);
            assertThat(order.get("attempt").asInt()).isEqualTo(attempt);
            assertThat(ObjectId.isValid(order.get("_id").asString())).isTrue();
        }
    }
}
