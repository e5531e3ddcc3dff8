package com.maddatum.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import com.maddatum.testsupport.HttpJson;
import com.maddatum.testsupport.JarProcess;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.JsonNode;

/** The packaged Boss and two packaged Workers, as separate processes, through real jobs and real faults. */
class SystemIT {

    private static final Duration A_WHILE = Duration.ofMinutes(3);

    @TempDir
    Path dir;

    @SuppressWarnings("unchecked")
    private static Map<String, Object> example(String name, Object... overrides) throws Exception {
        Map<String, Object> job = HttpJson.MAPPER.readValue(
                Files.readString(Path.of(System.getProperty("examples.dir"), name)), LinkedHashMap.class);
        for (int i = 0; i < overrides.length; i += 2) {
            job.put((String) overrides[i], overrides[i + 1]);
        }
        return job;
    }

    private static Map<String, Object> noop(Object... fields) {
        Map<String, Object> job = new LinkedHashMap<>();
        job.put("scriptName", "noop.py");
        job.put("projectName", "e2e");
        for (int i = 0; i < fields.length; i += 2) {
            job.put((String) fields[i], fields[i + 1]);
        }
        return job;
    }

    private static JsonNode awaitDone(HttpJson boss, String jobId) throws InterruptedException {
        JsonNode detail = boss.awaitJobStatus(jobId, "done", A_WHILE);
        assertThat(detail.get("order").get("status").asString()).as("job %s: %s", jobId, detail).isEqualTo("done");
        return detail;
    }

    @Test
    void theSampleJobsAndFiftyNoopJobsAllEndDoneWithOutcomes() throws Exception {
        try (SystemUnderTest system = new SystemUnderTest(dir).startBoss(Map.of())) {
            system.startWorker("w1", Map.of());
            system.startWorker("w2", Map.of());
            List<String> jobs = new ArrayList<>();
            jobs.add(system.submit(example("wine_seed_job.json", "epochs", 60)));
            jobs.add(system.submit(example("diabetes_good_job.json", "epochs", 40)));
            jobs.add(system.submit(example("diabetes_ridge_job.json")));
            for (int i = 0; i < 50; i++) {
                jobs.add(system.submit(noop("i", i)));
            }
            Set<String> nodes = new HashSet<>();
            for (String jobId : jobs) {
                JsonNode outcome = awaitDone(system.boss, jobId).get("outcome");
                assertThat(outcome.get("status").asInt()).isEqualTo(200);
                assertThat(outcome.get("jobId").asString()).isEqualTo(jobId);
                nodes.add(outcome.get("node").asString());
            }
            assertThat(nodes).containsExactlyInAnyOrder("w1", "w2");
            JsonNode wine = system.boss.get("/jobs/" + jobs.get(0)).json().get("outcome");
            assertThat(wine.get("metricName").asString()).isEqualTo("neg_mean_squared_error");
            assertThat(wine.get("details").get("rows").asInt()).isEqualTo(174);
            JsonNode board = system.boss.get("/projects/diabetes/leaderboard").json();
            assertThat(board).hasSize(2);
        }
    }

    @Test
    void aWorkerKilledMidJobLosesItsLeaseAndTheOtherWorkerFinishesIt() throws Exception {
        try (SystemUnderTest system = new SystemUnderTest(dir).startBoss(SystemUnderTest.FAST_LEASES)) {
            JarProcess doomed = system.startWorker("doomed", Map.of());
            String jobId = system.submit(noop("sleepSeconds", 8));
            JsonNode running = system.boss.awaitJobStatus(jobId, "running", A_WHILE);
            assertThat(running.get("order").get("assignedTo").asString()).isEqualTo("doomed");

            // Killed before the survivor starts: a JVM start on a loaded machine can outlast the 8 s job.
            doomed.kill9(); // the JVM and its python child, as if the machine died
            system.startWorker("survivor", Map.of());

            JsonNode detail = awaitDone(system.boss, jobId);
            JsonNode order = detail.get("order");
            assertThat(order.get("attempt").asInt()).isEqualTo(2);
            assertThat(detail.get("outcome").get("node").asString()).isEqualTo("survivor");
            assertThat(detail.get("outcome").get("attempt").asInt()).isEqualTo(2);
            List<String> reasons = new ArrayList<>();
            order.get("history").forEach(h -> reasons.add(h.get("status").asString() + ":" + h.path("node").asString()));
            assertThat(reasons).containsSubsequence("assigned:doomed", "unassigned:doomed", "assigned:survivor", "done:survivor");
            assertThat(order.get("history").get(3).get("reason").asString()).contains("lease expired");
            assertThat(system.boss.get("/retrieve/outcome/" + jobId).status()).isEqualTo(200);
        }
    }

