package com.maddatum.worker.client;

import com.maddatum.worker.outcome.OutcomeContract;

import com.maddatum.worker.common.Text;
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
import java.util.Set;
import java.util.function.Supplier;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.stereotype.Component;
import tools.jackson.core.type.TypeReference;
import tools.jackson.databind.json.JsonMapper;

/**
 * The Boss's HTTP API as the Worker uses it. Every answer is mapped to what the Worker should do:
 * "no work", "the lease is gone", "retry later" ({@link BossUnavailableException}), never a raw status,
 * and never an exception of another kind: an answer that cannot be read (an HTML page from a proxy
 * during a redeploy, a body of {@code null}, cut-off JSON) is a Boss that is not answering properly.
 */
@Component
public class BossClient {

    private static final Logger log = LoggerFactory.getLogger(BossClient.class);
    private static final TypeReference<LinkedHashMap<String, Object>> MAP = new TypeReference<>() {};
    /** Ids the Worker puts into paths: the Boss's ObjectIds. Anything else is not sent on. */
    private static final Pattern ORDER_ID = Pattern.compile("[0-9a-f]{24}");
    private static final Pattern JOB_ID = Pattern.compile("[A-Za-z0-9_-]{1,64}");
    /**
     * 4xx answers that do not refuse the outcome: the token (401, 403: the operator can fix it), a 404
     * (see {@link #unknownToTheBoss}), and the passing ones: request timeout (408), a connection reused
     * for the wrong host (421), too early (425), too many requests (429).
     */
    private static final Set<Integer> NOT_REFUSALS = Set.of(401, 403, 404, 408, 421, 425, 429);

    /** What became of a callback. */
    public enum Delivery {
        /** The Boss stored it (or had it already). */
        DELIVERED,
        /** The order is no longer ours (409) or the Boss says it is unknown (its 404): keeping it would change nothing. */
        STALE,
        /** The Boss refused it as malformed (4xx): retrying the same bytes cannot help. */
        REJECTED,
        /**
         * The Boss is unreachable or failing (5xx), or the answer may be passing (408, 421, 425, 429), or
         * it is a 404 that is not the Boss's word on the order (a proxy's slip, a wrong address): keep it
         * and try again.
         */
        RETRY
    }

    /**
     * A callback's {@link Delivery}, and for a refusal the Boss's reason in words; {@code next}, the order a
     * callback-and-claim got (null: none).
     */
    public record Answer(Delivery delivery, String reason, Order next) {

        public Answer(Delivery delivery, String reason) {
            this(delivery, reason, null);
        }
    }

