package com.maddatum.testsupport;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/** JSON over HTTP the way a person with curl (or a worker) talks to the Boss, for tests. */
public final class HttpJson {

    /** One answer: status, body, headers; {@link #json()} parses the body. */
    public record Reply(int status, String body, java.net.http.HttpHeaders headers) {
        public JsonNode json() {
            return MAPPER.readTree(body.isEmpty() ? "{}" : body);
        }
    }

    public static final JsonMapper MAPPER = JsonMapper.builder().build();

    private final String base;
    private final String token;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    public HttpJson(String base) {
        this(base, null);
    }

    public HttpJson(String base, String token) {
        this.base = base;
        this.token = token;
    }

    public HttpJson withToken(String bearer) {
        return new HttpJson(base, bearer);
    }

    public static String json(Object value) {
        return value instanceof String s ? s : MAPPER.writeValueAsString(value);
    }

    public Reply get(String path) {
        return send(builder(path).GET());
    }

    public Reply post(String path, Object body) {
        return send(builder(path).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(json(body))));
    }

    public Reply request(String method, String path, String contentType, String body) {
        HttpRequest.Builder builder = builder(path).method(method,
                body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
        if (contentType != null) {
            builder.header("Content-Type", contentType);
        }
        return send(builder);
    }

    public CompletableFuture<Reply> postAsync(String path, Object body) {
        HttpRequest request = builder(path).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(json(body))).build();
        return http.sendAsync(request, HttpResponse.BodyHandlers.ofString())
                .thenApply(r -> new Reply(r.statusCode(), r.body(), r.headers()));
    }

    /** GETs {@code path} until {@code done} holds for its JSON or the time is up; returns the last answer. */
    public JsonNode await(String path, java.util.function.Predicate<JsonNode> done, Duration timeout)
            throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        JsonNode answer = get(path).json();
        while (!done.test(answer) && System.nanoTime() < deadline) {
            Thread.sleep(100);
            answer = get(path).json();
        }
        return answer;
    }

    /**
     * Waits for the job's order to reach {@code status}, and for its outcome when the order names one
     * (the Boss finishes the order a moment before it writes the outcome); returns {@code GET /jobs/{id}}.
     */
    public JsonNode awaitJobStatus(String jobId, String status, Duration timeout) throws InterruptedException {
        return await("/jobs/" + jobId, detail -> status.equals(detail.path("order").path("status").asString())
                && (!detail.path("order").has("outcomeId") || detail.has("outcome")), timeout);
    }

    private HttpRequest.Builder builder(String path) {
        HttpRequest.Builder builder = HttpRequest.newBuilder(URI.create(base + path)).timeout(Duration.ofSeconds(60));
        if (token != null) {
            builder.header("Authorization", "Bearer " + token);
        }
        return builder;
    }

    private Reply send(HttpRequest.Builder builder) {
        try {
            HttpResponse<String> response = http.send(builder.build(), HttpResponse.BodyHandlers.ofString());
            return new Reply(response.statusCode(), response.body(), response.headers());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }
}
