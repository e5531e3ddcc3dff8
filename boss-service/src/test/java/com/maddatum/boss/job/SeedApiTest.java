package com.maddatum.boss.job;

import static org.assertj.core.api.Assertions.assertThat;

import com.maddatum.boss.support.BossApiTestBase;
import com.maddatum.testsupport.HttpJson;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import tools.jackson.databind.JsonNode;

/** Every job runs with a seed: its own, or one the Boss chose and stored, and the outcome says which. */
class SeedApiTest extends BossApiTestBase {

    private JsonNode stored(JsonNode created) {
        return boss.get("/retrieve/job/" + created.get("jobId").asString()).json();
    }

    @Test
    void aJobWithoutASeedGetsOneTheBossChoseAndTheWorkerReceivesIt() {
        JsonNode first = stored(submit(job("projectName", "seeds")));
        JsonNode second = stored(submit(job("projectName", "seeds")));
        for (JsonNode job : new JsonNode[] {first, second}) {
            assertThat(job.get("seed").isInt()).as(job.toString()).isTrue();
            assertThat(job.get("seed").asLong()).isBetween(0L, (1L << 31) - 1);
            assertThat(job.get("seedSource").asString()).isEqualTo("boss");
        }
        // Chosen at random, not a constant (the chance that two draws coincide is one in two billion).
        assertThat(first.get("seed").asLong()).isNotEqualTo(second.get("seed").asLong());

        JsonNode order = claim("seed-reader");
        JsonNode fetched = boss.get("/retrieve/job/" + order.get("jobId").asString()).json();
        assertThat(fetched.get("seed").asLong()).isEqualTo(first.get("seed").asLong());
    }

    @Test
    void aJobsOwnSeedIsKeptUpToTwoToTheThirtyTwoMinusOne() {
        JsonNode small = stored(submit(job("seed", 0)));
        assertThat(small.get("seed").asLong()).isZero();
        assertThat(small.get("seedSource").asString()).isEqualTo("job");
        JsonNode large = stored(submit(job("seed", 4_294_967_295L)));
        assertThat(large.get("seed").asLong()).isEqualTo(4_294_967_295L);
        assertThat(large.get("seedSource").asString()).isEqualTo("job");
    }

    @Test
    void aSeedSourceInTheBodyIsTheBossesToWriteAndLinksAreDropped() {
        JsonNode claimedBoss = stored(submit(job("seed", 7, "seedSource", "boss", "rerunOf", "x", "reruns", "y")));
        assertThat(claimedBoss.get("seedSource").asString()).isEqualTo("job");
        assertThat(claimedBoss.has("rerunOf")).isFalse();
        assertThat(claimedBoss.has("reruns")).isFalse();
        JsonNode nullSeed = stored(submit(job("seed", null)));
        assertThat(nullSeed.get("seed").isInt()).isTrue();
        assertThat(nullSeed.get("seedSource").asString()).isEqualTo("boss");
    }

    @ParameterizedTest
    @ValueSource(strings = {"-1", "4294967296", "1.5", "\"12\"", "true", "[1]"})
    void aSeedThatIsNotAnIntegerFromZeroToTwoToTheThirtyTwoMinusOneIsRefused(String seed) {
        long before = count("jobs");
        HttpJson.Reply reply = boss.request("POST", "/job/create", "application/json",
                "{\"scriptName\":\"noop.py\",\"seed\":" + seed + "}");
        assertThat(reply.status()).as(reply.body()).isEqualTo(400);
        assertThat(reply.json().get("field").asString()).isEqualTo("seed");
        assertThat(reply.json().get("detail").asString()).contains("4294967295");
        assertThat(count("jobs")).isEqualTo(before);
    }

    @Test
    void theOutcomeOfAWorkerThatRecordsNoSeedGetsTheJobsSeed() {
        String jobId = submit(job("seed", 1234)).get("jobId").asString();
        seedClaim("seed-worker");
        assertThat(boss.post("/callback", Map.of("status", 200, "jobId", jobId, "loss", 1.0, "metric", 2.0)).status())
                .isEqualTo(200);
        JsonNode manifest = boss.get("/retrieve/outcome/" + jobId).json().get("manifest");
        assertThat(manifest.get("seed").asLong()).isEqualTo(1234);
        assertThat(manifest.get("seedSource").asString()).isEqualTo("job");
        assertThat(manifest.size()).as(manifest.toString()).isEqualTo(2);
    }
}
