package com.maddatum.boss.idempotency;

import static org.assertj.core.api.Assertions.assertThat;

import com.maddatum.boss.config.BossProperties;
import com.maddatum.boss.store.EmbeddedMongo;
import com.maddatum.boss.store.StoreDurability;
import com.maddatum.boss.support.BossApiTestBase;
import com.maddatum.testsupport.HttpJson;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.bson.Document;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.TestConfiguration;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Import;
import org.springframework.context.annotation.Primary;
import org.springframework.data.mongodb.core.query.Criteria;
import org.springframework.data.mongodb.core.query.Query;
import org.springframework.test.context.TestPropertySource;
import tools.jackson.databind.JsonNode;

/**
 * {@code Idempotency-Key} on {@code POST /job/create}, over HTTP: repeats, other bodies, bad keys,
 * concurrent repeats, a client that gave up waiting and retried, failures on either side, a key left
 * pending by a Boss that died, and expiry. A creation is made slow by holding one of the store's commits
 * on a latch, never by sleeping.
 */
@Import(IdempotencyApiTest.Hooks.class)
@TestPropertySource(properties = "boss.idempotency.pending-wait=3s")
class IdempotencyApiTest extends BossApiTestBase {

    /** Commits in a keyed creation: the key's insert, the job's, the order's, the stored answer. */
    static final int KEY_COMMIT = 1;

    @TestConfiguration(proxyBeanMethods = false)
    static class Hooks {
        @Bean
        @Primary
        GatedDurability gatedDurability(ObjectProvider<EmbeddedMongo> embedded, BossProperties properties) {
            return new GatedDurability(embedded, properties);
        }

        @Bean
        @Primary
        WatchedWaits watchedWaits() {
            return new WatchedWaits();
        }
    }

    /** Lets a number of commits pass, then holds (or fails, after it is written) the next one. */
    static class GatedDurability extends StoreDurability {
        final AtomicReference<Gate> gate = new AtomicReference<>();

        GatedDurability(ObjectProvider<EmbeddedMongo> embedded, BossProperties properties) {
            super(embedded, properties);
        }

        Gate holdAfter(int passes) {
            Gate next = new Gate(passes, false);
            gate.set(next);
            return next;
        }

        void failAfter(int passes) {
            gate.set(new Gate(passes, true));
        }

        @Override
        public void sync() {
            super.sync();
            Gate current = gate.get();
            if (current != null) {
                current.onCommit();
            }
        }
    }

    static final class Gate {
        final AtomicInteger passes;
        final boolean fail;
        final CountDownLatch reached = new CountDownLatch(1);
        final CountDownLatch open = new CountDownLatch(1);

        Gate(int passes, boolean fail) {
            this.passes = new AtomicInteger(passes);
            this.fail = fail;
        }

