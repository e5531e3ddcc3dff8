package com.maddatum.worker.poll;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.BiFunction;
import mockwebserver3.Dispatcher;
import mockwebserver3.MockResponse;
import mockwebserver3.RecordedRequest;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * A Boss for component tests: hands out queued orders on {@code /bored}, serves their jobs, answers
 * heartbeats as a test says, and records heartbeats (with the time they arrived) and callbacks.
 */
final class ScriptedBoss extends Dispatcher {

    record Beat(String orderId, long nanos, JsonNode body) {}

    private static final JsonMapper JSON = JsonMapper.builder().build();

    private final Queue<String> orders = new ConcurrentLinkedQueue<>();
    private final Map<String, String> jobs = new ConcurrentHashMap<>();
    final List<Beat> beats = new CopyOnWriteArrayList<>();
    final BlockingQueue<JsonNode> callbacks = new LinkedBlockingQueue<>();
    /** Each claim's path and query: {@code /bored/test-node?waitSeconds=2&heartbeats=true...}. */
    final List<String> boredCalls = new CopyOnWriteArrayList<>();
    /** Every request's path and query, in the order they arrived. */
    final List<String> requests = new CopyOnWriteArrayList<>();
    /** Each registration's body, in order. */
    final List<JsonNode> registrations = new CopyOnWriteArrayList<>();
    /** (orderId, how many heartbeats that order has sent before this one) -> the answer. */
    volatile BiFunction<String, Integer, MockResponse> heartbeat = (order, n) -> json("{\"cancelRequested\":false}");
    volatile MockResponse jobAnswer;
    /** Runs on each claim before it is answered, as if during the long poll (a test changes the machine there). */
    volatile Runnable duringClaim = () -> { };
    /** The blobs {@code GET /blobs/{sha256}} serves and {@code POST /blobs} stores, by hash. */
    final Map<String, byte[]> blobs = new ConcurrentHashMap<>();
    /** When set, answers {@code GET /blobs/{sha256}} instead of {@link #blobs}. */
    volatile java.util.function.Function<RecordedRequest, MockResponse> blobDownload;
    /** When set, answers {@code POST /blobs} instead of storing. */
    volatile java.util.function.Function<RecordedRequest, MockResponse> blobUpload;
    /** Called with each log batch's order id and text as it arrives. */
    volatile java.util.function.BiConsumer<String, String> onLogs = (order, text) -> { };

    /**
     * A Boss that speaks the one-round-trip protocol: its claims carry the job and the lease's end, and a
     * callback with {@code next=true} is answered with the next queued order. Off: an older Boss.
     */
    volatile boolean embedsJobs;
    /** How long a claim's lease lasts, as its answer says ({@code leaseExpiresAt}). */
    volatile Duration lease = Duration.ofMinutes(5);
    /** Each callback's query ({@code ""} when none), in order. */
    final List<String> callbackQueries = new CopyOnWriteArrayList<>();
    /** Runs on each callback before it is answered, with its body and whether it asks for the next order. */
    volatile java.util.function.BiConsumer<JsonNode, Boolean> onCallback = (body, next) -> { };

    static String orderId(int n) {
        return String.format("%024x", n);
    }

    /** Queues an order for the job {@code job} (whose {@code _id} is set to job-n). */
    ScriptedBoss order(int n, String job) {
        String jobId = "job-" + n;
        jobs.put(jobId, job.replaceFirst("\\{", "{\"_id\":\"" + jobId + "\","));
        orders.add("{\"_id\":\"" + orderId(n) + "\",\"jobId\":\"" + jobId + "\",\"attempt\":1,\"status\":\"assigned\"}");
        return this;
    }

    static MockResponse json(String body) {
        return new MockResponse.Builder().code(200).addHeader("Content-Type", "application/json").body(body).build();
    }

