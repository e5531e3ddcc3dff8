package com.maddatum.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import com.maddatum.testsupport.HttpJson;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.JsonNode;

/**
 * Fleet operations with the packaged jars: a sick Worker is taken out by the Boss itself, an operator
 * drains and brings back machines, and no job is lost on the way.
 */
class FleetIT {

    private static final Duration A_WHILE = Duration.ofMinutes(3);
    private static final String SUBMITTER = "e2e-submitter-0123456789abcdef0123456789";
    private static final String WORKER = "e2e-worker-0123456789abcdef0123456789abc";
    private static final String OPERATOR = "e2e-operator-0123456789abcdef012345678";

    @TempDir
    Path dir;

    private static Map<String, String> tokens() {
        return Map.of("BOSS_SECURITY_SUBMITTER_TOKENS", SUBMITTER, "BOSS_SECURITY_WORKER_TOKENS", WORKER,
                "BOSS_SECURITY_OPERATOR_TOKENS", OPERATOR, "SERVER_ADDRESS", "127.0.0.1");
    }

    private static Map<String, Object> noop(Object... fields) {
        Map<String, Object> job = new LinkedHashMap<>();
        job.put("scriptName", "noop.py");
        job.put("projectName", "fleet");
        for (int i = 0; i < fields.length; i += 2) {
            job.put((String) fields[i], fields[i + 1]);
        }
        return job;
    }

    private static JsonNode worker(HttpJson reader, String name) {
        for (JsonNode worker : reader.get("/workers").json()) {
            if (worker.get("name").asString().equals(name)) {
                return worker;
            }
        }
        return null;
    }

    private static JsonNode awaitState(HttpJson reader, String name, String state) throws InterruptedException {
        long deadline = System.nanoTime() + A_WHILE.toNanos();
        JsonNode last = null;
        while (System.nanoTime() < deadline) {
            last = worker(reader, name);
            if (last != null && state.equals(last.get("state").asString())) {
                return last;
            }
            Thread.sleep(100);
        }
        throw new AssertionError("worker " + name + " never became " + state + "; last seen: " + last);
    }

    private static void awaitPolledSince(HttpJson reader, String name, String seenAt) throws InterruptedException {
        long deadline = System.nanoTime() + A_WHILE.toNanos();
        while (System.nanoTime() < deadline) {
            if (!seenAt.equals(worker(reader, name).get("lastSeenAt").asString())) {
                return;
            }
            Thread.sleep(100);
        }
        throw new AssertionError("worker " + name + " has not asked for work since " + seenAt);
    }

    /**
     * A Worker whose interpreter is gone hands back every job it claims (the script cannot start): the
     * machine's fault, so each order is re-queued. After three such endings in a row the Boss stops
     * giving it work and says why; the healthy Worker does the whole queue, no job fails, and only an
     * operator brings the sick one back.
     */
    @Test
    void aWorkerThatFailsEveryJobIsQuarantinedAndTheOtherDoesTheWholeQueue() throws Exception {
        try (SystemUnderTest system = new SystemUnderTest(dir).startBoss(tokens())) {
            HttpJson submitter = system.boss.withToken(SUBMITTER);
            HttpJson operator = system.boss.withToken(OPERATOR);
            system.startWorker("healthy", Map.of("WORKER_TOKEN", WORKER));
            awaitState(submitter, "healthy", "idle");
            system.startWorker("sick", Map.of("WORKER_TOKEN", WORKER, "WORKER_PYTHON", dir.resolve("no-such-python").toString()));
            awaitState(submitter, "sick", "idle");

            List<String> jobs = new ArrayList<>();
            for (int i = 0; i < 12; i++) {
                jobs.add(submitter.post("/job/create", noop("i", i, "sleepSeconds", 0.3)).json().get("jobId").asString());
            }

            JsonNode sick = awaitState(submitter, "sick", "quarantined");
            JsonNode evidence = sick.get("quarantine").get("evidence");
            assertThat(evidence).as("the evidence: %s", sick).hasSize(3);
            Set<String> failedJobs = new HashSet<>();
            evidence.forEach(e -> failedJobs.add(e.get("jobId").asString()));
            assertThat(evidence.toString()).contains("ScriptNotStarted");

            Set<String> ranOn = new HashSet<>();
            for (String jobId : jobs) {
                JsonNode detail = submitter.awaitJobStatus(jobId, "done", A_WHILE);
                assertThat(detail.get("order").get("status").asString()).as("job %s: %s", jobId, detail).isEqualTo("done");
                ranOn.add(detail.get("outcome").get("node").asString());
            }
            assertThat(ranOn).containsExactly("healthy");
            assertThat(failedJobs).as("the jobs the sick worker failed were done elsewhere").isSubsetOf(new HashSet<>(jobs));

            // Still quarantined: it gets nothing while it waits.
            String later = submitter.post("/job/create", noop("late", true)).json().get("jobId").asString();
            assertThat(submitter.awaitJobStatus(later, "done", A_WHILE).get("outcome").get("node").asString())
                    .isEqualTo("healthy");
            assertThat(worker(submitter, "sick").get("state").asString()).isEqualTo("quarantined");

            // Neither a submitter nor a worker token lifts a quarantine; an operator does.
            assertThat(submitter.post("/workers/sick/undrain", Map.of()).status()).isEqualTo(403);
            assertThat(system.boss.withToken(WORKER).post("/workers/sick/undrain", Map.of()).status()).isEqualTo(403);
            assertThat(operator.post("/workers/sick/undrain", Map.of()).status()).isEqualTo(200);
            assertThat(worker(submitter, "sick").get("state").asString()).isNotEqualTo("quarantined");
        }
    }

