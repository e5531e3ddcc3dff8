package com.maddatum.boss.idempotency;

import static org.assertj.core.api.Assertions.assertThat;

import com.maddatum.testsupport.HttpJson;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.Map;
import java.util.UUID;
import org.bson.Document;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.data.mongodb.core.MongoTemplate;
import org.springframework.data.mongodb.core.query.Criteria;
import org.springframework.data.mongodb.core.query.Query;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

/** With tokens on, each token has keys of its own, and what is stored names the token only by its digest. */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT, properties = {
        "server.address=127.0.0.1",
        "boss.security.submitter-tokens=" + IdempotencyScopeTest.ALICE + "," + IdempotencyScopeTest.BOB,
        "logging.level.com.maddatum=WARN"})
class IdempotencyScopeTest {

    static final String ALICE = "alice0123456789abcdef0123456789abcdef";
    static final String BOB = "bob0123456789abcdef0123456789abcdef99";

    @DynamicPropertySource
    static void dataDir(DynamicPropertyRegistry registry) throws Exception {
        String dir = Files.createTempDirectory("boss-idem-").toString();
        registry.add("boss.store.data-dir", () -> dir);
    }

    @LocalServerPort
    int port;

    @Autowired
    MongoTemplate mongo;

    private final HttpClient http = HttpClient.newHttpClient();

    @Test
    void twoTokensWithTheSameKeyGetAJobEachAndReplayOnlyTheirOwn() throws Exception {
        String key = UUID.randomUUID().toString();
        Map<String, Object> alicesJob = Map.of("scriptName", "noop.py", "projectName", "alice-" + key);
        Map<String, Object> bobsJob = Map.of("scriptName", "noop.py", "projectName", "bob-" + key);

        HttpJson.Reply alice = create(ALICE, key, alicesJob);
        HttpJson.Reply bob = create(BOB, key, bobsJob);
        assertThat(alice.status()).as(alice.body()).isEqualTo(201);
        assertThat(bob.status()).as(bob.body()).isEqualTo(201);
        assertThat(bob.headers().firstValue(IdempotentCreates.REPLAYED_HEADER)).isEmpty();
        assertThat(bob.json().get("jobId")).isNotEqualTo(alice.json().get("jobId"));

        HttpJson.Reply aliceAgain = create(ALICE, key, alicesJob);
        assertThat(aliceAgain.headers().firstValue(IdempotentCreates.REPLAYED_HEADER)).hasValue("true");
        assertThat(aliceAgain.body()).isEqualTo(alice.body());
        assertThat(create(BOB, key, alicesJob).status()).as("Bob's key is bound to Bob's job").isEqualTo(422);
        assertThat(mongo.count(Query.query(Criteria.where("projectName").is("alice-" + key)), "jobs")).isEqualTo(1);

        for (Document stored : mongo.find(Query.query(Criteria.where("key").is(key)), Document.class,
                IdempotencyStore.COLLECTION)) {
            assertThat(stored.toJson()).doesNotContain(ALICE).doesNotContain(BOB);
            assertThat(stored.getString("scope")).isIn(sha256(ALICE), sha256(BOB));
        }
    }

    private HttpJson.Reply create(String token, String key, Object job) {
        HttpRequest request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/job/create"))
                .header("Authorization", "Bearer " + token).header("Content-Type", "application/json")
                .header(IdempotentCreates.KEY_HEADER, key).POST(HttpRequest.BodyPublishers.ofString(HttpJson.json(job)))
                .build();
        try {
            HttpResponse<String> response = http.send(request, HttpResponse.BodyHandlers.ofString());
            return new HttpJson.Reply(response.statusCode(), response.body(), response.headers());
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    private static String sha256(String token) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(token.getBytes(StandardCharsets.UTF_8)));
    }
}
