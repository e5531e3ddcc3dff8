package com.maddatum.boss.readmodel;

import static org.assertj.core.api.Assertions.assertThat;

import com.maddatum.boss.support.BossApiTestBase;
import com.maddatum.testsupport.HttpJson;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;

/** What the dashboard's jobs table reads from {@code GET /jobs}: results per row, sorting by loss, filters. */
class JobTableApiTest extends BossApiTestBase {

    /** Real seconds since then: the test clock ticks with real time on top of what a test adds. */
    private static double since(long nanoTime) {
        return (System.nanoTime() - nanoTime) / 1e9;
    }

    private static String unique(String prefix) {
        return prefix + "-" + System.nanoTime();
    }

    /** Runs a job to done through a heartbeating claim; returns its id. A null loss reports none. */
    private String finish(Map<String, Object> job, Double loss) {
        String jobId = submit(job).get("jobId").asString();
        JsonNode order = claim("table");
        assertThat(order.get("jobId").asString()).isEqualTo(jobId);
        Map<String, Object> outcome = new LinkedHashMap<>(Map.of("status", 200, "jobId", jobId,
                "orderId", order.get("_id").asString(), "attempt", 1, "node", "table"));
        if (loss != null) {
            outcome.put("loss", loss);
        }
        assertThat(boss.post("/callback", outcome).status()).isEqualTo(200);
        return jobId;
    }

    private String fail(Map<String, Object> job) {
        // One attempt: with other Workers live in this shared Boss, a 500 with attempts left would be re-queued
        // for a second opinion instead of failing.
        job.put("maxAttempts", 1);
        String jobId = submit(job).get("jobId").asString();
        JsonNode order = claim("table");
        assertThat(boss.post("/callback", Map.of("status", 500, "jobId", jobId, "orderId", order.get("_id").asString(),
                "attempt", 1, "node", "table")).status()).isEqualTo(200);
        return jobId;
    }

    private JsonNode item(String query, String jobId) {
        for (JsonNode item : boss.get("/jobs?" + query).json().get("items")) {
            if (item.get("order").get("jobId").asString().equals(jobId)) {
                return item;
            }
        }
        throw new AssertionError("job " + jobId + " not listed by /jobs?" + query);
    }

    private List<String> ids(String query) {
        List<String> ids = new ArrayList<>();
        boss.get("/jobs?" + query).json().get("items").forEach(i -> ids.add(i.get("order").get("jobId").asString()));
        return ids;
    }

    /** Every page of a listing, two at a time, joined: paging must cut across the groups without gaps. */
    private List<String> allPages(String query) {
        List<String> ids = new ArrayList<>();
        for (int page = 0; page < 10; page++) {
            List<String> one = ids(query + "&size=2&page=" + page);
            ids.addAll(one);
            if (one.size() < 2) {
                break;
            }
        }
        return ids;
    }

    @Test
    void aRowCarriesItsLossMetricDurationAndLinks() {
        String project = unique("table");
        String jobId = submit(job("projectName", project)).get("jobId").asString();
        JsonNode queued = item("project=" + project, jobId);
        assertThat(queued.has("loss")).isFalse();
        assertThat(queued.has("durationSeconds")).as("a job that never started has no duration").isFalse();
        assertThat(queued.get("links").get("job").asString()).isEqualTo("/jobs/" + jobId);
        assertThat(queued.get("links").has("outcome")).isFalse();

        JsonNode order = claim("table");
        String orderId = order.get("_id").asString();
        clock.advance(Duration.ofSeconds(2));
        long started = System.nanoTime();
        boss.post("/orders/" + orderId + "/heartbeat", Map.of("node", "table", "attempt", 1));
        clock.advance(Duration.ofMillis(3500));
        assertThat(item("project=" + project, jobId).get("durationSeconds").asDouble())
                .as("running: from the first heartbeat (not the claim) to now").isBetween(3.5, 3.5 + since(started));

        clock.advance(Duration.ofSeconds(4));
        boss.post("/callback", Map.of("status", 200, "jobId", jobId, "orderId", orderId, "attempt", 1,
                "node", "table", "loss", 0.25, "metric", 0.91, "metricName", "r2"));
        double ended = since(started);
        clock.advance(Duration.ofMinutes(5));
        JsonNode done = item("project=" + project, jobId);
        assertThat(done.get("loss").asDouble()).isEqualTo(0.25);
        assertThat(done.get("metric").asDouble()).isEqualTo(0.91);
        assertThat(done.get("metricName").asString()).isEqualTo("r2");
        assertThat(done.get("durationSeconds").asDouble()).as("done: fixed at its end").isBetween(7.5, 7.5 + ended);
        assertThat(done.get("job").get("projectName").asString()).isEqualTo(project);
        JsonNode links = done.get("links");
        assertThat(boss.get(links.get("outcome").asString()).json().get("metric").asDouble()).isEqualTo(0.91);
        assertThat(boss.get(links.get("job").asString()).json().get("order").get("status").asString()).isEqualTo("done");
        assertThat(boss.get(links.get("logs").asString()).status()).isEqualTo(200);
    }

    @Test
    void aJobAWorkerNeverHeartbeatedLastsFromItsClaim() {
        String project = unique("seedtable");
        String jobId = submit(job("projectName", project)).get("jobId").asString();
        long claimed = System.nanoTime();
        JsonNode order = seedClaim("seed-table");
        clock.advance(Duration.ofSeconds(9));
        assertThat(item("project=" + project, jobId).get("durationSeconds").asDouble()).isBetween(9.0, 9.0 + since(claimed));
        boss.post("/callback", Map.of("status", 200, "jobId", jobId, "loss", 1.5, "metric", 2.5));
        double ended = since(claimed);
        clock.advance(Duration.ofSeconds(30));
        JsonNode done = item("project=" + project, jobId);
        assertThat(done.get("durationSeconds").asDouble()).isBetween(9.0, 9.0 + ended);
        assertThat(done.get("loss").asDouble()).isEqualTo(1.5);
        assertThat(done.has("metricName")).isFalse();
        assertThat(order.get("jobId").asString()).isEqualTo(jobId);
    }