    @Test
    void aBossKilledWhileWorkersAreBusyLosesNothingAndGetsTheHeldBackOutcomesOnce() throws Exception {
        // Leases long enough that the outcomes spooled during the outage arrive before any expires.
        try (SystemUnderTest system = new SystemUnderTest(dir).startBoss(Map.of("BOSS_LEASE_TIMEOUT", "60s"))) {
            system.startWorker("w1", Map.of());
            system.startWorker("w2", Map.of());
            List<String> jobs = new ArrayList<>();
            for (int i = 0; i < 4; i++) {
                jobs.add(system.submit(noop("sleepSeconds", 4, "i", i)));
            }
            for (int i = 0; i < 6; i++) {
                jobs.add(system.submit(noop("i", 100 + i)));
            }
            system.boss.await("/jobs?status=running", page -> page.get("total").asInt() == 2, A_WHILE);

            system.bossProcess.kill9();
            // Both running jobs end while the Boss is down: their outcomes wait in the workers' spools.
            long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
            while (spooled(system, "w1") + spooled(system, "w2") < 2 && System.nanoTime() < deadline) {
                Thread.sleep(100);
            }
            assertThat(spooled(system, "w1") + spooled(system, "w2")).isEqualTo(2);
            system.bossProcess.restart(); // same port, same data directory

            for (String jobId : jobs) {
                JsonNode detail = awaitDone(system.boss, jobId);
                JsonNode order = detail.get("order");
                assertThat(order.get("attempt").asInt()).as("no job ran twice").isEqualTo(1);
                long doneLines = Stream.iterate(0, i -> i + 1).limit(order.get("history").size())
                        .filter(i -> order.get("history").get(i).get("status").asString().equals("done")).count();
                assertThat(doneLines).isEqualTo(1);
                assertThat(detail.get("outcome").get("attempt").asInt()).isEqualTo(1);
            }
            assertThat(system.boss.get("/jobs?status=done&size=100").json().get("total").asInt()).isEqualTo(jobs.size());
            // The Boss records before it answers; the worker deletes its spool file once it has the answer.
            deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
            while (spooled(system, "w1") + spooled(system, "w2") > 0 && System.nanoTime() < deadline) {
                Thread.sleep(100);
            }
            assertThat(spooled(system, "w1") + spooled(system, "w2")).isZero();
        }
    }

    @Test
    void aWorkerStoppedWithSigtermHandsItsUnfinishedJobBack() throws Exception {
        try (SystemUnderTest system = new SystemUnderTest(dir).startBoss(Map.of())) {
            JarProcess leaving = system.startWorker("leaving", Map.of("WORKER_SHUTDOWN_GRACE", "1s"));
            String jobId = system.submit(noop("sleepSeconds", 60));
            system.boss.awaitJobStatus(jobId, "running", A_WHILE);

            assertThat(leaving.sigterm(Duration.ofSeconds(30))).isIn(0, 143);
            JsonNode order = system.boss.get("/jobs/" + jobId).json().get("order");
            assertThat(order.get("status").asString()).isEqualTo("unassigned");
            assertThat(order.get("reason").asString()).contains("WorkerShutdown");

            system.startWorker("staying", Map.of());
            String quick = system.submit(noop());
            JsonNode handedBack = system.boss.awaitJobStatus(jobId, "running", A_WHILE).get("order");
            assertThat(handedBack.get("assignedTo").asString()).isEqualTo("staying");
            assertThat(handedBack.get("attempt").asInt()).isEqualTo(2);
            system.boss.post("/jobs/" + jobId + "/cancel", Map.of());
            awaitDone(system.boss, quick);
        }
    }

    @Test
    void aWorkerStoppedUnderComposesTimingHandsBackEveryRunningJobBeforeItWouldBeKilled() throws Exception {
        // docker-compose.yml's rule, scaled down: stop_grace_period covers the shutdown grace, one kill
        // grace for every run at once and as long again for a stuck one, and some seconds to report.
        Duration grace = Duration.ofSeconds(1);
        Duration kill = Duration.ofSeconds(3);
        Duration stopGracePeriod = grace.plus(kill.multipliedBy(2)).plusSeconds(5);
        try (SystemUnderTest system = new SystemUnderTest(dir).startBoss(Map.of())) {
            JarProcess leaving = system.startWorker("leaving", Map.of("WORKER_SLOTS", "4",
                    "WORKER_SHUTDOWN_GRACE", grace.toSeconds() + "s", "WORKER_KILL_GRACE", kill.toSeconds() + "s"));
            List<String> jobs = new ArrayList<>();
            for (int i = 0; i < 4; i++) {
                // Each ignores SIGTERM, so only SIGKILL after the whole kill grace ends it.
                jobs.add(system.submit(noop("sleepSeconds", 120, "ignoreTerm", true, "i", i)));
            }
            for (String jobId : jobs) {
                JsonNode log = system.boss.await("/jobs/" + jobId + "/logs",
                        l -> l.path("text").asString().contains("noop ignores SIGTERM"), A_WHILE);
                assertThat(log.path("text").asString()).as(jobId).contains("noop ignores SIGTERM");
            }

            // sigterm() fails if the JVM is still up when the period ends: Docker would SIGKILL it there.
            assertThat(leaving.sigterm(stopGracePeriod)).isIn(0, 143);
            for (String jobId : jobs) {
                JsonNode order = system.boss.get("/jobs/" + jobId).json().get("order");
                assertThat(order.get("status").asString()).as(jobId).isEqualTo("unassigned");
                assertThat(order.get("reason").asString()).as(jobId).contains("WorkerShutdown");
                assertThat(order.get("attempt").asInt()).isEqualTo(1);
            }
        }
    }