    /** The Boss's word on a heartbeat. */
    public enum Beat {
        OK,
        CANCEL,
        /** 200 with {@code "stop": "pruned"}: the sweep's early stopping ends this trial; it ends as done. */
        PRUNE,
        /** 409: another attempt holds the order now. */
        LEASE_LOST,
        /** 404: the Boss does not know the order (a replica that has not caught up, a proxy's slip...). */
        NOT_FOUND,
        UNREACHABLE
    }

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
                    + Text.abbreviate(response.body(), 300), null);
        }
    }

    /** Long-polls for work for a slot without a GPU: the order, or empty when the Boss has none for us. */
    public Optional<Order> bored(String node, Duration wait) throws BossUnavailableException {
        return bored(node, wait, null);
    }

    /**
     * Long-polls for work for a slot whose GPU has {@code gpuMemoryMiB} (null: the slot has none), so the
     * Boss gives it no job that asks for more ({@code minGpuMemoryMiB}).
     */
    public Optional<Order> bored(String node, Duration wait, Long gpuMemoryMiB) throws BossUnavailableException {
        // heartbeats=true: this Worker heartbeats, so the Boss gives it the short lease those keep alive
        // (a claim without it is the seed's worker's, with a lease as long as the job's time limit).
        String path = "/bored/" + URLEncoder.encode(node, StandardCharsets.UTF_8) + "?waitSeconds=" + wait.toSeconds()
                + "&heartbeats=true" + (gpuMemoryMiB == null ? "" : "&gpuMemoryMiB=" + gpuMemoryMiB);
        HttpResponse<String> response = send(post(path, null, timeout.plus(wait)));
        return switch (response.statusCode()) {
            case 200 -> Optional.of(order(response.body()));
            case 204 -> Optional.empty();
            default -> throw new BossUnavailableException("/bored answered " + response.statusCode() + ": "
                    + Text.abbreviate(response.body(), 300), null);
        };
    }

    private Order order(String body) throws BossUnavailableException {
        return checked(read("/bored", body, () -> json.readValue(body, Order.class)), body);
    }

    private static Order checked(Order order, String body) throws BossUnavailableException {
        if (order.id() == null || !ORDER_ID.matcher(order.id()).matches() || order.jobId() == null
                || !JOB_ID.matcher(order.jobId()).matches() || order.attempt() < 1) {
            throw new BossUnavailableException("/bored answered an order the Worker cannot use (ids must be "
                    + ORDER_ID.pattern() + " and " + JOB_ID.pattern() + ", attempt at least 1): " + Text.abbreviate(body, 300), null);
        }
        return order;
    }

    /** The job exactly as submitted, with its {@code _id}, in the order its fields were sent. */
    public LinkedHashMap<String, Object> job(String jobId) throws BossUnavailableException {
        if (!JOB_ID.matcher(jobId).matches()) {
            throw new BossUnavailableException("not a job id: " + Text.abbreviate(jobId, 300), null);
        }
        HttpResponse<String> response = send(request("/retrieve/job/" + jobId, timeout).GET().build());
        if (response.statusCode() != 200) {
            throw new BossUnavailableException("/retrieve/job answered " + response.statusCode(), null);
        }
        return read("/retrieve/job", response.body(), () -> json.readValue(response.body(), MAP));
    }

    /**
     * Extends the lease, sending {@code progress} (null: none). A Boss that refuses the progress (400, 413)
     * gets the same heartbeat again without it, and that answer is returned: points it cannot take must
     * not cost the lease. A cancellation outranks a {@code stop}.
     */
    public Beat heartbeat(String orderId, String node, int attempt, Map<String, Object> progress) {
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("node", node);
        body.put("attempt", attempt);
        if (progress != null) {
            body.put("progress", progress);
        }
        try {
            HttpResponse<String> response = send(post("/orders/" + orderId + "/heartbeat", body, timeout));
            if (progress != null && (response.statusCode() == 400 || response.statusCode() == 413)) {
                log.warn("the Boss refused a heartbeat's progress, sending it again without order={} answer={}", orderId,
                        reason(response.statusCode(), response.body()));
                return heartbeat(orderId, node, attempt, null);
            }
            return switch (response.statusCode()) {
                case 200 -> beat(read("heartbeat", response.body(), () -> json.readValue(response.body(), MAP)));
                case 409 -> Beat.LEASE_LOST;
                case 404 -> Beat.NOT_FOUND;
                default -> Beat.UNREACHABLE;
            };
        } catch (BossUnavailableException e) {
            log.debug("heartbeat not answered order={} error={}", orderId, e.getMessage());
            return Beat.UNREACHABLE;
        }
    }

    /** A 200 heartbeat answer: {@code cancelRequested}, else {@code "stop": "pruned"}, else carry on. */
    private static Beat beat(Map<String, Object> answer) {
        if (Boolean.TRUE.equals(answer.get("cancelRequested"))) {
            return Beat.CANCEL;
        }
        return "pruned".equals(answer.get("stop")) ? Beat.PRUNE : Beat.OK;
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

    public Answer callback(Map<String, Object> outcome) {
        return deliver(URI.create(base + "/callback"), outcome);
    }

    /**
     * Delivers a Boss order's outcome with what travels with this one request: {@code logs}, the run's last
     * output lines (null: none), and with {@code claim} the asking slot's facts, so that the Boss claims the
     * node's next order and answers it ({@code POST /callback?next=true}), sparing the slot a {@code /bored}.
     * A next order that cannot be read is dropped with a warning: the Boss puts it back when its lease ends.
     */
    public Answer callback(Map<String, Object> outcome, String logs, NextClaim claim) {
        String query = claim == null ? "" : "?next=true"
                + (claim.gpuMemoryMiB() == null ? "" : "&gpuMemoryMiB=" + claim.gpuMemoryMiB());
        URI callback = URI.create(base + "/callback" + query);
        if (logs == null || logs.isEmpty()) {
            return deliver(callback, outcome, timeout, claim != null);
        }
        Map<String, Object> body = new LinkedHashMap<>(outcome);
        body.put("logs", Map.of("text", logs));
        String withLogs;
        try {
            withLogs = json.writeValueAsString(body);
        } catch (RuntimeException e) {
            withLogs = null;
        }
        // The outcome alone was fitted to the Boss's body limit: the lines must not push it over (a 413 would
        // read as the outcome refused). Then they go first on their own, as to an older Boss.
        if (withLogs != null && withLogs.getBytes(StandardCharsets.UTF_8).length <= OutcomeContract.MAX_BYTES) {
            Exchange sent = exchange(callback, withLogs, outcome, timeout, claim != null);
            Delivery delivery = sent.answer().delivery();
            if (sent.status() != 0 && sent.status() != 413
                    && (delivery == Delivery.RETRY || delivery == Delivery.REJECTED)) {
                // The Boss answered and did not take them with the outcome (its retry, or the replacement of a
                // refused one, goes without them): on their own now, while the order may still be this attempt's.
                // Sent once, here only. Not after no answer at all (a timeout): the Boss may yet store them with
                // the outcome, and the outcome's logTail has them anyway.
                logsApart(outcome, logs);
            }
            if (sent.status() != 413) {
                return sent.answer();
            }
            log.warn("the Boss refused an outcome with its last log lines as too large, sending them apart order={}",
                    outcome.get("orderId"));
        }
        logsApart(outcome, logs);
        return deliver(callback, outcome, timeout, claim != null);
    }

    private void logsApart(Map<String, Object> outcome, String logs) {
        if (outcome.get("orderId") instanceof String orderId && outcome.get("node") instanceof String node
                && outcome.get("attempt") instanceof Number attempt) {
            logs(orderId, node, attempt.intValue(), logs);
        }
    }

    /** What a slot says of itself when its callback also claims: as {@code /bored} takes it. */
    public record NextClaim(Long gpuMemoryMiB) {}

    /** Posts an outcome to any Boss-compatible callback address (the local run's {@code callbackAddress}). */
    public Answer deliver(URI callback, Map<String, Object> outcome) {
        return deliver(callback, outcome, timeout);
    }

    /** The same, waiting at most {@code within} for the answer (shutdown has less time than usual). */
    public Answer deliver(URI callback, Map<String, Object> outcome, Duration within) {
        return deliver(callback, outcome, within, false);
    }

    private Answer deliver(URI callback, Map<String, Object> outcome, Duration within, boolean readNext) {
        String body;
        try {
            body = json.writeValueAsString(outcome);
        } catch (RuntimeException e) {
            return new Answer(Delivery.RETRY, e.getMessage());
        }
        return exchange(callback, body, outcome, within, readNext).answer();
    }

    /** A delivery's answer, with the HTTP status it came with; 0 when none came (a timeout, a connection lost). */
    private record Exchange(Answer answer, int status) {}

    private Exchange exchange(URI callback, String body, Map<String, Object> outcome, Duration within,
            boolean readNext) {
        try {
            HttpResponse<String> response = send(authorize(HttpRequest.newBuilder(callback).timeout(within))
                    .header("Content-Type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofString(body)).build());
            int status = response.statusCode();
            if (status / 100 == 2) {
                return new Exchange(new Answer(Delivery.DELIVERED, null, readNext ? next(response.body()) : null), status);
            }
            String reason = reason(status, response.body());
            if (status == 409 || status == 404 && unknownToTheBoss(response)) {
                log.warn("outcome not wanted any more order={} status={} answer={}", outcome.get("orderId"), status, reason);
                return new Exchange(new Answer(Delivery.STALE, reason), status);
            }
            if (status == 404) {
                log.warn("outcome callback not found, not the Boss's answer; will retry callback={} order={} answer={}",
                        callback, outcome.get("orderId"), reason);
            } else if (status / 100 == 4 && !NOT_REFUSALS.contains(status)) {
                log.error("outcome rejected order={} status={} answer={}", outcome.get("orderId"), status, reason);
                return new Exchange(new Answer(Delivery.REJECTED, reason), status);
            }
            return new Exchange(new Answer(Delivery.RETRY, reason), status);
        } catch (ServerError e) {
            return new Exchange(new Answer(Delivery.RETRY, e.getMessage()), e.status);
        } catch (BossUnavailableException | RuntimeException e) {
            return new Exchange(new Answer(Delivery.RETRY, e.getMessage()), 0); // no answer at all
        }
    }

    /** A 5xx: the Boss, or a proxy before it, answered "later" (unlike a timeout, an answer). */
    private static final class ServerError extends BossUnavailableException {
        private final int status;

        ServerError(String message, int status) {
            super(message, null);
            this.status = status;
        }
    }

    /** The {@code next} order of a callback's answer; null when there is none or it cannot be used. */
    private Order next(String body) {
        try {
            Map<String, Object> answer = json.readValue(body, MAP);
            Object next = answer == null ? null : answer.get("next");
            if (!(next instanceof Map<?, ?>)) {
                return null;
            }
            String text = json.writeValueAsString(next);
            return checked(json.readValue(text, Order.class), text);
        } catch (BossUnavailableException | RuntimeException e) {
            log.warn("a callback's next order cannot be used, it waits out its lease answer={} error={}",
                    Text.abbreviate(body, 300), e.getMessage());
            return null;
        }
    }

    /**
     * The Boss's own 404 for an order or job it does not know: a problem of type {@code .../not-found}
     * naming the {@code id}. Its 404 for a path it does not serve has no field, and a proxy's is not a
     * problem at all: those say nothing about the order.
     */
    private boolean unknownToTheBoss(HttpResponse<String> response) {
        if (!response.headers().firstValue("Content-Type").orElse("").startsWith("application/problem+json")) {
            return false;
        }
        try {
            Map<String, Object> problem = json.readValue(response.body(), MAP);
            return problem != null && problem.get("type") instanceof String type && type.endsWith("/not-found")
                    && "id".equals(problem.get("field"));
        } catch (RuntimeException notAProblem) { // JacksonException included
            return false;
        }
    }

    /** The Boss's problem detail in words ({@code detail}, and the {@code field} at fault), else the body. */
    private String reason(int status, String body) {
        return Problems.reason(json, status, body, null);
    }

    /** Reads a JSON answer; anything that is not the expected JSON object means the Boss did not answer properly. */
    private static <T> T read(String what, String body, Supplier<T> parse) throws BossUnavailableException {
        T value;
        try {
            value = parse.get();
        } catch (RuntimeException e) { // JacksonException, and whatever else a hostile body provokes
            throw new BossUnavailableException(what + " answered something that is not the expected JSON: "
                    + Text.abbreviate(body, 300), e);
        }
        if (value == null) {
            throw new BossUnavailableException(what + " answered null", null);
        }
        return value;
    }

    private HttpRequest post(String path, Object body, Duration requestTimeout) throws BossUnavailableException {
        try {
            HttpRequest.BodyPublisher publisher = body == null ? HttpRequest.BodyPublishers.noBody()
                    : HttpRequest.BodyPublishers.ofString(json.writeValueAsString(body));
            return request(path, requestTimeout).header("Content-Type", "application/json").POST(publisher).build();
        } catch (RuntimeException e) {
            throw new BossUnavailableException("cannot build the request to " + path + ": " + e.getMessage(), e);
        }
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
                throw new ServerError(request.uri().getPath() + " answered " + response.statusCode(),
                        response.statusCode());
            }
            return response;
        } catch (IOException | RuntimeException e) {
            throw new BossUnavailableException("cannot reach the Boss at " + base + ": " + e, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new BossUnavailableException("interrupted while talking to the Boss", e);
        }
    }
}
