package com.maddatum.boss.artifact;

import static org.assertj.core.api.Assertions.assertThat;

import com.maddatum.testsupport.HttpJson;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.test.context.TestPropertySource;
import tools.jackson.databind.JsonNode;

/** {@code boss.artifacts.keep} with the best one and the latest one kept per project. */
@TestPropertySource(properties = {"boss.artifacts.keep.best=1", "boss.artifacts.keep.latest=1"})
class ArtifactRetentionApiTest extends ArtifactApiTestBase {

    @Autowired
    ArtifactRetention retention;

    @Autowired
    org.springframework.context.ApplicationContext context;

    private boolean pruned(String jobId) {
        JsonNode artifacts = listed(jobId).get("artifacts");
        assertThat(artifacts).isNotEmpty();
        return artifacts.get(0).get("pruned").asBoolean();
    }

    /** Polls until the job's artifacts are pruned (the sweep after an outcome runs on its own thread). */
    private boolean prunedWithin(String jobId, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!pruned(jobId) && System.nanoTime() < deadline) {
            Thread.sleep(50);
        }
        return pruned(jobId);
    }

    @Test
    void aProjectKeepsItsBestAndItsLatestJobsArtifacts() throws Exception {
        String project = project("keep");
        String worse = finish(project, 200, 3.0, List.of(artifact("model.pt", "w3 " + project)));
        clock.advance(Duration.ofMinutes(1));
        String best = finish(project, 200, 1.0, List.of(artifact("model.pt", "w1 " + project)));
        clock.advance(Duration.ofMinutes(1));
        String middle = finish(project, 200, 2.0, List.of(artifact("model.pt", "w2 " + project),
                artifact("curve.png", "png " + project)));
        clock.advance(Duration.ofMinutes(1));
        String latest = finish(project, 500, null, List.of(artifact("curve.png", "failed " + project)));

        // Each accepted outcome asked for a sweep of its project, off the callback's thread.
        assertThat(prunedWithin(worse, Duration.ofSeconds(10))).isTrue();
        assertThat(prunedWithin(middle, Duration.ofSeconds(10))).isTrue();
        assertThat(retention.sweep(project).jobs()).isEmpty();
        assertThat(pruned(best)).isFalse();
        assertThat(pruned(latest)).isFalse();

        JsonNode gone = listed(middle).get("artifacts");
        assertThat(gone).hasSize(2).allSatisfy(a -> {
            assertThat(a.get("pruned").asBoolean()).isTrue();
            assertThat(Instant.parse(a.get("prunedAt").asString())).isAfter(Instant.now().plusSeconds(100));
            assertThat(a.get("prunedReason").asString()).contains("best 1").contains("latest 1").contains(project);
            assertThat(a.has("href")).isFalse();
        });
        HttpJson.Reply download = boss.get("/jobs/" + middle + "/artifacts/model.pt");
        assertThat(download.status()).isEqualTo(410);
        assertThat(download.json().get("detail").asString()).contains("model.pt").contains("pruned");
        assertThat(download.json().get("field").asString()).isEqualTo("name");
        assertThat(boss.get("/jobs/" + best + "/artifacts/model.pt").status()).isEqualTo(200);

        // A pruned model cannot be used as one.
        HttpJson.Reply predict = boss.post("/job/create", job("scriptName", "predict.py", "model",
                Map.of("jobId", worse)));
        assertThat(predict.status()).isEqualTo(400);
        assertThat(predict.json().get("field").asString()).isEqualTo("model.jobId");
        assertThat(predict.json().get("detail").asString()).contains("pruned");
    }

    @Test
    void projectsArePrunedEachByTheirOwnRanking() {
        String one = project("one");
        String two = project("two");
        String oneOld = finish(one, 200, 5.0, List.of(artifact("model.pt", "a " + one)));
        String twoOnly = finish(two, 200, 9.0, List.of(artifact("model.pt", "b " + two)));
        String oneBest = finish(one, 200, 1.0, List.of(artifact("model.pt", "c " + one)));
        String oneLatest = finish(one, 200, 3.0, List.of(artifact("model.pt", "d " + one)));
        retention.sweepAll();
        assertThat(pruned(oneOld)).isTrue();
        assertThat(pruned(twoOnly)).isFalse();
        assertThat(pruned(oneBest)).isFalse();
        assertThat(pruned(oneLatest)).isFalse();
    }

    @Test
    void aModelAJobStillToRunUsesIsNotPruned() {
        String project = project("in-use");
        String model = finish(project, 200, 4.0, List.of(artifact("model.pt", "in use " + project)));
        String waiting = submit(job("scriptName", "predict.py", "model", Map.of("jobId", model),
                "requiredLabels", List.of("nobody-has-this"))).get("jobId").asString();
        finish(project, 200, 1.0, List.of(artifact("model.pt", "better " + project)));
        finish(project, 200, 2.0, List.of(artifact("model.pt", "newer " + project)));

        assertThat(retention.sweep(project).jobs()).doesNotContainKey(model);
        assertThat(pruned(model)).isFalse();

        assertThat(boss.post("/jobs/" + waiting + "/cancel", "").status()).isEqualTo(200);
        // Either this sweep prunes it or one an outcome asked for just did: no other job was due.
        assertThat(retention.sweep(project).jobs().keySet()).isSubsetOf(model);
        assertThat(pruned(model)).isTrue();
    }

    @Test
    void aPrunedArtifactsBlobIsCollectedAndAKeptOnesIsNot() throws Exception {
        String project = project("collect");
        Map<String, Object> old = artifact("model.pt", "collect old " + project);
        String pruned = finish(project, 200, 8.0, List.of(old));
        Map<String, Object> better = artifact("model.pt", "collect better " + project);
        finish(project, 200, 1.0, List.of(better));
        Map<String, Object> newer = artifact("model.pt", "collect newer " + project);
        finish(project, 200, 2.0, List.of(newer));
        retention.sweep(project);
        assertThat(pruned(pruned)).isTrue();

        // Within the grace nothing goes; past it, only the pruned artifact's blob.
        assertThat(blobs.find((String) old.get("sha256"))).isPresent();
        com.maddatum.boss.blob.Collecting.collectNow(context, Duration.ofHours(1));
        assertThat(blobs.find((String) old.get("sha256"))).isPresent();
        clock.advance(Duration.ofHours(2));
        com.maddatum.boss.blob.Collecting.collectNow(context, Duration.ofHours(1));
        assertThat(blobs.find((String) old.get("sha256"))).isEmpty();
        assertThat(blobs.find((String) better.get("sha256"))).isPresent();
        assertThat(blobs.find((String) newer.get("sha256"))).isPresent();
        assertThat(boss.get("/jobs/" + pruned + "/artifacts/model.pt").status()).isEqualTo(410);
    }

    @Test
    void jobsWithoutAProjectArePrunedAsOneGroup() throws Exception {
        String tag = project("none");
        String old = finish(null, 200, 5.0, List.of(artifact("model.pt", "a " + tag)));
        String best = finish(null, 200, 0.001, List.of(artifact("model.pt", "b " + tag)));
        String latest = finish(null, 200, 7.0, List.of(artifact("model.pt", "c " + tag)));
        assertThat(prunedWithin(old, Duration.ofSeconds(10))).isTrue();
        retention.sweepAll();
        assertThat(pruned(best)).isFalse();
        assertThat(pruned(latest)).isFalse();
        assertThat(listed(old).get("artifacts").get(0).get("prunedReason").asString())
                .contains("the jobs without a project");
    }
}
