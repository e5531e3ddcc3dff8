package com.maddatum.boss.readmodel;

import static org.assertj.core.api.Assertions.assertThat;

import com.maddatum.boss.job.JobStore;
import com.maddatum.boss.order.OrderQueries;
import com.maddatum.boss.outcome.OutcomeStore;
import com.maddatum.boss.support.BossApiTestBase;
import org.bson.types.ObjectId;
import org.springframework.beans.factory.annotation.Autowired;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;

/** What people poll, served from memory: the same answers the store would give. */
class ReadModelApiTest extends BossApiTestBase {

    private String finish(String node, int status, double loss, String project, int i) {
        String jobId = submit(job("projectName", project, "i", i)).get("jobId").asString();
        JsonNode order = claim(node);
        assertThat(order.get("jobId").asString()).isEqualTo(jobId);
        boss.post("/callback", Map.of("status", status, "jobId", jobId, "orderId", order.get("_id").asString(),
                "attempt", 1, "node", node, "loss", loss, "metricName", "mse"));
        return jobId;
    }

    @Test
    void theFleetCountsWhatEachNodeFinished() {
        String node = "counter-" + System.nanoTime();
        boss.post("/worker-node/create", Map.of("name", node));
        finish(node, 200, 1.0, "fleet", 0);
        finish(node, 200, 2.0, "fleet", 1);
        finish(node, 400, 3.0, "fleet", 2);
        JsonNode mine = null;
        for (JsonNode worker : boss.get("/workers").json()) {
            if (worker.get("name").asString().equals(node)) {
                mine = worker;
            }
        }
        assertThat(mine).isNotNull();
        assertThat(mine.get("jobsDone").asLong()).isEqualTo(2);
        assertThat(mine.get("jobsFailed").asLong()).isEqualTo(1);
        assertThat(mine.get("state").asString()).isEqualTo("idle");
    }

    @Test
    void jobPagesAreNewestFirstWithTotalsPerProjectAndStatus() {
        String project = "pages-" + System.nanoTime();
        List<String> ids = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            clock.advance(java.time.Duration.ofMillis(5));
            ids.add(submit(job("projectName", project, "i", i)).get("jobId").asString());
        }
        JsonNode first = boss.get("/jobs?project=" + project + "&size=2").json();
        JsonNode third = boss.get("/jobs?project=" + project + "&size=2&page=2").json();
        assertThat(first.get("total").asLong()).isEqualTo(5);
        assertThat(first.get("items")).extracting(item -> item.get("job").get("_id").asString())
                .containsExactly(ids.get(4), ids.get(3));
        assertThat(third.get("items")).extracting(item -> item.get("order").get("jobId").asString())
                .containsExactly(ids.get(0));
        assertThat(boss.get("/projects").json()).extracting(JsonNode::asString).contains(project);
        boss.post("/jobs/" + ids.get(1) + "/cancel", "");
        assertThat(boss.get("/jobs?project=" + project + "&status=cancelled").json().get("total").asLong()).isEqualTo(1);
        assertThat(boss.get("/jobs?project=" + project + "&status=unassigned").json().get("total").asLong()).isEqualTo(4);
    }

    @Test
    void boardsRankByLossAndListTheLatestDoneJobsInTheOrderTheyFinished() {
        String project = "board-" + System.nanoTime();
        double[] losses = {5.0, 1.0, 4.0, 2.0, 3.0};
        List<String> ids = new ArrayList<>();
        for (int i = 0; i < losses.length; i++) {
            clock.advance(java.time.Duration.ofSeconds(1));
            ids.add(finish("boarder", 200, losses[i], project, i));
        }
        finish("boarder", 500, 0.01, project, 99); // failed jobs are on neither board
        JsonNode top = boss.get("/projects/" + project + "/leaderboard?limit=3").json();
        assertThat(top).extracting(e -> e.get("loss").asDouble()).containsExactly(1.0, 2.0, 3.0);
        assertThat(top.get(0).get("job").get("i").asInt()).isEqualTo(1);
        assertThat(top.get(0).get("metricName").asString()).isEqualTo("mse");
        assertThat(top.get(0).get("node").asString()).isEqualTo("boarder");
        JsonNode latest = boss.get("/projects/" + project + "/outcomes?limit=2").json();
        assertThat(latest).extracting(e -> e.get("jobId").asString()).containsExactly(ids.get(3), ids.get(4));
    }

    @Autowired
    private OrderQueries orderQueries;
    @Autowired
    private OutcomeStore outcomeStore;
    @Autowired
    private JobStore jobStore;

    @Test
    void boardRowsKeptInMemoryStayWithinTheirByteBudgetHoweverLargeTheJobs() {
        // Jobs may carry up to a megabyte of parameters each; 5000 of them kept would be gigabytes.
        String project = "heavy-" + System.nanoTime();
        String padding = "x".repeat(300_000);
        List<String> jobIds = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            String jobId = submit(job("projectName", project, "i", i, "notes", padding)).get("jobId").asString();
            JsonNode order = claim("heavy");
            boss.post("/callback", Map.of("status", 200, "jobId", jobId, "orderId", order.get("_id").asString(),
                    "attempt", 1, "node", "heavy", "loss", (double) i));
            jobIds.add(jobId);
        }
        List<ObjectId> orderIds = jobIds.stream().map(id -> orderQueries.findByJobId(id).orElseThrow().id()).toList();
        BoardEntries entries = new BoardEntries(orderQueries, outcomeStore, jobStore, 1_000_000);
        for (int round = 0; round < 2; round++) {
            List<BoardEntries.Row> rows = entries.rows(orderIds);
            // Every row is answered, kept or not.
            assertThat(rows).extracting(BoardEntries.Row::loss).containsExactly(0.0, 1.0, 2.0, 3.0, 4.0);
            assertThat(rows).allSatisfy(row -> assertThat(row.job().get("notes")).isEqualTo(padding));
            assertThat(entries.keptBytes()).isBetween(600_000L, 1_000_000L);
        }
    }
}