    @Override
    public MockResponse dispatch(RecordedRequest request) {
        String path = request.getUrl().encodedPath();
        requests.add(path + (request.getUrl().encodedQuery() == null ? "" : "?" + request.getUrl().encodedQuery()));
        if (path.startsWith("/bored")) {
            boredCalls.add(path + "?" + request.getUrl().encodedQuery());
            duringClaim.run();
            String order = claimed();
            return order == null ? new MockResponse.Builder().code(204).build() : json(order);
        }
        if (path.startsWith("/blobs")) {
            return blob(request, path);
        }
        if (path.startsWith("/retrieve/job/")) {
            MockResponse answer = jobAnswer;
            return answer != null ? answer : json(jobs.get(path.substring("/retrieve/job/".length())));
        }
        if (path.endsWith("/heartbeat")) {
            String order = path.split("/")[2];
            int before = (int) beats.stream().filter(b -> b.orderId().equals(order)).count();
            beats.add(new Beat(order, System.nanoTime(), request.getBody() == null ? null
                    : JSON.readTree(request.getBody().utf8())));
            return heartbeat.apply(order, before);
        }
        if (path.endsWith("/logs")) {
            onLogs.accept(path.split("/")[2], JSON.readTree(request.getBody().utf8()).path("text").asString());
        }
        if (path.equals("/worker-node/create")) {
            registrations.add(JSON.readTree(request.getBody().utf8()));
        }
        if (path.equals("/callback")) {
            String query = request.getUrl().encodedQuery() == null ? "" : request.getUrl().encodedQuery();
            boolean next = embedsJobs && query.contains("next=true");
            JsonNode body = JSON.readTree(request.getBody().utf8());
            callbackQueries.add(query);
            callbacks.add(body);
            onCallback.accept(body, next);
            String claimed = next ? claimed() : null;
            return json(claimed == null ? "{\"duplicate\":false}" : "{\"duplicate\":false,\"next\":" + claimed + "}");
        }
        return json("{}");
    }

    /** The next queued order as a claim answers it: with its job and lease end when {@link #embedsJobs}. */
    private String claimed() {
        String order = orders.poll();
        if (order == null || !embedsJobs) {
            return order;
        }
        String jobId = JSON.readTree(order).get("jobId").asString();
        return order.substring(0, order.length() - 1) + ",\"leaseExpiresAt\":\"" + java.time.Instant.now().plus(lease)
                + "\",\"job\":" + jobs.get(jobId) + "}";
    }

    private MockResponse blob(RecordedRequest request, String path) {
        java.util.function.Function<RecordedRequest, MockResponse> download = blobDownload;
        if (request.getMethod().equals("GET") && download != null) {
            return download.apply(request);
        }
        if (request.getMethod().equals("GET")) {
            byte[] bytes = blobs.get(path.substring("/blobs/".length()));
            return bytes == null ? new MockResponse.Builder().code(404).addHeader("Content-Type", "application/problem+json")
                    .body("{\"status\":404,\"detail\":\"no such blob\"}").build()
                    : new MockResponse.Builder().code(200).body(new okio.Buffer().write(bytes)).build();
        }
        java.util.function.Function<RecordedRequest, MockResponse> upload = blobUpload;
        if (upload != null) {
            return upload.apply(request);
        }
        String sha = request.getUrl().queryParameter("sha256");
        byte[] bytes = request.getBody() == null ? new byte[0] : request.getBody().toByteArray();
        blobs.put(sha, bytes);
        return new MockResponse.Builder().code(201).addHeader("Content-Type", "application/json")
                .body("{\"sha256\":\"" + sha + "\",\"size\":" + bytes.length + "}").build();
    }

    /** The body of the order's latest heartbeat (the one being answered, inside {@link #heartbeat}). */
    JsonNode lastBeatBody(String orderId) {
        JsonNode body = null;
        for (Beat beat : beats) {
            if (beat.orderId().equals(orderId)) {
                body = beat.body();
            }
        }
        return body;
    }

    long beatsOf(String orderId) {
        return beats.stream().filter(b -> b.orderId().equals(orderId)).count();
    }

    /** The longest wait between two heartbeats of the order, between its first and its last. */
    Duration longestGap(String orderId) {
        long previous = -1;
        long longest = 0;
        for (Beat beat : beats) {
            if (beat.orderId().equals(orderId)) {
                if (previous >= 0) {
                    longest = Math.max(longest, beat.nanos() - previous);
                }
                previous = beat.nanos();
            }
        }
        return Duration.ofNanos(longest);
    }

    JsonNode callback(Duration within) throws InterruptedException {
        return callbacks.poll(within.toMillis(), TimeUnit.MILLISECONDS);
    }
}