    @Test
    void aJobHandedBackAndCancelledBeforeRunningAgainHasNoDuration() {
        String project = unique("handedback");
        String jobId = submit(job("projectName", project, "maxAttempts", 3)).get("jobId").asString();
        JsonNode order = claim("table");
        clock.advance(Duration.ofSeconds(5));
        boss.post("/callback", Map.of("status", 503, "jobId", jobId, "orderId", order.get("_id").asString(),
                "attempt", 1, "node", "table", "retryable", true));
        assertThat(item("project=" + project, jobId).get("order").get("status").asString()).isEqualTo("unassigned");
        assertThat(item("project=" + project, jobId).has("durationSeconds")).isFalse();
        boss.post("/jobs/" + jobId + "/cancel", "");
        assertThat(item("project=" + project, jobId).has("durationSeconds")).isFalse();
    }

    @Test
    void sortingByLossListsTheDoneJobsByLossThenTheJobsWithoutOne() {
        String project = unique("byloss");
        String worst = finish(job("projectName", project), 3.0);
        String best = finish(job("projectName", project), 1.0);
        String middle = finish(job("projectName", project), 2.0);
        clock.advance(Duration.ofMillis(5));
        String noLoss = finish(job("projectName", project), null);
        String failed = fail(job("projectName", project));
        clock.advance(Duration.ofMillis(5));
        String queued = submit(job("projectName", project, "requiredLabels", List.of("nobody-has-this"))).get("jobId")
                .asString();

        String query = "project=" + project;
        assertThat(allPages(query + "&sort=loss")).containsExactly(best, middle, worst, noLoss, queued, failed);
        assertThat(allPages(query + "&sort=-loss")).containsExactly(worst, middle, best, noLoss, queued, failed);
        assertThat(ids(query)).as("newest first by default").containsExactly(queued, failed, noLoss, middle, best, worst);
        assertThat(ids(query + "&sort=newest")).containsExactly(queued, failed, noLoss, middle, best, worst);
        assertThat(boss.get("/jobs?" + query + "&sort=loss").json().get("total").asLong()).isEqualTo(6);
        assertThat(ids(query + "&sort=loss&status=done")).containsExactly(best, middle, worst, noLoss);
        assertThat(ids(query + "&sort=-loss&status=failed")).containsExactly(failed);
        assertThat(ids(query + "&sort=loss&status=done&size=2&page=1")).containsExactly(worst, noLoss);

        // Across every project: this project's best is ranked before its worst, wherever others' fall.
        List<String> everyone = ids("sort=loss&size=100&status=done");
        assertThat(everyone).contains(best, worst);
        assertThat(everyone.indexOf(best)).isLessThan(everyone.indexOf(worst));
    }

    @Test
    void theSweepFilterListsOnlyThatSweepsJobsAndCombinesWithTheOthers() {
        String project = unique("sweeps");
        String sweep = unique("sweep");
        String inSweep = finish(job("projectName", project, "sweepId", sweep), 2.0);
        String alsoInSweep = finish(job("projectName", project, "sweepId", sweep), 1.0);
        String otherProjectSameSweep = finish(job("projectName", project + "-other", "sweepId", sweep), 0.5);
        String outside = finish(job("projectName", project), 0.1);
        clock.advance(Duration.ofMillis(5));
        String queued = submit(job("projectName", project, "sweepId", sweep, "requiredLabels", List.of("nobody")))
                .get("jobId").asString();

        assertThat(ids("sweep=" + sweep + "&sort=loss"))
                .containsExactly(otherProjectSameSweep, alsoInSweep, inSweep, queued);
        assertThat(ids("sweep=" + sweep + "&project=" + project + "&sort=loss"))
                .containsExactly(alsoInSweep, inSweep, queued);
        assertThat(ids("sweep=" + sweep + "&project=" + project + "&status=unassigned")).containsExactly(queued);
        assertThat(boss.get("/jobs?sweep=" + sweep).json().get("total").asLong()).isEqualTo(4);
        assertThat(boss.get("/jobs?sweep=" + sweep + "&project=" + project + "&status=done").json().get("total")
                .asLong()).isEqualTo(2);
        assertThat(ids("project=" + project)).contains(outside, inSweep);
        assertThat(item("sweep=" + sweep, inSweep).get("order").get("sweepId").asString()).isEqualTo(sweep);
        assertThat(boss.get("/jobs?sweep=" + unique("none")).json().get("total").asLong()).isZero();
        assertThat(boss.get("/projects").json()).extracting(JsonNode::asString)
                .as("a project is named once, however many sweeps it has").containsOnlyOnce(project);
    }

    @Test
    void badSortsAndSweepIdsAreRefusedNamingTheField() {
        HttpJson.Reply sort = boss.get("/jobs?sort=accuracy");
        assertThat(sort.status()).isEqualTo(400);
        assertThat(sort.json().get("field").asString()).isEqualTo("sort");
        for (Object bad : new Object[] {42, "", "two\nlines", "x".repeat(129)}) {
            long before = count("jobs");
            HttpJson.Reply reply = boss.post("/job/create", job("sweepId", bad));
            assertThat(reply.status()).as("sweepId %s", bad).isEqualTo(400);
            assertThat(reply.json().get("field").asString()).isEqualTo("sweepId");
            assertThat(count("jobs")).as("nothing stored").isEqualTo(before);
        }
    }
}