    /**
     * An operator drains a Worker in the middle of a job: the job finishes there, the Worker then shows
     * drained and takes nothing new while the other does the queue, and an undrain brings it back.
     */
    @Test
    void aDrainedWorkerFinishesWhatItRunsTakesNothingNewAndComesBackWhenUndrained() throws Exception {
        try (SystemUnderTest system = new SystemUnderTest(dir).startBoss(tokens())) {
            HttpJson submitter = system.boss.withToken(SUBMITTER);
            HttpJson operator = system.boss.withToken(OPERATOR);
            system.startWorker("a", Map.of("WORKER_TOKEN", WORKER));
            awaitState(submitter, "a", "idle");
            String running = submitter.post("/job/create", noop("sleepSeconds", 4)).json().get("jobId").asString();
            assertThat(submitter.awaitJobStatus(running, "running", A_WHILE).get("order").get("assignedTo").asString())
                    .isEqualTo("a");

            assertThat(submitter.post("/workers/a/drain", Map.of("reason", "disk swap")).status()).isEqualTo(403);
            HttpJson.Reply drained = operator.post("/workers/a/drain", Map.of("reason", "disk swap"));
            assertThat(drained.status()).as(drained.body()).isEqualTo(200);
            assertThat(worker(submitter, "a").get("state").asString()).isEqualTo("draining");

            List<String> queued = new ArrayList<>();
            for (int i = 0; i < 3; i++) {
                queued.add(submitter.post("/job/create", noop("i", i)).json().get("jobId").asString());
            }
            JsonNode first = submitter.awaitJobStatus(running, "done", A_WHILE);
            assertThat(first.get("outcome").get("node").asString()).as("the running job finished where it ran").isEqualTo("a");
            JsonNode whenDrained = awaitState(submitter, "a", "drained");
            // Let the drained worker ask for work twice more, so that "nothing new" is something it was refused.
            awaitPolledSince(submitter, "a", whenDrained.get("lastSeenAt").asString());
            awaitPolledSince(submitter, "a", worker(submitter, "a").get("lastSeenAt").asString());
            for (String jobId : queued) {
                assertThat(submitter.get("/jobs/" + jobId).json().get("order").get("status").asString())
                        .as("nothing new goes to a drained worker").isEqualTo("unassigned");
            }

            system.startWorker("b", Map.of("WORKER_TOKEN", WORKER));
            for (String jobId : queued) {
                assertThat(submitter.awaitJobStatus(jobId, "done", A_WHILE).get("outcome").get("node").asString())
                        .isEqualTo("b");
            }

            assertThat(operator.post("/workers/a/undrain", Map.of()).status()).isEqualTo(200);
            awaitState(submitter, "a", "idle");
        }
    }
}