    private static long spooled(SystemUnderTest system, String worker) throws Exception {
        Path spool = system.spool(worker);
        if (!Files.isDirectory(spool)) {
            return 0;
        }
        try (Stream<Path> files = Files.list(spool)) {
            return files.filter(f -> f.toString().endsWith(".json")).count();
        }
    }

    @Test
    void withTokensConfiguredWorkersAndSubmittersUseTheirOwn() throws Exception {
        Map<String, String> tokens = Map.of("BOSS_SECURITY_SUBMITTER_TOKENS", "e2e-submitter-0123456789abcdef0123456789",
                "BOSS_SECURITY_WORKER_TOKENS", "e2e-worker-0123456789abcdef0123456789abc", "SERVER_ADDRESS", "127.0.0.1");
        try (SystemUnderTest system = new SystemUnderTest(dir).startBoss(tokens)) {
            system.startWorker("w1", Map.of("WORKER_TOKEN", "e2e-worker-0123456789abcdef0123456789abc"));
            assertThat(system.boss.post("/job/create", noop()).status()).isEqualTo(401);
            HttpJson submitter = system.boss.withToken("e2e-submitter-0123456789abcdef0123456789");
            String jobId = submitter.post("/job/create", noop()).json().get("jobId").asString();
            JsonNode detail = submitter.awaitJobStatus(jobId, "done", A_WHILE);
            assertThat(detail.get("order").get("status").asString()).isEqualTo("done");
            assertThat(system.boss.withToken("e2e-worker-0123456789abcdef0123456789abc").post("/job/create", noop()).status()).isEqualTo(403);
        }
    }

    /**
     * A script's parent is the Worker's JVM, and /proc/<ppid>/environ shows it the JVM's environment: a
     * WORKER_TOKEN there is the script's to read (shown first, as the README says). Read from a file
     * (WORKER_TOKEN_FILE), the token is in no environment the script can see, and still works.
     */
    @Test
    void aWorkerReadingItsTokenFromAFileKeepsItFromItsScriptsAndStillWorks() throws Exception {
        String token = "e2e-worker-file-0123456789abcdef0123456789";
        Path scripts = Files.createDirectories(dir.resolve("scripts"));
        // Only here, never among the scripts that ship: it reports the parent's environment.
        Files.writeString(scripts.resolve("parent_environ.py"), String.join("\n",
                "import json, os",
                "with open('/proc/%d/environ' % os.getppid(), 'rb') as f:",
                "    entries = [e.decode('utf-8', 'replace') for e in f.read().split(b'\\0') if e]",
                "print(json.dumps({'status': 200, 'parentEnviron': entries}))", ""));
        Path secret = Files.writeString(dir.resolve("worker_token"), token + "\n");
        String submitterToken = "e2e-submitter-0123456789abcdef0123456789";
        try (SystemUnderTest system = new SystemUnderTest(dir).startBoss(Map.of("BOSS_SECURITY_WORKER_TOKENS", token,
                "BOSS_SECURITY_SUBMITTER_TOKENS", submitterToken, "SERVER_ADDRESS", "127.0.0.1"))) {
            HttpJson submitter = system.boss.withToken(submitterToken);
            // Each probe needs its worker's label: the first worker's last long poll may still be open at
            // the Boss after it has stopped, and must not take the second probe.
            Map<String, Object> probe = Map.of("scriptName", "parent_environ.py", "projectName", "e2e",
                    "requiredLabels", List.of("token-in-env"));

            JarProcess fromEnv = system.startWorker("env", Map.of("WORKER_TOKEN", token,
                    "WORKER_SCRIPTS_DIR", scripts.toString(), "WORKER_LABELS", "token-in-env"));
            String first = submitter.post("/job/create", probe).json().get("jobId").asString();
            JsonNode seen = awaitDone(submitter, first).get("outcome").get("details").get("parentEnviron");
            assertThat(seen.toString()).contains("WORKER_TOKEN=" + token);
            fromEnv.close();

            system.startWorker("file", Map.of("WORKER_TOKEN_FILE", secret.toString(),
                    "WORKER_SCRIPTS_DIR", scripts.toString(), "WORKER_LABELS", "token-in-file"));
            String second = submitter.post("/job/create", Map.of("scriptName", "parent_environ.py",
                    "projectName", "e2e", "requiredLabels", List.of("token-in-file"))).json().get("jobId").asString();
            JsonNode detail = awaitDone(submitter, second); // claimed and reported with the file's token
            assertThat(detail.get("outcome").get("node").asString()).isEqualTo("file");
            JsonNode environ = detail.get("outcome").get("details").get("parentEnviron");
            assertThat(environ.toString()).contains("WORKER_TOKEN_FILE=").doesNotContain(token);
        }
    }
}