        void onCommit() {
            if (passes.getAndDecrement() != 0) {
                return;
            }
            reached.countDown();
            if (fail) {
                throw new IllegalStateException("commit failed (test)");
            }
            try {
                open.await(30, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }

        void awaitReached() throws InterruptedException {
            assertThat(reached.await(10, TimeUnit.SECONDS)).as("the creation reached the held commit").isTrue();
        }
    }

    /** Counts the request threads that wait for a key's first request. */
    static class WatchedWaits extends PendingWaits {
        final Set<Thread> waiters = ConcurrentHashMap.newKeySet();
        volatile CountDownLatch expected = new CountDownLatch(0);

        @Override
        boolean await(Ticket ticket, Duration max) {
            if (waiters.add(Thread.currentThread())) {
                expected.countDown();
            }
            return super.await(ticket, max);
        }

        void expect(int count) {
            waiters.clear();
            expected = new CountDownLatch(count);
        }

        void awaitWaiting() throws InterruptedException {
            assertThat(expected.await(10, TimeUnit.SECONDS)).as("repeats waiting for the first request").isTrue();
        }
    }

    @Autowired
    GatedDurability durability;

    @Autowired
    WatchedWaits waits;

    @Autowired
    IdempotencyStore keys;

    @Autowired
    ExpiredKeyPurge purge;

    @Autowired
    BossProperties properties;

    private final HttpClient http = HttpClient.newHttpClient();
    private final String project = "idem-" + UUID.randomUUID();

    @AfterEach
    void openGates() {
        Gate gate = durability.gate.getAndSet(null);
        if (gate != null) {
            gate.open.countDown();
        }
    }

    @Test
    void aRepeatReplaysTheFirstAnswerAndCreatesNothing() {
        String key = UUID.randomUUID().toString();
        HttpJson.Reply first = create(key, job("projectName", project));
        assertThat(first.status()).as(first.body()).isEqualTo(201);
        assertThat(first.headers().firstValue(IdempotentCreates.REPLAYED_HEADER)).isEmpty();

        HttpJson.Reply again = create(key, job("projectName", project));
        assertThat(again.status()).isEqualTo(201);
        assertThat(again.headers().firstValue(IdempotentCreates.REPLAYED_HEADER)).hasValue("true");
        assertThat(again.body()).isEqualTo(first.body());
        assertThat(again.headers().firstValue("Location")).isEqualTo(first.headers().firstValue("Location"))
                .hasValue("/jobs/" + first.json().get("jobId").asString());
        assertThat(again.headers().firstValue("Content-Type")).hasValueSatisfying(t -> assertThat(t).startsWith(
                "application/json"));
        assertThat(jobsIn(project)).isEqualTo(1);
        assertThat(ordersOf(first.json().get("jobId").asString())).isEqualTo(1);
    }

    @Test
    void theSameBodyWrittenWithOtherWhitespaceIsTheSameRequest() {
        String key = UUID.randomUUID().toString();
        String compact = "{\"scriptName\":\"noop.py\",\"projectName\":\"" + project + "\"}";
        String spaced = "{ \"scriptName\" : \"noop.py\",\n  \"projectName\" : \"" + project + "\" }";
        HttpJson.Reply first = send(request(key, compact, null));
        HttpJson.Reply again = send(request(key, spaced, null));
        assertThat(again.headers().firstValue(IdempotentCreates.REPLAYED_HEADER)).hasValue("true");
        assertThat(again.json().get("jobId")).isEqualTo(first.json().get("jobId"));
        assertThat(jobsIn(project)).isEqualTo(1);
    }

    @Test
    void theSameKeyWithAnotherBodyIs422AndCreatesNothing() {
        String key = UUID.randomUUID().toString();
        assertThat(create(key, job("projectName", project, "epochs", 10)).status()).isEqualTo(201);

        HttpJson.Reply other = create(key, job("projectName", project, "epochs", 11));
        assertThat(other.status()).isEqualTo(422);
        assertThat(other.headers().firstValue("Content-Type")).hasValue("application/problem+json");
        assertThat(other.json().get("type").asString()).endsWith("/idempotency-key-reused");
        assertThat(other.json().get("field").asString()).isEqualTo("Idempotency-Key");
        assertThat(other.json().get("detail").asString()).contains("another body");
        assertThat(jobsIn(project)).isEqualTo(1);
    }

    @Test
    void keysThatAreNotOneTo255VisibleCharactersAre400AndCreateNothing() {
        for (String bad : List.of("k".repeat(256), "", "two words")) {
            HttpJson.Reply reply = create(bad, job("projectName", project));
            assertThat(reply.status()).as("key of %d characters: %s", bad.length(), reply.body()).isEqualTo(400);
            assertThat(reply.json().get("type").asString()).endsWith("/invalid-header");
            assertThat(reply.json().get("field").asString()).isEqualTo("Idempotency-Key");
        }
        assertThat(jobsIn(project)).isZero();
        String visible = UUID.randomUUID() + "~!#$%&'*+.^_`|:/?@[]{}()<>=,;\"\\";
        String longest = visible + "k".repeat(IdempotencyKey.MAX_LENGTH - visible.length());
        HttpJson.Reply accepted = create(longest, job("projectName", project));
        assertThat(accepted.status()).as(accepted.body()).isEqualTo(201);
        assertThat(jobsIn(project)).isEqualTo(1);
    }

    @Test
    void eightConcurrentRequestsWithOneKeyCreateOneJobAndAllAnswerIt() throws Exception {
        String key = UUID.randomUUID().toString();
        Gate gate = durability.holdAfter(KEY_COMMIT); // the job's commit: the first request is mid-creation
        waits.expect(7);
        List<CompletableFuture<HttpJson.Reply>> replies = new ArrayList<>();
        for (int i = 0; i < 8; i++) {
            replies.add(sendAsync(request(key, HttpJson.json(job("projectName", project)), Duration.ofSeconds(30))));
        }
        gate.awaitReached();
        waits.awaitWaiting();
        gate.open.countDown();

        Set<String> jobIds = ConcurrentHashMap.newKeySet();
        int replayed = 0;
        for (CompletableFuture<HttpJson.Reply> future : replies) {
            HttpJson.Reply reply = future.get(30, TimeUnit.SECONDS);
            assertThat(reply.status()).as(reply.body()).isEqualTo(201);
            jobIds.add(reply.json().get("jobId").asString());
            replayed += reply.headers().firstValue(IdempotentCreates.REPLAYED_HEADER).isPresent() ? 1 : 0;
        }
        assertThat(jobIds).hasSize(1);
        assertThat(replayed).isEqualTo(7);
        assertThat(jobsIn(project)).isEqualTo(1);
        assertThat(ordersOf(jobIds.iterator().next())).isEqualTo(1);
    }

    @Test
    void aClientWhoseReadTimedOutRetriesAndGetsTheSameOneJob() throws Exception {
        String key = UUID.randomUUID().toString();
        Map<String, Object> job = job("projectName", project);
        Gate gate = durability.holdAfter(KEY_COMMIT);
        CompletableFuture<HttpJson.Reply> impatient = sendAsync(request(key, HttpJson.json(job), Duration.ofMillis(300)));
        gate.awaitReached(); // the Boss is creating the job...
        CompletionException timedOut = org.junit.jupiter.api.Assertions.assertThrows(CompletionException.class,
                impatient::join); // ...and the client has stopped waiting for it
        assertThat(timedOut.getCause()).isInstanceOf(HttpTimeoutException.class);

        waits.expect(1);
        CompletableFuture<HttpJson.Reply> retry = sendAsync(request(key, HttpJson.json(job), Duration.ofSeconds(30)));
        waits.awaitWaiting();
        gate.open.countDown();

        HttpJson.Reply answer = retry.get(30, TimeUnit.SECONDS);
        assertThat(answer.status()).as(answer.body()).isEqualTo(201);
        assertThat(answer.headers().firstValue(IdempotentCreates.REPLAYED_HEADER)).hasValue("true");
        assertThat(jobsIn(project)).isEqualTo(1);
        assertThat(onlyJobIn(project)).isEqualTo(answer.json().get("jobId").asString());
        assertThat(create(key, job).json().get("jobId")).isEqualTo(answer.json().get("jobId"));
        assertThat(jobsIn(project)).isEqualTo(1);
    }

    @Test
    void aRepeatWhileTheFirstIsStillRunningPastTheWaitGets409WithRetryAfter() throws Exception {
        String key = UUID.randomUUID().toString();
        Gate gate = durability.holdAfter(KEY_COMMIT);
        CompletableFuture<HttpJson.Reply> first = sendAsync(request(key, HttpJson.json(job("projectName", project)),
                Duration.ofSeconds(30)));
        gate.awaitReached();

        HttpJson.Reply busy = create(key, job("projectName", project)); // waits pending-wait (3 s) first
        assertThat(busy.status()).as(busy.body()).isEqualTo(409);
        assertThat(busy.json().get("type").asString()).endsWith("/idempotency-key-in-use");
        assertThat(busy.headers().firstValue("Retry-After")).hasValueSatisfying(
                seconds -> assertThat(Integer.parseInt(seconds)).isBetween(1, 3));

        gate.open.countDown();
        HttpJson.Reply created = first.get(30, TimeUnit.SECONDS);
        assertThat(created.status()).isEqualTo(201);
        HttpJson.Reply later = create(key, job("projectName", project));
        assertThat(later.headers().firstValue(IdempotentCreates.REPLAYED_HEADER)).hasValue("true");
        assertThat(later.body()).isEqualTo(created.body());
        assertThat(jobsIn(project)).isEqualTo(1);
    }

    @Test
    void aServerErrorLetsTheKeyGoAndTheRetryFinishesTheSameJob() {
        String key = UUID.randomUUID().toString();
        durability.failAfter(KEY_COMMIT); // the job is written, then its commit fails: no order yet
        HttpJson.Reply failed = create(key, job("projectName", project));
        assertThat(failed.status()).isEqualTo(500);
        assertThat(jobsIn(project)).isEqualTo(1);
        String written = onlyJobIn(project);
        assertThat(ordersOf(written)).isZero();

        HttpJson.Reply retry = create(key, job("projectName", project)); // no waiting: the key was let go
        assertThat(retry.status()).as(retry.body()).isEqualTo(201);
        assertThat(retry.json().get("jobId").asString()).isEqualTo(written);
        assertThat(retry.json().get("status").asString()).isEqualTo("unassigned");
        assertThat(jobsIn(project)).isEqualTo(1);
        assertThat(ordersOf(written)).isEqualTo(1);
        assertThat(claim("idem-node").get("jobId").asString()).isEqualTo(written);

        HttpJson.Reply replay = create(key, job("projectName", project));
        assertThat(replay.headers().firstValue(IdempotentCreates.REPLAYED_HEADER)).hasValue("true");
        assertThat(replay.body()).isEqualTo(retry.body());
    }

    @Test
    void aClientErrorStoresNothingSoTheKeyCanCarryTheCorrectedBody() {
        String key = UUID.randomUUID().toString();
        HttpJson.Reply invalid = create(key, Map.of("projectName", project)); // no scriptName
        assertThat(invalid.status()).isEqualTo(400);
        assertThat(keys.find("anonymous:" + key)).isEmpty();
        assertThat(create(key, Map.of("projectName", project)).status()).as("the same mistake again").isEqualTo(400);

        HttpJson.Reply fixed = create(key, job("projectName", project));
        assertThat(fixed.status()).as(fixed.body()).isEqualTo(201);
        assertThat(jobsIn(project)).isEqualTo(1);
    }

    @Test
    void aKeyLeftPendingByABossThatDiedBeforeCreatingIsFinishedUnderItsRecordedId() {
        String key = UUID.randomUUID().toString();
        Map<String, Object> job = job("projectName", project);
        KeyRecord left = leftPending(key, job);

        HttpJson.Reply retry = create(key, job);
        assertThat(retry.status()).as(retry.body()).isEqualTo(201);
        assertThat(retry.json().get("jobId").asString()).isEqualTo(left.resourceId().toHexString());
        assertThat(jobsIn(project)).isEqualTo(1);
        assertThat(create(key, job).headers().firstValue(IdempotentCreates.REPLAYED_HEADER)).hasValue("true");
        assertThat(jobsIn(project)).isEqualTo(1);
    }

    @Test
    void aKeyLeftPendingByABossThatDiedBetweenTheJobAndItsOrderGetsTheOrderNotASecondJob() {
        String key = UUID.randomUUID().toString();
        Map<String, Object> job = job("projectName", project);
        KeyRecord left = leftPending(key, job);
        Document written = new Document("_id", left.resourceId());
        written.putAll(job);
        mongo.insert(written, "jobs");
        String jobId = left.resourceId().toHexString();

        HttpJson.Reply retry = create(key, job);
        assertThat(retry.status()).as(retry.body()).isEqualTo(201);
        assertThat(retry.json().get("jobId").asString()).isEqualTo(jobId);
        assertThat(jobsIn(project)).isEqualTo(1);
        assertThat(ordersOf(jobId)).isEqualTo(1);
        assertThat(boss.get("/jobs/" + jobId).json().get("order").get("status").asString()).isEqualTo("unassigned");
    }

    @Test
    void aKeyIsKeptForKeepForThenFreeAndPurged() {
        String key = UUID.randomUUID().toString();
        String firstJob = create(key, job("projectName", project, "epochs", 1)).json().get("jobId").asString();
        clock.advance(properties.idempotency().keepFor().minusMinutes(1));
        assertThat(create(key, job("projectName", project, "epochs", 2)).status()).as("still kept").isEqualTo(422);

        clock.advance(Duration.ofMinutes(2));
        HttpJson.Reply reused = create(key, job("projectName", project, "epochs", 2));
        assertThat(reused.status()).as("expired, even before the purge").isEqualTo(201);
        assertThat(reused.json().get("jobId").asString()).isNotEqualTo(firstJob);

        String other = UUID.randomUUID().toString();
        assertThat(create(other, job("projectName", project)).status()).isEqualTo(201);
        clock.advance(properties.idempotency().keepFor().plusMinutes(1));
        assertThat(purge.purgeExpiredKeys()).isGreaterThanOrEqualTo(2);
        assertThat(keys.find("anonymous:" + key)).isEmpty();
        assertThat(keys.find("anonymous:" + other)).isEmpty();
    }

    /** A pending key as a Boss leaves it when it dies after the insert: held long ago, never answered. */
    private KeyRecord leftPending(String key, Map<String, Object> job) {
        JsonNode body = HttpJson.MAPPER.readTree(HttpJson.json(job));
        KeyRecord left = KeyRecord.pending("anonymous", key, RequestFingerprint.of("job/create", body),
                clock.instant().minus(Duration.ofMinutes(10)), properties.idempotency());
        assertThat(left.heldAt(clock.instant())).isFalse();
        assertThat(keys.insert(left)).isTrue();
        return left;
    }

    private long jobsIn(String projectName) {
        return mongo.count(Query.query(Criteria.where("projectName").is(projectName)), "jobs");
    }

    private String onlyJobIn(String projectName) {
        return mongo.findOne(Query.query(Criteria.where("projectName").is(projectName)), Document.class, "jobs")
                .getObjectId("_id").toHexString();
    }

    private long ordersOf(String jobId) {
        return mongo.count(Query.query(Criteria.where("jobId").is(jobId)), "orders");
    }

    private HttpJson.Reply create(String key, Object job) {
        return send(request(key, HttpJson.json(job), null));
    }

    private HttpRequest request(String key, String body, Duration timeout) {
        HttpRequest.Builder builder = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/job/create"))
                .header("Content-Type", "application/json").header(IdempotentCreates.KEY_HEADER, key)
                .timeout(timeout == null ? Duration.ofSeconds(30) : timeout)
                .POST(HttpRequest.BodyPublishers.ofString(body));
        return builder.build();
    }

    private HttpJson.Reply send(HttpRequest request) {
        return sendAsync(request).join();
    }

    private CompletableFuture<HttpJson.Reply> sendAsync(HttpRequest request) {
        return http.sendAsync(request, HttpResponse.BodyHandlers.ofString())
                .thenApply(r -> new HttpJson.Reply(r.statusCode(), r.body(), r.headers()));
    }
}
