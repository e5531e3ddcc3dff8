package com.maddatum.worker.local;

import com.maddatum.worker.config.WorkerSettings;
import jakarta.servlet.http.HttpServletRequest;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.http.HttpStatus;
import org.springframework.http.InvalidMediaTypeException;
import org.springframework.http.MediaType;
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
 * loopback is refused, and so is a request whose {@code Host} is not {@code localhost} or a loopback
 * address literal (a web page that rebinds its own DNS name to 127.0.0.1 reaches loopback, but cannot
 * send such a Host), or that carries forwarding headers ({@code X-Forwarded-For}, {@code Forwarded}:
 * a proxy's caller is not this machine), unless {@code worker.local-allow-remote} is set. Names are
 * never looked up here: an all-hex name such as {@code bad.cafe} is a name, not an address.
 *
 * <p>Browsers are kept out whatever the setting: a page on another site can send a plain form POST
 * ({@code enctype="text/plain"}) to {@code localhost:8081} without asking, so a run must say
 * {@code Content-Type: application/json} (which a page cannot send cross-site without a CORS
 * preflight, which this route never grants), and a request whose {@code Origin} is not a loopback
 * origin, or whose {@code Sec-Fetch-Site} is {@code cross-site}, is refused. It asks for the worker
 * token when one is set, caps the body at {@code worker.local-max-body-bytes}, and answers 429 when
 * the queue is full.
 */
@RestController
class LocalRunController {

    private static final Logger log = LoggerFactory.getLogger(LocalRunController.class);
    private static final Set<String> LOOPBACK_NAMES = Set.of("localhost", "localhost.");
    private static final String OCTET = "(0|[1-9]\\d{0,2})";
    private static final Pattern IPV4 = Pattern.compile(OCTET + "\\." + OCTET + "\\." + OCTET + "\\." + OCTET);
    /** Starts with a hex digit or ':' and holds a ':', as InetAddress needs to take it for a literal. */
    private static final Pattern IPV6 = Pattern.compile("[0-9a-fA-F:][0-9a-fA-F:.]*:[0-9a-fA-F:.]*(%[0-9A-Za-z_.-]+)?");
    private static final Pattern PORT = Pattern.compile(":\\d{1,5}");
    /** Headers a proxy adds: with them the socket's address is the proxy's, not the caller's. */
    private static final List<String> FORWARDING = List.of("Forwarded", "X-Forwarded-For", "X-Forwarded-Host",
            "X-Forwarded-Proto", "X-Forwarded-Port", "X-Real-IP");

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
        if (!isJson(request.getContentType())) {
            log.warn("local run refused: not a JSON body contentType={}", request.getContentType());
            return problem(HttpStatus.UNSUPPORTED_MEDIA_TYPE, "The body must be a Job JSON sent as application/json.");
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
            String forwarded = FORWARDING.stream().filter(h -> request.getHeader(h) != null).findFirst().orElse(null);
            if (forwarded != null) {
                log.warn("local run refused: forwarded by a proxy header={}", forwarded);
                return problem(HttpStatus.FORBIDDEN, "Local runs are for callers on this machine, not through a proxy.");
            }
            if (!isLoopbackHost(request.getHeader("Host"))) {
                log.warn("local run refused: Host is not a loopback name host={}", request.getHeader("Host"));
                return problem(HttpStatus.FORBIDDEN, "Local runs need a Host of localhost or a loopback address.");
            }
        }
        String origin = request.getHeader("Origin");
        String fetchSite = request.getHeader("Sec-Fetch-Site");
        if ((origin != null && !isLoopbackOrigin(origin)) || "cross-site".equalsIgnoreCase(fetchSite)) {
            log.warn("local run refused: sent by a web page origin={} fetchSite={}", origin, fetchSite);
            return problem(HttpStatus.FORBIDDEN, "Local runs cannot be started from a web page of another site.");
        }
        if (!authorized(request.getHeader("Authorization"))) {
            return problem(HttpStatus.UNAUTHORIZED, "A valid bearer token is required.");
        }
        return null;
    }

    /**
     * Whether {@code address} is a loopback address literal: a dotted quad {@code 127.x.y.z} (decimal,
     * no leading zeros, which some parsers read as octal), or IPv6 ({@code ::1}, {@code ::ffff:127.0.0.1}),
     * with or without brackets. Never a name, and never looked up.
     */
    static boolean isLoopback(String address) {
        if (address == null) {
            return false;
        }
        String literal = address.startsWith("[") && address.endsWith("]") ? address.substring(1, address.length() - 1)
                : address;
        var quad = IPV4.matcher(literal);
        if (quad.matches()) {
            for (int i = 1; i <= 4; i++) {
                if (Integer.parseInt(quad.group(i)) > 255) {
                    return false;
                }
            }
            return quad.group(1).equals("127");
        }
        if (!IPV6.matcher(literal).matches()) {
            return false;
        }
        try {
            // Safe: InetAddress parses text that has a ':' and starts with a hex digit or ':' as an IPv6
            // literal, and refuses it if it is not one; it looks up only what it cannot parse as a literal.
            return InetAddress.getByName(literal).isLoopbackAddress();
        } catch (UnknownHostException notAnAddress) {
            return false;
        }
    }

    /** {@code localhost}, or a loopback address literal (IPv6 in brackets), with or without a port. */
    static boolean isLoopbackHost(String host) {
        if (host == null || host.isBlank()) {
            return false;
        }
        String name = host.trim().toLowerCase(Locale.ROOT);
        if (name.startsWith("[")) {
            int end = name.indexOf(']');
            String rest = end < 0 ? "" : name.substring(end + 1);
            return end > 0 && (rest.isEmpty() || PORT.matcher(rest).matches()) && isLoopback(name.substring(0, end + 1));
        }
        int colon = name.indexOf(':');
        if (colon >= 0) {
            if (!PORT.matcher(name.substring(colon)).matches()) {
                return false; // an IPv6 literal without brackets, or a bad port
            }
            name = name.substring(0, colon);
        }
        return LOOPBACK_NAMES.contains(name) || isLoopback(name);
    }

    /** An {@code Origin} of a page served from this machine: http(s) on a loopback host. */
    static boolean isLoopbackOrigin(String origin) {
        try {
            URI uri = new URI(origin.trim());
            return ("http".equals(uri.getScheme()) || "https".equals(uri.getScheme())) && uri.getRawAuthority() != null
                    && isLoopbackHost(uri.getRawAuthority()) && (uri.getRawPath() == null || uri.getRawPath().isEmpty());
        } catch (URISyntaxException notAnOrigin) {
            return false; // "null" included: a sandboxed frame or a file: page
        }
    }

    private static boolean isJson(String contentType) {
        if (contentType == null) {
            return false;
        }
        try {
            MediaType type = MediaType.parseMediaType(contentType);
            return type.getType().equals("application") && type.getSubtype().equals("json");
        } catch (InvalidMediaTypeException e) {
            return false;
        }
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
