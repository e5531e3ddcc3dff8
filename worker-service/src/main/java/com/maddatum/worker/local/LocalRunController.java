package com.maddatum.worker.local;

import com.maddatum.worker.client.BossClient;
import com.maddatum.worker.config.WorkerSettings;
import com.maddatum.worker.runner.OutcomeBuilder;
import com.maddatum.worker.runner.ProcessResult;
import com.maddatum.worker.runner.ProcessRunner;
import com.maddatum.worker.runner.ScriptLauncher;
import jakarta.annotation.PreDestroy;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Clock;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.http.HttpStatus;
import org.springframework.http.ProblemDetail;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RequestHeader;
import org.springframework.web.bind.annotation.RestController;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * The seed's local interface: {@code POST /scripts/run} runs a Job JSON on this machine outside the
 * queue and answers 202 with a run id; the Outcome goes to the job's {@code callbackAddress} when it
 * has one, and can be read at {@code GET /scripts/run/{id}}. It listens on loopback unless configured
 * otherwise, and asks for the worker token when one is set.
 */
@RestController
class LocalRunController {

    private static final Logger log = LoggerFactory.getLogger(LocalRunController.class);

    private final ScriptLauncher launcher;
    private final BossClient boss;
    private final WorkerSettings settings;
    private final JsonMapper json;
    private final Clock clock;
    private final ExecutorService runs = Executors.newFixedThreadPool(2);
    /** The last {@link #KEEP_RESULTS} local runs, oldest dropped first. */
    private final Map<String, Map<String, Object>> results = java.util.Collections.synchronizedMap(
            new java.util.LinkedHashMap<>() {
                @Override
                protected boolean removeEldestEntry(Map.Entry<String, Map<String, Object>> eldest) {
                    return size() > KEEP_RESULTS;
                }
            });
    private static final int KEEP_RESULTS = 100;

    LocalRunController(ScriptLauncher launcher, BossClient boss, WorkerSettings settings, JsonMapper json, Clock clock) {
        this.launcher = launcher;
        this.boss = boss;
        this.settings = settings;
        this.json = json;
        this.clock = clock;
    }

    @PostMapping("/scripts/run")
    ResponseEntity<Object> run(@RequestHeader(value = "Authorization", required = false) String authorization,
            @RequestBody JsonNode body) {
        if (!authorized(authorization)) {
            return problem(HttpStatus.UNAUTHORIZED, "A valid bearer token is required.");
        }
        if (body == null || !body.isObject()) {
            return problem(HttpStatus.BAD_REQUEST, "The body must be a Job JSON object.");
        }
        @SuppressWarnings("unchecked")
        Map<String, Object> job = json.convertValue(body, LinkedHashMap.class);
        String runId = UUID.randomUUID().toString();
        results.put(runId, Map.of("runId", runId, "status", "running"));
        runs.execute(() -> execute(runId, job));
        return ResponseEntity.accepted().body(Map.of("runId", runId, "status", "started",
                "message", "job started, the outcome goes to its callbackAddress when it has one"));
    }

    @GetMapping("/scripts/run/{runId}")
    ResponseEntity<Object> result(@RequestHeader(value = "Authorization", required = false) String authorization,
            @PathVariable String runId) {
        if (!authorized(authorization)) {
            return problem(HttpStatus.UNAUTHORIZED, "A valid bearer token is required.");
        }
        Map<String, Object> result = results.get(runId);
        return result == null ? problem(HttpStatus.NOT_FOUND, "No run " + runId + ".") : ResponseEntity.ok(result);
    }

    private void execute(String runId, Map<String, Object> job) {
        Map<String, Object> outcome;
        try {
            ProcessRunner.Running running = launcher.launch(job, "local-" + runId, null, Map.of("LOCAL_RUN_ID", runId));
            ProcessResult result = running.await();
            outcome = OutcomeBuilder.fromResult(result, null, job.get("_id"), json);
        } catch (ScriptLauncher.Refused e) {
            outcome = OutcomeBuilder.refused(job.get("_id"), e.status(), e.type(), e.getMessage());
        } catch (Exception e) {
            outcome = OutcomeBuilder.refused(job.get("_id"), 500, "WorkerFailure", e.toString());
        }
        outcome.put("node", settings.nodeName());
        outcome.putIfAbsent("finishedAt", clock.instant().toString());
        Map<String, Object> record = new ConcurrentHashMap<>();
        record.put("runId", runId);
        record.put("status", "finished");
        record.put("outcome", outcome);
        results.put(runId, record); // finished before the callback goes out: whoever hears it may ask
        if (job.get("callbackAddress") instanceof String address && !address.isBlank()) {
            record.put("delivery", "pending");
            try {
                record.put("delivery", boss.deliver(URI.create(address.replaceAll("/+$", "") + "/callback"), outcome));
            } catch (IllegalArgumentException e) {
                record.put("delivery", "bad callbackAddress: " + e.getMessage());
            }
        }
        log.info("local run finished run={} status={} delivery={}", runId, outcome.get("status"), record.get("delivery"));
    }

    private boolean authorized(String authorization) {
        return settings.token().map(token -> authorization != null && MessageDigest.isEqual(
                ("Bearer " + token).getBytes(StandardCharsets.UTF_8), authorization.getBytes(StandardCharsets.UTF_8)))
                .orElse(true);
    }

    private static ResponseEntity<Object> problem(HttpStatus status, String detail) {
        return ResponseEntity.status(status).body(ProblemDetail.forStatusAndDetail(status, detail));
    }

    @PreDestroy
    void stop() {
        runs.shutdownNow();
    }
}
