package com.maddatum.boss.security;

import static org.assertj.core.api.Assertions.assertThat;

import com.maddatum.testsupport.HttpJson;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.context.TestConfiguration;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.context.annotation.Import;
import org.springframework.http.HttpMethod;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.RestController;
import org.springframework.web.servlet.mvc.method.RequestMappingInfo;
import org.springframework.web.servlet.mvc.method.RequestMappingInfoHandlerMapping;

/**
 * Every route the Boss serves, with every method it answers, against no token, an unknown token, each
 * role's token and a node-bound worker token: each route lets in the role the access table names and
 * nobody else, and a route the table forgot lets in nobody.
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT, properties = {
        "server.address=127.0.0.1",
        "boss.security.submitter-tokens=" + AuthTest.SUBMITTER + "," + AuthTest.SUBMITTER_2,
        "boss.security.worker-tokens=" + AuthTest.WORKER + "," + AuthTest.BOUND + ":node-a|gpu-*,"
                + AuthTest.SOLE + ":seed-z",
        "boss.security.operator-tokens=" + AuthTest.OPERATOR,
        "boss.security.metrics-tokens=" + AuthTest.METRICS,
        "boss.security.cors-allowed-origins=https://dash.example"})
@Import(AuthTest.ForgottenRoute.class)
class AuthTest {

    static final String SUBMITTER = "sub0123456789abcdef0123456789abcdef";
    static final String SUBMITTER_2 = "sub2123456789abcdef0123456789abcdef";
    static final String WORKER = "wrk0123456789abcdef0123456789abcdef";
    static final String BOUND = "bnd0123456789abcdef0123456789abcdef";
    static final String SOLE = "sol0123456789abcdef0123456789abcdef";
    static final String OPERATOR = "opr0123456789abcdef0123456789abcdef";
    static final String METRICS = "met0123456789abcdef0123456789abcdef";
    static final String ID = "0123456789abcdef01234567";

    /** A route a developer added without adding it to the access table. */
    @TestConfiguration(proxyBeanMethods = false)
    @RestController
    static class ForgottenRoute {
        @GetMapping("/forgotten")
        Map<String, Object> forgotten() {
            return Map.of("secret", "data");
        }
    }

    @DynamicPropertySource
    static void dataDir(DynamicPropertyRegistry registry) throws Exception {
        String dir = Files.createTempDirectory("boss-auth-").toString();
        registry.add("boss.store.data-dir", () -> dir);
    }

    @LocalServerPort
    int port;

    /** Every handler mapping: controllers, springdoc's and Actuator's endpoints. */
    @Autowired
    List<RequestMappingInfoHandlerMapping> mappings;

    private HttpJson.Reply call(String method, String path, String token) {
        HttpJson client = new HttpJson("http://127.0.0.1:" + port, token);
        boolean body = method.equals("POST");
        return client.request(method, path, body ? "application/json" : null, body ? "{}" : null);
    }

    /** Every (method, concrete path) the application's controllers answer, with a sample for each variable. */
    private List<String[]> routes() {
        List<String[]> routes = new ArrayList<>();
        for (RequestMappingInfo info : mappings.stream().flatMap(m -> m.getHandlerMethods().keySet().stream()).toList()) {
            Set<org.springframework.web.bind.annotation.RequestMethod> methods = info.getMethodsCondition().getMethods();
            for (String pattern : info.getPatternValues()) {
                String path = pattern.replaceAll("\\{[^}/]+}", ID).replace("/**", "/x");
                for (var method : methods.isEmpty() ? Set.of(org.springframework.web.bind.annotation.RequestMethod.GET)
                        : methods) {
                    routes.add(new String[] {method.name(), path});
                }
            }
        }
        return routes;
    }

    @Test
    void everyRouteLetsInTheRoleTheTableNamesAndNobodyElse() {
        List<String> wrong = new ArrayList<>();
        int checked = 0;
        for (String[] route : routes()) {
            String method = route[0];
            String path = route[1];
            AccessRules.Access access = AccessRules.access(method, path);
            if (path.equals("/forgotten") || path.equals("/error")) {
                continue; // the forgotten route is the next test's; /error is only reached by error dispatch
            }
            checked++;
            if (access.equals(AccessRules.Access.DENIED)) {
                wrong.add(method + " " + path + " is served but missing from the access table");
                continue;
            }
            expect(wrong, method, path, null, access.open() ? null : 401);
            expect(wrong, method, path, "x" + WORKER, access.open() ? null : 401);
            expect(wrong, method, path, SUBMITTER, access.admits(Role.SUBMITTER) ? null : 403);
            expect(wrong, method, path, WORKER, access.admits(Role.WORKER) ? null : 403);
            expect(wrong, method, path, OPERATOR, access.admits(Role.OPERATOR) ? null : 403);
            expect(wrong, method, path, METRICS, access.admits(Role.METRICS) ? null : 403);
            if (!access.admits(Role.WORKER)) {
                // Where a worker is admitted, a bound token is further limited to its nodes (next tests).
                expect(wrong, method, path, BOUND, 403);
            }
        }
        assertThat(checked).as("routes found").isGreaterThan(20);
        assertThat(wrong).isEmpty();
    }

    /** {@code expected} null: anything but 401 and 403. */
    private void expect(List<String> wrong, String method, String path, String token, Integer expected) {
        int status = call(method, path, token).status();
        boolean ok = expected == null ? status != 401 && status != 403 : status == expected;
        if (!ok) {
            wrong.add(method + " " + path + " with " + (token == null ? "no token" : token.substring(0, 3) + "...")
                    + " answered " + status + ", expected " + (expected == null ? "neither 401 nor 403" : expected));
        }
    }

    @Test
    void aRouteTheTableForgotIsDeniedToEveryToken() {
        assertThat(AccessRules.access("GET", "/forgotten")).isEqualTo(AccessRules.Access.DENIED);
        assertUnauthorized(call("GET", "/forgotten", null));
        for (String token : List.of(SUBMITTER, WORKER, BOUND, OPERATOR, METRICS)) {
            HttpJson.Reply reply = call("GET", "/forgotten", token);
            assertThat(reply.status()).as(token).isEqualTo(403);
            assertThat(reply.body()).doesNotContain("secret");
        }
    }

    @Test
    void headIsGetAndUnknownMethodsAreDenied() {
        assertThat(call("HEAD", "/jobs", WORKER).status()).isEqualTo(403);
        assertThat(call("HEAD", "/jobs", SUBMITTER).status()).isEqualTo(200);
        assertThat(call("HEAD", "/stats", WORKER).status()).isEqualTo(403);
        assertThat(call("DELETE", "/jobs/" + ID, SUBMITTER).status()).isEqualTo(403);
        assertThat(call("PUT", "/job/create", WORKER).status()).isEqualTo(403);
        assertUnauthorized(call("PATCH", "/callback", null));
    }

    @Test
    void unknownRoutesAreDeniedBeforeTheySay404() {
        assertUnauthorized(call("GET", "/no/such/thing", null));
        assertThat(call("GET", "/no/such/thing", WORKER).status()).isEqualTo(403);
        assertThat(call("GET", "/no/such/thing", SUBMITTER).status()).isEqualTo(403);
    }

    @Test
    void aWorkerTokenCannotCreateJobsButASubmitterTokenCan() {
        HttpJson worker = new HttpJson("http://127.0.0.1:" + port, WORKER);
        HttpJson submitter = new HttpJson("http://127.0.0.1:" + port, SUBMITTER);
        assertThat(worker.post("/job/create", Map.of("scriptName", "noop.py")).status()).isEqualTo(403);
        HttpJson.Reply created = submitter.post("/job/create", Map.of("scriptName", "noop.py"));
        assertThat(created.status()).isEqualTo(201);
        // Leave no waiting order for the other tests' claims.
        submitter.post("/jobs/" + created.json().get("jobId").asString() + "/cancel", "");
    }

    @Test
    void aNodeBoundWorkerTokenActsOnlyAsItsNodes() {
        HttpJson submitter = new HttpJson("http://127.0.0.1:" + port, SUBMITTER);
        HttpJson bound = new HttpJson("http://127.0.0.1:" + port, BOUND);
        HttpJson unbound = new HttpJson("http://127.0.0.1:" + port, WORKER);
        assertThat(bound.post("/worker-node/create", Map.of("name", "node-a")).status()).isEqualTo(200);
        assertThat(bound.post("/worker-node/create", Map.of("name", "gpu-7", "labels", List.of("gpu"))).status())
                .isEqualTo(200);
        HttpJson.Reply other = bound.post("/worker-node/create", Map.of("name", "node-b", "labels", List.of("gpu")));
        assertThat(other.status()).isEqualTo(403);
        assertThat(other.json().get("type").asString()).endsWith("/forbidden-node");
        assertThat(bound.post("/bored/node-b", "").status()).isEqualTo(403);
        assertThat(bound.post("/bored/gpu-x-anything", "").status()).isEqualTo(204);

        // An order held by node-b: the bound token can neither heartbeat, log nor report for it.
        String jobId = submitter.post("/job/create", Map.of("scriptName", "noop.py")).json().get("jobId").asString();
        String orderId = unbound.post("/bored/node-b", "").json().get("_id").asString();
        assertThat(bound.post("/orders/" + orderId + "/heartbeat", Map.of("node", "node-b", "attempt", 1)).status())
                .isEqualTo(403);
        assertThat(bound.post("/orders/" + orderId + "/logs", Map.of("node", "node-b", "attempt", 1, "text", "x"))
                .status()).isEqualTo(403);
        assertThat(bound.post("/callback", Map.of("status", 200, "jobId", jobId)).status()).isEqualTo(403);
        assertThat(bound.post("/callback", Map.of("status", 200, "jobId", jobId, "orderId", orderId, "attempt", 1,
                "node", "node-b")).status()).isEqualTo(403);
        assertThat(submitter.get("/jobs/" + jobId).json().get("order").get("status").asString()).isEqualTo("assigned");
        // The holder's own (unbound) token still can.
        assertThat(unbound.post("/callback", Map.of("status", 200, "jobId", jobId)).status()).isEqualTo(200);
    }

    @Test
    void onlyAnOperatorDrainsAnyNodeAndAWorkerOnlyItsOwn() {
        HttpJson submitter = new HttpJson("http://127.0.0.1:" + port, SUBMITTER);
        HttpJson operator = new HttpJson("http://127.0.0.1:" + port, OPERATOR);
        HttpJson bound = new HttpJson("http://127.0.0.1:" + port, BOUND);
        assertThat(bound.post("/worker-node/create", Map.of("name", "gpu-drain-1")).status()).isEqualTo(200);

        assertThat(submitter.post("/workers/gpu-drain-1/drain", "").status()).isEqualTo(403);
        assertThat(bound.post("/workers/node-b/drain", "").status()).isEqualTo(403);
        assertThat(bound.get("/workers/node-b").status()).isEqualTo(403);
        HttpJson.Reply own = bound.post("/workers/gpu-drain-1/drain", Map.of("reason", "preStop"));
        assertThat(own.status()).as(own.body()).isEqualTo(200);
        assertThat(own.json().get("drain").get("by").asString()).isEqualTo("node");
        assertThat(bound.get("/workers/gpu-drain-1").json().get("state").asString()).isEqualTo("drained");
        assertThat(bound.post("/workers/gpu-drain-1/undrain", "").status()).isEqualTo(403);
        assertThat(submitter.post("/workers/gpu-drain-1/undrain", "").status()).isEqualTo(403);
        // The node's own drain (a preStop) is lifted when the node registers again (the restarted pod).
        assertThat(bound.post("/worker-node/create", Map.of("name", "gpu-drain-1")).status()).isEqualTo(200);
        assertThat(bound.get("/workers/gpu-drain-1").json().has("drain")).isFalse();

        // With a bootId, only a new start lifts it: the same start registering again while its preStop
        // waits (its GPUs changed) stays drained.
        assertThat(bound.post("/worker-node/create", Map.of("name", "gpu-drain-1", "bootId", "boot-1")).status())
                .isEqualTo(200);
        assertThat(bound.post("/workers/gpu-drain-1/drain", Map.of("reason", "preStop")).status()).isEqualTo(200);
        assertThat(bound.post("/worker-node/create", Map.of("name", "gpu-drain-1", "bootId", "boot-1",
                "cpuOnlyBecause", "GPU 0 failed")).status()).isEqualTo(200);
        assertThat(bound.get("/workers/gpu-drain-1").json().get("drain").get("by").asString()).isEqualTo("node");
        assertThat(bound.post("/worker-node/create", Map.of("name", "gpu-drain-1", "bootId", "boot-2")).status())
                .isEqualTo(200);
        assertThat(bound.get("/workers/gpu-drain-1").json().has("drain")).isFalse();
        assertThat(bound.post("/worker-node/create", Map.of("name", "gpu-drain-1", "bootId", "../x")).status())
                .isEqualTo(400);

        HttpJson.Reply operatorDrain = operator.post("/workers/gpu-drain-1/drain", Map.of("reason", "bad fan"));
        assertThat(operatorDrain.json().get("drain").get("by").asString()).isEqualTo("operator");
        // The node's own drain again does not turn an operator's into one its next registration lifts.
        bound.post("/workers/gpu-drain-1/drain", Map.of("reason", "preStop"));
        assertThat(bound.post("/worker-node/create", Map.of("name", "gpu-drain-1")).status()).isEqualTo(200);
        assertThat(submitter.get("/workers/gpu-drain-1").json().get("drain").get("reason").asString())
                .isEqualTo("bad fan");
        HttpJson.Reply undrained = operator.post("/workers/gpu-drain-1/undrain", "");
        assertThat(undrained.status()).isEqualTo(200);
        assertThat(undrained.json().has("drain")).isFalse();
    }

    @Test
    void theMetricsTokenReadsMetricsAndNothingElse() {
        HttpJson metrics = new HttpJson("http://127.0.0.1:" + port, METRICS);
        assertThat(metrics.get("/actuator/prometheus").status()).isEqualTo(200);
        assertThat(AccessRules.access("GET", "/fleet/demand").admits(Role.METRICS)).isTrue();
        for (String path : List.of("/jobs", "/workers", "/stats", "/retrieve/job/" + ID, "/actuator")) {
            assertThat(metrics.get(path).status()).as(path).isEqualTo(403);
        }
        assertThat(metrics.post("/bored/node-a", "").status()).isEqualTo(403);
    }

    @Autowired
    org.springframework.data.mongodb.core.MongoTemplate mongo;

    @Test
    void aTokenBoundToOneNodeSaysWhoSentABareCallbackThatNothingElseCouldAttribute() {
        HttpJson submitter = new HttpJson("http://127.0.0.1:" + port, SUBMITTER);
        HttpJson sole = new HttpJson("http://127.0.0.1:" + port, SOLE);
        String jobId = submitter.post("/job/create", Map.of("scriptName", "noop.py", "priority", 99)).json()
                .get("jobId").asString();
        assertThat(sole.post("/bored/seed-z", "").json().get("jobId").asString()).isEqualTo(jobId);
        // As if seed-y had held it before (its seed lease ran out): a bare callback alone could be either's.
        mongo.getCollection("orders").updateOne(new org.bson.Document("jobId", jobId), new org.bson.Document(
                "$addToSet", new org.bson.Document("seedNodes", "seed-y")));
        assertThat(sole.post("/callback", Map.of("status", 200, "jobId", jobId, "loss", 1.5)).status()).isEqualTo(200);
        assertThat(submitter.get("/retrieve/outcome/" + jobId).json().get("node").asString()).isEqualTo("seed-z");
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

    @Test
    void theTableDeniesByDefaultAndTreatsHeadAsGet() {
        assertThat(AccessRules.access(HttpMethod.HEAD.name(), "/jobs")).isEqualTo(AccessRules.Access.SUBMITTER);
        assertThat(AccessRules.access("GET", "/jobs/x/y/z")).isEqualTo(AccessRules.Access.DENIED);
        assertThat(AccessRules.access("TRACE", "/jobs")).isEqualTo(AccessRules.Access.DENIED);
        assertThat(AccessRules.access("GET", "/actuator/health")).isEqualTo(AccessRules.Access.OPEN);
    }

    private static void assertUnauthorized(HttpJson.Reply reply) {
        assertThat(reply.status()).isEqualTo(401);
        assertThat(reply.headers().firstValue("WWW-Authenticate")).contains("Bearer");
        // The same words whether the token was missing, unknown or malformed.
        assertThat(reply.json().get("detail").asString()).isEqualTo("This route needs a valid bearer token.");
    }
}
