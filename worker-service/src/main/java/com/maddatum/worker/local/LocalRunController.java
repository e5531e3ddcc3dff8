package com.maddatum.worker.local;

import com.maddatum.worker.config.WorkerSettings;
import jakarta.servlet.http.HttpServletRequest;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.URI;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.http.HttpStatus;
import org.springframework.http.ProblemDetail;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RestController;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * The seed's local interface: {@code POST /scripts/run} runs a Job JSON on this machine outside the
 * queue ({@link LocalRuns}) and answers 202 with a run id; the Outcome goes to the job's
 * {@code callbackAddress} when it has one, and can be read at {@code GET /scripts/run/{id}}.
 *
 * <p>It is for this machine only, whatever address the server listens on: a caller that is not on
 * loopback is refused, and so is a request whose {@code Host} is not a loopback name (a web page
 * that rebinds its own DNS name to 127.0.0.1 reaches loopback, but cannot send such a Host), unless
 * {@code worker.local-allow-remote} is set. It asks for the worker token when one is set, caps the
 * body at {@code worker.local-max-body-bytes}, and answers 429 when the queue is full.
 */
@RestController
class LocalRunController {

    private static final Logger log = LoggerFactory.getLogger(LocalRunController.class);
    private static final Set<String> LOOPBACK_NAMES = Set.of("localhost", "localhost.", "ip6-localhost", "ip6-loopback");

    private final LocalRuns runs;
    private final WorkerSettings settings;
    private final JsonMapper json;

    LocalRunController(LocalRuns runs, WorkerSettings settings, JsonMapper json) {
        this.runs = runs;
        this.settings = settings;
        this.json = json;
    }

    @PostMapping("/scripts/run")
    ResponseEntity<Object> run(HttpServletRequest request) throws IOException {
        ResponseEntity<Object> refused = refuse(request);
        if (refused != null) {
            return refused;
        }
        byte[] body = request.getContentLengthLong() > settings.localMaxBodyBytes() ? null
                : readAtMost(request.getInputStream(), settings.localMaxBodyBytes());
        if (body == null) {
            return problem(HttpStatus.CONTENT_TOO_LARGE, "The body is over " + settings.localMaxBodyBytes() + " bytes.");
        }
        JsonNode node;
        try {
            node = json.readTree(body);
        } catch (JacksonException e) {
            node = null;
        }
        if (node == null || !node.isObject()) {
            return problem(HttpStatus.BAD_REQUEST, "The body must be a Job JSON object.");
        }
        @SuppressWarnings("unchecked")
        Map<String, Object> job = json.convertValue(node, LinkedHashMap.class);
        URI callback = null;
        if (job.get("callbackAddress") != null) {
            callback = callback(job.get("callbackAddress"));
            if (callback == null) {
                return problem(HttpStatus.BAD_REQUEST, "callbackAddress must be an http(s) URL such as http://localhost:8080.");
            }
        }
        LocalRuns.Queued queued = runs.submit(job, callback);
        if (queued.refusal() == LocalRuns.Refusal.QUEUE_FULL) {
            return ResponseEntity.status(HttpStatus.TOO_MANY_REQUESTS).header("Retry-After", "5")
                    .body(ProblemDetail.forStatusAndDetail(HttpStatus.TOO_MANY_REQUESTS,
                            "The local run queue is full (" + settings.localQueue() + "); try again later."));
        }
        if (queued.refusal() == LocalRuns.Refusal.SHUTTING_DOWN) {
            return problem(HttpStatus.SERVICE_UNAVAILABLE, "The worker is shutting down.");
        }
        return ResponseEntity.accepted().body(Map.of("runId", queued.runId(), "status", "started",
                "message", "job started, the outcome goes to its callbackAddress when it has one"));
    }

    @GetMapping("/scripts/run/{runId}")
    ResponseEntity<Object> result(HttpServletRequest request, @PathVariable String runId) {
        ResponseEntity<Object> refused = refuse(request);
        if (refused != null) {
            return refused;
        }
        return runs.result(runId).<ResponseEntity<Object>>map(ResponseEntity::ok)
                .orElseGet(() -> problem(HttpStatus.NOT_FOUND, "No run " + runId + "."));
    }

    /** Why this request may not use local runs, or null when it may. */
    private ResponseEntity<Object> refuse(HttpServletRequest request) {
        if (!settings.localAllowRemote()) {
            if (!isLoopback(request.getRemoteAddr())) {
                log.warn("local run refused: caller not on loopback remote={}", request.getRemoteAddr());
                return problem(HttpStatus.FORBIDDEN, "Local runs are for callers on this machine only.");
            }
            if (!isLoopbackHost(request.getHeader("Host"))) {
                log.warn("local run refused: Host is not a loopback name host={}", request.getHeader("Host"));
                return problem(HttpStatus.FORBIDDEN, "Local runs need a Host of localhost or a loopback address.");
            }
        }
        if (!authorized(request.getHeader("Authorization"))) {
            return problem(HttpStatus.UNAUTHORIZED, "A valid bearer token is required.");
        }
        return null;
    }

    static boolean isLoopback(String address) {
        if (address == null || address.isBlank() || !address.matches("[0-9a-fA-F:.%\\[\\]]+")) {
            return false; // only literals: never look a name up here
        }
        try {
            return InetAddress.getByName(address).isLoopbackAddress();
        } catch (UnknownHostException e) {
            return false;
        }
    }

    /** {@code localhost}, or a loopback address literal, with or without a port. */
    static boolean isLoopbackHost(String host) {
        if (host == null || host.isBlank()) {
            return false;
        }
        String name = host.trim().toLowerCase();
        if (name.startsWith("[")) {
            int end = name.indexOf(']');
            return end > 0 && isLoopback(name.substring(1, end));
        }
        int colon = name.lastIndexOf(':');
        if (colon >= 0 && name.indexOf(':') == colon) {
            name = name.substring(0, colon);
        }
        return LOOPBACK_NAMES.contains(name) || isLoopback(name);
    }

    private static URI callback(Object address) {
        if (!(address instanceof String text) || text.isBlank()) {
            return null;
        }
        try {
            URI uri = URI.create(text.replaceAll("/+$", "") + "/callback");
            return ("http".equals(uri.getScheme()) || "https".equals(uri.getScheme())) && uri.getHost() != null
                    ? uri : null;
        } catch (IllegalArgumentException e) {
            return null;
        }
    }

    /** The body, or null when it is longer than {@code max}. */
    private static byte[] readAtMost(InputStream in, int max) throws IOException {
        byte[] bytes = in.readNBytes(max + 1);
        return bytes.length > max ? null : bytes;
    }

    private boolean authorized(String authorization) {
        return settings.token().map(token -> authorization != null && MessageDigest.isEqual(
                ("Bearer " + token).getBytes(StandardCharsets.UTF_8), authorization.getBytes(StandardCharsets.UTF_8)))
                .orElse(true);
    }

    private static ResponseEntity<Object> problem(HttpStatus status, String detail) {
        return ResponseEntity.status(status).body(ProblemDetail.forStatusAndDetail(status, detail));
    }
}
