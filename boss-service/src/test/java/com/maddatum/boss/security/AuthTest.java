package com.maddatum.boss.security;

import static org.assertj.core.api.Assertions.assertThat;

import com.maddatum.testsupport.HttpJson;
import java.nio.file.Files;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

/** Every route with no token, a wrong token, the other role's token, and the right one. */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT, properties = {
        "server.address=127.0.0.1",
        "boss.security.submitter-tokens=sub-token-1,sub-token-2",
        "boss.security.worker-tokens=wrk-token-1",
        "boss.security.cors-allowed-origins=https://dash.example"})
class AuthTest {

    static final String SUBMITTER = "sub-token-2";
    static final String WORKER = "wrk-token-1";
    static final String ID = "0123456789abcdef01234567";

    @DynamicPropertySource
    static void dataDir(DynamicPropertyRegistry registry) throws Exception {
        String dir = Files.createTempDirectory("boss-auth-").toString();
        registry.add("boss.store.data-dir", () -> dir);
    }

    @LocalServerPort
    int port;

    record Route(String method, String path, String body, Role role) {
        @Override
        public String toString() {
            return method + " " + path;
        }
    }

    static Stream<Route> routes() {
        return Stream.of(
                new Route("POST", "/job/create", "{\"scriptName\":\"noop.py\"}", Role.SUBMITTER),
                new Route("POST", "/jobs/" + ID + "/cancel", "", Role.SUBMITTER),
                new Route("GET", "/jobs", null, Role.SUBMITTER),
                new Route("GET", "/jobs/" + ID, null, Role.SUBMITTER),
                new Route("GET", "/retrieve/order", null, Role.SUBMITTER),
                new Route("GET", "/retrieve/outcome/" + ID, null, Role.SUBMITTER),
                new Route("GET", "/workers", null, Role.SUBMITTER),
                new Route("GET", "/projects/p/leaderboard", null, Role.SUBMITTER),
                new Route("POST", "/worker-node/create", "{\"name\":\"n1\"}", Role.WORKER),
                new Route("POST", "/bored/n1", "", Role.WORKER),
                new Route("POST", "/orders/" + ID + "/heartbeat", "{\"node\":\"n1\",\"attempt\":1}", Role.WORKER),
                new Route("POST", "/callback", "{\"status\":200,\"jobId\":\"" + ID + "\"}", Role.WORKER));
    }

    private HttpJson.Reply call(Route route, String token) {
        HttpJson client = new HttpJson("http://127.0.0.1:" + port, token);
        return client.request(route.method(), route.path(), route.body() == null ? null : "application/json",
                route.body());
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("routes")
    void eachRouteLetsInItsRoleOnly(Route route) {
        String right = route.role() == Role.SUBMITTER ? SUBMITTER : WORKER;
        String other = route.role() == Role.SUBMITTER ? WORKER : SUBMITTER;

        assertUnauthorized(call(route, null));
        assertUnauthorized(call(route, "not-a-token"));
        assertUnauthorized(call(route, right + "x"));
        HttpJson.Reply forbidden = call(route, other);
        assertThat(forbidden.status()).isEqualTo(403);
        assertThat(forbidden.json().get("type").asString()).endsWith("/forbidden");
        assertThat(call(route, right).status()).isNotIn(401, 403);
    }

    @Test
    void bothRolesMayReadAJobAndHealthIsOpen() {
        Route job = new Route("GET", "/retrieve/job/" + ID, null, Role.SUBMITTER);
        assertUnauthorized(call(job, null));
        assertThat(call(job, SUBMITTER).status()).isEqualTo(404);
        assertThat(call(job, WORKER).status()).isEqualTo(404);
        assertThat(call(new Route("GET", "/actuator/health", null, null), null).status()).isEqualTo(200);
    }

    @Test
    void unknownRoutesNeedATokenBeforeTheySay404() {
        Route unknown = new Route("GET", "/no/such/thing", null, null);
        assertUnauthorized(call(unknown, null));
        assertThat(call(unknown, WORKER).status()).isEqualTo(404);
    }

    @Test
    void aWorkerTokenCannotCreateJobsButASubmitterTokenCan() {
        Route create = routes().findFirst().orElseThrow();
        assertThat(call(create, WORKER).status()).isEqualTo(403);
        assertThat(call(create, SUBMITTER).status()).isEqualTo(201);
    }

    @Test
    void onlyTheConfiguredOriginGetsCorsHeaders() {
        HttpJson client = new HttpJson("http://127.0.0.1:" + port, SUBMITTER);
        HttpJson.Reply allowed = client.request("GET", "/jobs", null, null);
        assertThat(allowed.headers().firstValue("Access-Control-Allow-Origin")).isEmpty();
        for (Map.Entry<String, Boolean> origin : Map.of("https://dash.example", true, "https://evil.example", false)
                .entrySet()) {
            var reply = java.net.http.HttpClient.newHttpClient().sendAsync(java.net.http.HttpRequest.newBuilder(
                            java.net.URI.create("http://127.0.0.1:" + port + "/jobs"))
                    .header("Origin", origin.getKey()).header("Authorization", "Bearer " + SUBMITTER).build(),
                    java.net.http.HttpResponse.BodyHandlers.ofString()).join();
            assertThat(reply.headers().firstValue("Access-Control-Allow-Origin").isPresent())
                    .as(origin.getKey()).isEqualTo(origin.getValue());
            assertThat(reply.headers().allValues("Access-Control-Allow-Origin")).doesNotContain("*");
        }
    }

    private static void assertUnauthorized(HttpJson.Reply reply) {
        assertThat(reply.status()).isEqualTo(401);
        assertThat(reply.headers().firstValue("WWW-Authenticate")).contains("Bearer");
        assertThat(reply.json().get("type").asString()).endsWith("/unauthorized");
        // The same words whether the token was missing, unknown or malformed.
        assertThat(reply.json().get("detail").asString()).isEqualTo("This route needs a valid bearer token.");
        assertThat(List.of(reply.body())).noneMatch(b -> b.contains("token-"));
    }
}
