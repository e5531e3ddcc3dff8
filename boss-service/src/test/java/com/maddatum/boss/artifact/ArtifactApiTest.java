package com.maddatum.boss.artifact;

import static org.assertj.core.api.Assertions.assertThat;

import com.maddatum.testsupport.HttpJson;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;

/** Artifacts attach to a job when the Boss accepts its outcome, and come back out through the job's routes. */
class ArtifactApiTest extends ArtifactApiTestBase {

    private static final byte[] PNG = {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n', 0, 0, 0, 13, 'I', 'H', 'D', 'R'};

    @Test
    void anAcceptedOutcomesArtifactsAreListedAndStreamedWithTheirTypes() {
        Map<String, Object> model = artifact("model.pt", "weights");
        Map<String, Object> curve = artifact("plots/curve.png", PNG);
        Map<String, Object> table = artifact("curve.csv", "epoch,loss\n1,0.5\n");
        Map<String, Object> meta = artifact("model.json", "{\"kind\":\"torch\"}");
        String jobId = finish(project("arts"), 200, 0.5, List.of(model, curve, table, meta));

        JsonNode list = listed(jobId);
        assertThat(list.get("jobId").asString()).isEqualTo(jobId);
        assertThat(list.get("artifacts")).extracting(a -> a.get("name").asString())
                .containsExactly("curve.csv", "model.json", "model.pt", "plots/curve.png");
        assertThat(list.get("skipped")).isEmpty();
        JsonNode png = list.get("artifacts").get(3);
        assertThat(png.get("size").asLong()).isEqualTo(PNG.length);
        assertThat(png.get("sha256").asString()).isEqualTo(curve.get("sha256"));
        assertThat(png.get("contentType").asString()).isEqualTo("image/png");
        assertThat(png.get("pruned").asBoolean()).isFalse();
        assertThat(png.get("createdAt").asString()).isNotBlank();
        assertThat(png.get("href").asString()).isEqualTo("/jobs/" + jobId + "/artifacts/plots/curve.png");

        HttpResponse<byte[]> image = download(png.get("href").asString());
        assertThat(image.statusCode()).isEqualTo(200);
        assertThat(image.body()).isEqualTo(PNG);
        assertThat(image.headers().firstValue("Content-Type")).hasValue("image/png");
        assertThat(image.headers().firstValue("Content-Length")).hasValue(Integer.toString(PNG.length));
        assertThat(image.headers().firstValue("Content-Disposition").orElseThrow())
                .startsWith("attachment").contains("filename=\"curve.png\"");
        assertThat(image.headers().firstValue("X-Content-Type-Options")).hasValue("nosniff");

        assertThat(download("/jobs/" + jobId + "/artifacts/curve.csv").headers().firstValue("Content-Type").orElseThrow())
                .startsWith("text/csv");
        assertThat(download("/jobs/" + jobId + "/artifacts/model.json").headers().firstValue("Content-Type")
                .orElseThrow()).startsWith("application/json");
        HttpResponse<byte[]> weights = download("/jobs/" + jobId + "/artifacts/model.pt");
        assertThat(weights.headers().firstValue("Content-Type")).hasValue("application/octet-stream");
        assertThat(new String(weights.body(), StandardCharsets.UTF_8)).isEqualTo("weights");
    }

    @Test
    void aRangeRequestGetsTheRestOfTheArtifact() {
        String jobId = finish(project("range"), 200, 1.0, List.of(artifact("predictions.csv", "0123456789")));
        HttpResponse<byte[]> rest = download("/jobs/" + jobId + "/artifacts/predictions.csv", "Range", "bytes=4-");
        assertThat(rest.statusCode()).isEqualTo(206);
        assertThat(new String(rest.body(), StandardCharsets.UTF_8)).isEqualTo("456789");
        assertThat(rest.headers().firstValue("Content-Range")).hasValue("bytes 4-9/10");
    }

    @Test
    void everyFormOfOneRangeIsAnsweredAndAStartPastTheEndIs416() {
        String jobId = finish(project("ranges"), 200, 1.0, List.of(artifact("digits.txt", "0123456789")));
        String path = "/jobs/" + jobId + "/artifacts/digits.txt";
        HttpResponse<byte[]> middle = download(path, "Range", "bytes=2-4");
        assertThat(middle.statusCode()).isEqualTo(206);
        assertThat(new String(middle.body(), StandardCharsets.UTF_8)).isEqualTo("234");
        assertThat(middle.headers().firstValue("Content-Range")).hasValue("bytes 2-4/10");
        assertThat(new String(download(path, "Range", "bytes=-3").body(), StandardCharsets.UTF_8)).isEqualTo("789");
        HttpResponse<byte[]> past = download(path, "Range", "bytes=10-");
        assertThat(past.statusCode()).isEqualTo(416);
        assertThat(past.headers().firstValue("Content-Range")).hasValue("bytes */10");
        assertThat(past.headers().firstValue("Content-Disposition")).isEmpty();
    }

    @Test
    void theHrefOfANameWithReservedCharactersDownloadsIt() {
        List<String> names = List.of("run;1.txt", "a+b=c&d,e.txt", "it's (1)!.txt", "50%/x y#z?.csv",
                "caf\u00e9:@$*.txt", "~tilde_-.txt");
        List<Map<String, Object>> artifacts = new ArrayList<>();
        names.forEach(name -> artifacts.add(artifact(name, "bytes of " + name)));
        String jobId = finish(project("reserved"), 200, 0.3, artifacts);
        JsonNode listed = listed(jobId).get("artifacts");
        assertThat(listed).hasSize(names.size());
        for (JsonNode artifact : listed) {
            String name = artifact.get("name").asString();
            String href = artifact.get("href").asString();
            assertThat(href.substring(href.indexOf("/artifacts/") + "/artifacts/".length()))
                    .as(href).matches("[A-Za-z0-9%._~/-]+");
            HttpResponse<byte[]> downloaded = download(href);
            assertThat(downloaded.statusCode()).as(href).isEqualTo(200);
            assertThat(new String(downloaded.body(), StandardCharsets.UTF_8)).as(href).isEqualTo("bytes of " + name);
        }
    }

    @Test
    void aRedeliveredOutcomeRecordsEachArtifactOnce() {
        Claimed claimed = submitAndClaim(job("projectName", project("again")), "again-node");
        Map<String, Object> report = outcome(claimed, 200, 2.0, List.of(artifact("model.pt", "w1"),
                artifact("model.json", "{}")));
        assertThat(boss.post("/callback", report).status()).isEqualTo(200);
        HttpJson.Reply repeat = boss.post("/callback", report);
        assertThat(repeat.status()).isEqualTo(200);
        assertThat(repeat.json().get("duplicate").asBoolean()).isTrue();

        assertThat(listed(claimed.jobId()).get("artifacts")).hasSize(2);
        assertThat(mongo.getCollection("artifacts").countDocuments(new org.bson.Document("jobId", claimed.jobId())))
                .isEqualTo(2);
    }

    @Test
    void aRepeatRecordsTheArtifactsTheFirstDeliveryLeftUnrecorded() {
        // The Boss died after the order moved and before it recorded the artifacts: the Worker, not having
        // had an answer, posts again, and the repeat records them from the stored outcome.
        Claimed claimed = submitAndClaim(job("projectName", project("crash")), "crash-node");
        Map<String, Object> report = outcome(claimed, 200, 2.0, List.of(artifact("model.pt", "w2")));
        assertThat(boss.post("/callback", report).status()).isEqualTo(200);
        mongo.getCollection("artifacts").deleteMany(new org.bson.Document("jobId", claimed.jobId()));
        assertThat(listed(claimed.jobId()).get("artifacts")).isEmpty();

        assertThat(boss.post("/callback", report).status()).isEqualTo(200);
        assertThat(listed(claimed.jobId()).get("artifacts")).extracting(a -> a.get("name").asString())
                .containsExactly("model.pt");
    }

    @Test
    void anOutcomeRefusedAsAStaleAttemptAttachesNothing() {
        // Worker A's lease runs out, the order goes to B as attempt 2; A's late outcome is refused.
        Claimed first = submitAndClaim(job("projectName", project("stale")), "stale-a");
        clock.advance(Duration.ofMinutes(6));
        assertThat(reapExpired()).isEqualTo(1);
        JsonNode second = claim("stale-b");
        assertThat(second.get("attempt").asInt()).isEqualTo(2);

        HttpJson.Reply late = boss.post("/callback", outcome(first, 200, 1.0, List.of(artifact("model.pt", "stale"))));
        assertThat(late.status()).isEqualTo(409);
        assertThat(listed(first.jobId()).get("artifacts")).isEmpty();
        assertThat(listed(first.jobId()).get("skipped")).isEmpty();

        Claimed winner = new Claimed(first.jobId(), second.get("_id").asString(), 2, "stale-b");
        assertThat(boss.post("/callback", outcome(winner, 200, 1.5, List.of(artifact("model.pt", "fresh"))))
                .status()).isEqualTo(200);
        JsonNode listed = listed(first.jobId()).get("artifacts");
        assertThat(listed).hasSize(1);
        assertThat(new String(download(listed.get(0).get("href").asString()).body(), StandardCharsets.UTF_8))
                .isEqualTo("fresh");
    }

    @Test
    void entriesTheBossCannotUseAreRecordedAsSkippedAndTheOutcomeStands() {
        Map<String, Object> kept = artifact("model.pt", "ok");
        Map<String, Object> missing = new java.util.LinkedHashMap<>(artifact("never.csv", "x"));
        missing.put("sha256", "ab".repeat(32)); // no such blob was uploaded
        Map<String, Object> traversal = artifact("../../etc/passwd", "root");
        Map<String, Object> absolute = artifact("/tmp/abs.txt", "abs");
        Map<String, Object> badHash = new java.util.LinkedHashMap<>(artifact("bad.txt", "b"));
        badHash.put("sha256", "not-a-hash");
        Map<String, Object> wrongSize = new java.util.LinkedHashMap<>(artifact("short.txt", "four"));
        wrongSize.put("size", 3);
        Claimed claimed = submitAndClaim(job("projectName", project("skips")), "skip-node");
        Map<String, Object> report = outcome(claimed, 200, 1.0,
                List.of(kept, missing, traversal, absolute, badHash, wrongSize));
        report.put("skippedArtifacts", List.of(Map.of("name", "huge.bin", "size", 5_000_000_000L,
                "reason", "over worker.artifacts.max-bytes")));

        HttpJson.Reply reply = boss.post("/callback", report);
        assertThat(reply.status()).as(reply.body()).isEqualTo(200);
        assertThat(boss.get("/jobs/" + claimed.jobId()).json().get("order").get("status").asString()).isEqualTo("done");

        JsonNode list = listed(claimed.jobId());
        assertThat(list.get("artifacts")).extracting(a -> a.get("name").asString()).containsExactly("model.pt");
        Map<String, String> reasons = new java.util.HashMap<>();
        list.get("skipped").forEach(s -> reasons.put(s.get("name").asString(), s.get("reason").asString()));
        assertThat(reasons).containsOnlyKeys("never.csv", "../../etc/passwd", "/tmp/abs.txt", "bad.txt", "short.txt",
                "huge.bin");
        assertThat(reasons.get("never.csv")).contains("no blob").contains("ab".repeat(32));
        assertThat(reasons.get("../../etc/passwd")).contains("refused").contains("'..'");
        assertThat(reasons.get("/tmp/abs.txt")).contains("absolute path");
        assertThat(reasons.get("bad.txt")).contains("sha256");
        assertThat(reasons.get("short.txt")).contains("4 bytes, not 3");
        assertThat(reasons.get("huge.bin")).isEqualTo("over worker.artifacts.max-bytes");

        // A skipped name cannot be downloaded, whatever it looks like: the 404 says why it is not there.
        HttpJson.Reply asked = boss.get("/jobs/" + claimed.jobId() + "/artifacts/never.csv");
        assertThat(asked.status()).isEqualTo(404);
        assertThat(asked.json().get("detail").asString()).contains("never.csv").contains("skipped");
        assertThat(boss.get("/jobs/" + claimed.jobId() + "/artifacts/..%2F..%2Fetc%2Fpasswd").status())
                .isIn(400, 404);
    }

    @Test
    void aFailedJobKeepsTheFilesItLeft() {
        String jobId = finish(project("failed"), 500, null, List.of(artifact("curve.png", PNG)));
        assertThat(boss.get("/jobs/" + jobId).json().get("order").get("status").asString()).isEqualTo("failed");
        assertThat(listed(jobId).get("artifacts")).extracting(a -> a.get("name").asString()).containsExactly("curve.png");
    }

    @Test
    void aMalformedArtifactsFieldCostsTheJobNothing() {
        Claimed claimed = submitAndClaim(job("projectName", project("malformed")), "malformed-node");
        Map<String, Object> report = outcome(claimed, 200, 3.0, null);
        report.put("artifacts", "model.pt");
        List<Object> odd = new ArrayList<>();
        odd.add("just a string");
        odd.add(Map.of("reason", "no name"));
        report.put("skippedArtifacts", odd);
        assertThat(boss.post("/callback", report).status()).isEqualTo(200);
        assertThat(boss.get("/jobs/" + claimed.jobId()).json().get("order").get("status").asString()).isEqualTo("done");
        JsonNode list = listed(claimed.jobId());
        assertThat(list.get("artifacts")).isEmpty();
        assertThat(list.get("skipped")).extracting(s -> s.get("name").asString()).containsExactly("(no name)");
    }

    @Test
    void unknownArtifactsAndJobsAreProblemsThatNameThem() {
        String jobId = finish(project("unknown"), 200, 1.0, List.of(artifact("model.pt", "m")));
        HttpJson.Reply missing = boss.get("/jobs/" + jobId + "/artifacts/nope.png");
        assertThat(missing.status()).isEqualTo(404);
        assertThat(missing.headers().firstValue("Content-Type").orElseThrow()).startsWith("application/problem+json");
        assertThat(missing.json().get("detail").asString()).contains("nope.png").contains(jobId);
        assertThat(missing.json().get("field").asString()).isEqualTo("name");

        String unknownJob = "0123456789abcdef01234567";
        assertThat(boss.get("/jobs/" + unknownJob + "/artifacts").status()).isEqualTo(404);
        assertThat(boss.get("/jobs/not-an-id/artifacts").status()).isEqualTo(404);
        assertThat(boss.get("/jobs/" + unknownJob + "/artifacts/model.pt").status()).isEqualTo(404);

        // A job that exists but has not finished lists nothing yet.
        String waiting = submit(job("projectName", project("waiting"))).get("jobId").asString();
        JsonNode none = listed(waiting);
        assertThat(none.get("artifacts")).isEmpty();
        assertThat(none.get("skipped")).isEmpty();
    }

    @Test
    void theOutcomeKeepsTheArtifactsAsTheWorkerSentThem() {
        Map<String, Object> model = artifact("model.pt", "kept");
        String jobId = finish(project("stored"), 200, 1.0, List.of(model));
        JsonNode outcome = boss.get("/retrieve/outcome/" + jobId).json();
        assertThat(outcome.get("artifacts").get(0).get("sha256").asString()).isEqualTo(model.get("sha256"));
        assertThat(outcome.has("details")).isFalse();
    }
}
