package com.maddatum.worker.client;

import com.maddatum.worker.config.WorkerSettings;
import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.stereotype.Component;
import tools.jackson.core.type.TypeReference;
import tools.jackson.databind.json.JsonMapper;

/**
 * The Boss's HTTP API as the Worker uses it. Every answer is mapped to what the Worker should do:
 * "no work", "the lease is gone", "retry later" ({@link BossUnavailableException}), never a raw status.
 */
@Component
public class BossClient {

    private static final Logger log = LoggerFactory.getLogger(BossClient.class);
    private static final TypeReference<LinkedHashMap<String, Object>> MAP = new TypeReference<>() {};

    /** What became of a callback. */
    public enum Delivery {
        /** The Boss stored it (or had it already). */
        DELIVERED,
        /** The order is no longer ours (409) or unknown (404): keeping it would change nothing. */
        STALE,
        /** The Boss refused it as malformed (4xx): retrying the same bytes cannot help. */
        REJECTED,
        /** The Boss is unreachable or failing (5xx): keep it and try again. */
        RETRY
    }

    /** The Boss's word on a heartbeat. */
    public enum Beat { OK, CANCEL, LEASE_LOST, UNREACHABLE }

    private final String base;
    private final Optional<String> token;
    private final Duration timeout;
    private final JsonMapper json;
    private final HttpClient http;

    public BossClient(WorkerSettings settings, JsonMapper json) {
        this.base = settings.bossUrl();
        this.token = settings.token();
        this.timeout = settings.httpTimeout();
        this.json = json;
        this.http = HttpClient.newBuilder().connectTimeout(timeout).build();
    }

    public void register(Registration registration) throws BossUnavailableException {
        HttpResponse<String> response = send(post("/worker-node/create", registration, timeout));
        if (response.statusCode() / 100 != 2) {
            throw new BossUnavailableException("registration answered " + response.statusCode() + ": "
                    + abbreviate(response.body()), null);
        }
    }

    /** Long-polls for work: the order, or empty when the Boss has none for us. */
    public Optional<Order> bored(String node, Duration wait) throws BossUnavailableException {
        String path = "/bored/" + URLEncoder.encode(node, StandardCharsets.UTF_8) + "?waitSeconds=" + wait.toSeconds();
        HttpResponse<String> response = send(post(path, null, timeout.plus(wait)));
        return switch (response.statusCode()) {
            case 200 -> Optional.of(json.readValue(response.body(), Order.class));
            case 204 -> Optional.empty();
            default -> throw new BossUnavailableException("/bored answered " + response.statusCode() + ": "
                    + abbreviate(response.body()), null);
        };
    }

    /** The job exactly as submitted, with its {@code _id}, in the order its fields were sent. */
    public LinkedHashMap<String, Object> job(String jobId) throws BossUnavailableException {
        HttpResponse<String> response = send(request("/retrieve/job/" + jobId, timeout).GET().build());
        if (response.statusCode() != 200) {
            throw new BossUnavailableException("/retrieve/job answered " + response.statusCode(), null);
        }
        return json.readValue(response.body(), MAP);
    }

    public Beat heartbeat(String orderId, String node, int attempt, Map<String, Object> progress) {
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("node", node);
        body.put("attempt", attempt);
        if (progress != null) {
            body.put("progress", progress);
        }
        try {
            HttpResponse<String> response = send(post("/orders/" + orderId + "/heartbeat", body, timeout));
            return switch (response.statusCode()) {
                case 200 -> Boolean.TRUE.equals(json.readValue(response.body(), MAP).get("cancelRequested"))
                        ? Beat.CANCEL : Beat.OK;
                case 404, 409 -> Beat.LEASE_LOST;
                default -> Beat.UNREACHABLE;
            };
        } catch (BossUnavailableException e) {
            return Beat.UNREACHABLE;
        }
    }

    /** Ships a batch of script output; false when the Boss no longer wants it from us (not our order). */
    public boolean logs(String orderId, String node, int attempt, String text) {
        try {
            HttpResponse<String> response = send(post("/orders/" + orderId + "/logs",
                    Map.of("node", node, "attempt", attempt, "text", text), timeout));
            return response.statusCode() != 409 && response.statusCode() != 404;
        } catch (BossUnavailableException e) {
            return true; // best effort: the tail also travels with the outcome
        }
    }

    public Delivery callback(Map<String, Object> outcome) {
        return deliver(URI.create(base + "/callback"), outcome);
    }

    /** Posts an outcome to any Boss-compatible callback address (the local run's {@code callbackAddress}). */
    public Delivery deliver(URI callback, Map<String, Object> outcome) {
        try {
            HttpRequest request = authorize(HttpRequest.newBuilder(callback).timeout(timeout))
                    .header("Content-Type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofString(json.writeValueAsString(outcome))).build();
            HttpResponse<String> response = send(request);
            int status = response.statusCode();
            if (status / 100 == 2) {
                return Delivery.DELIVERED;
            }
            if (status == 404 || status == 409) {
                log.warn("outcome not wanted any more order={} status={} answer={}", outcome.get("orderId"), status,
                        abbreviate(response.body()));
                return Delivery.STALE;
            }
            if (status / 100 == 4 && status != 401 && status != 403 && status != 429) {
                log.error("outcome rejected order={} status={} answer={}", outcome.get("orderId"), status,
                        abbreviate(response.body()));
                return Delivery.REJECTED;
            }
            return Delivery.RETRY;
        } catch (BossUnavailableException e) {
            return Delivery.RETRY;
        }
    }

    private HttpRequest post(String path, Object body, Duration requestTimeout) {
        HttpRequest.BodyPublisher publisher = body == null ? HttpRequest.BodyPublishers.noBody()
                : HttpRequest.BodyPublishers.ofString(json.writeValueAsString(body));
        return request(path, requestTimeout).header("Content-Type", "application/json").POST(publisher).build();
    }

    private HttpRequest.Builder request(String path, Duration requestTimeout) {
        return authorize(HttpRequest.newBuilder(URI.create(base + path)).timeout(requestTimeout));
    }

    private HttpRequest.Builder authorize(HttpRequest.Builder builder) {
        token.ifPresent(t -> builder.header("Authorization", "Bearer " + t));
        return builder;
    }

    private HttpResponse<String> send(HttpRequest request) throws BossUnavailableException {
        try {
            HttpResponse<String> response = http.send(request, HttpResponse.BodyHandlers.ofString());
            if (response.statusCode() >= 500) {
                throw new BossUnavailableException(request.uri().getPath() + " answered " + response.statusCode(), null);
            }
            return response;
        } catch (IOException e) {
            throw new BossUnavailableException("cannot reach the Boss at " + base + ": " + e, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new BossUnavailableException("interrupted while talking to the Boss", e);
        }
    }

    private static String abbreviate(String text) {
        return text == null ? "" : text.length() > 300 ? text.substring(0, 300) + "..." : text;
    }
}
