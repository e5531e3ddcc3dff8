package com.maddatum.boss.web;

import static org.assertj.core.api.Assertions.assertThat;

import com.maddatum.boss.support.BossApiTestBase;
import com.maddatum.testsupport.HttpJson;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import tools.jackson.databind.JsonNode;

/**
 * Bad input across the Boss's routes: each case must get its 4xx problem detail naming the field,
 * must store or change nothing, and must leave the Boss healthy.
 */
class BadInputTest extends BossApiTestBase {

    private static final String JSON = "application/json";
    private static final String UNKNOWN = "0123456789abcdef01234567";

    record Case(String name, String method, String path, String contentType, String body, int status, String type,
            String field) {
        @Override
        public String toString() {
            return name;
        }
    }

    static Case post(String name, String path, String body, int status, String type, String field) {
        return new Case(name, "POST", path, JSON, body, status, type, field);
    }

    static Case get(String name, String path, int status, String type, String field) {
        return new Case(name, "GET", path, null, null, status, type, field);
    }

    static Stream<Case> cases() {
        String deep = "{\"scriptName\":\"a.py\",\"d\":" + "{\"d\":".repeat(40) + "1" + "}".repeat(40) + "}";
        String deepField = String.join(".", java.util.Collections.nCopies(32, "d"));
        String big = "{\"scriptName\":\"a.py\",\"pad\":\"" + "x".repeat(1_100_000) + "\"}";
        return Stream.of(
                post("job body is an array", "/job/create", "[1,2]", 400, "invalid-field", "body"),
                post("job body is a string", "/job/create", "\"job\"", 400, "invalid-field", "body"),
                post("job body is malformed", "/job/create", "{\"scriptName\":", 400, "malformed-json", "body"),
                post("job body is empty", "/job/create", "", 400, "malformed-json", "body"),
                post("job without scriptName", "/job/create", "{}", 400, "invalid-field", "scriptName"),
                post("scriptName climbs out", "/job/create", "{\"scriptName\":\"../evil.py\"}", 400, "invalid-field", "scriptName"),
                post("scriptName is absolute", "/job/create", "{\"scriptName\":\"/tmp/x.py\"}", 400, "invalid-field", "scriptName"),
                post("scriptName has a directory", "/job/create", "{\"scriptName\":\"a/b.py\"}", 400, "invalid-field", "scriptName"),
                post("scriptName is not python", "/job/create", "{\"scriptName\":\"run.sh\"}", 400, "invalid-field", "scriptName"),
                post("scriptName is hidden", "/job/create", "{\"scriptName\":\".x.py\"}", 400, "invalid-field", "scriptName"),
                post("scriptName is a number", "/job/create", "{\"scriptName\":42}", 400, "invalid-field", "scriptName"),
                post("operator key", "/job/create", "{\"scriptName\":\"a.py\",\"$set\":{}}", 400, "invalid-field", "$set"),
                post("nested operator key", "/job/create", "{\"scriptName\":\"a.py\",\"p\":{\"$gt\":\"\"}}", 400, "invalid-field", "p.$gt"),
                post("dotted key", "/job/create", "{\"scriptName\":\"a.py\",\"a.b\":1}", 400, "invalid-field", "a.b"),
                post("infinite number", "/job/create", "{\"scriptName\":\"a.py\",\"x\":1e999}", 400, "invalid-field", "x"),
                post("NaN literal", "/job/create", "{\"scriptName\":\"a.py\",\"x\":NaN}", 400, "malformed-json", "body"),
                post("projectName forges a log line", "/job/create",
                        "{\"scriptName\":\"a.py\",\"projectName\":\"p\\nERROR forged\"}", 400, "invalid-field", "projectName"),
                get("outcomes limit beyond the cap", "/projects/p/outcomes?limit=10000", 400, "invalid-field", "limit"),
                post("client-chosen _id", "/job/create", "{\"scriptName\":\"a.py\",\"_id\":\"abc\"}", 400, "invalid-field", "_id"),
                post("fractional priority", "/job/create", "{\"scriptName\":\"a.py\",\"priority\":1.5}", 400, "invalid-field", "priority"),
                post("zero maxAttempts", "/job/create", "{\"scriptName\":\"a.py\",\"maxAttempts\":0}", 400, "invalid-field", "maxAttempts"),
                post("zero GPU memory", "/job/create", "{\"scriptName\":\"a.py\",\"minGpuMemoryMiB\":0}", 400, "invalid-field", "minGpuMemoryMiB"),
                post("GPU memory in bytes", "/job/create", "{\"scriptName\":\"a.py\",\"minGpuMemoryMiB\":42949672960}", 400, "invalid-field", "minGpuMemoryMiB"),
                post("fractional GPU memory", "/job/create", "{\"scriptName\":\"a.py\",\"minGpuMemoryMiB\":1.5}", 400, "invalid-field", "minGpuMemoryMiB"),
                post("GPU memory as text", "/job/create", "{\"scriptName\":\"a.py\",\"minGpuMemoryMiB\":\"40GB\"}", 400, "invalid-field", "minGpuMemoryMiB"),
                post("labels not a list", "/job/create", "{\"scriptName\":\"a.py\",\"requiredLabels\":\"gpu\"}", 400, "invalid-field", "requiredLabels"),
                post("data file with a path", "/job/create", "{\"scriptName\":\"a.py\",\"dataFileName\":\"../../etc/passwd\"}", 400, "invalid-field", "dataFileName"),
                post("nested too deep", "/job/create", deep, 400, "invalid-field", deepField),
                post("body too large", "/job/create", big, 413, "payload-too-large", "body"),
                get("job id malformed", "/retrieve/job/not-an-id", 404, "not-found", "id"),
                get("job id unknown", "/retrieve/job/" + UNKNOWN, 404, "not-found", "id"),
                get("job detail malformed id", "/jobs/zzz", 404, "not-found", "id"),
                post("cancel unknown job", "/jobs/" + UNKNOWN + "/cancel", "", 404, "not-found", "id"),
                get("outcome of unknown job", "/retrieve/outcome/" + UNKNOWN, 404, "not-found", "id"),
                post("callback for unknown job", "/callback", "{\"status\":200,\"jobId\":\"" + UNKNOWN + "\"}", 404, "not-found", "id"),
                post("callback without job", "/callback", "{\"status\":200}", 400, "invalid-field", "jobId"),
                post("callback status is text", "/callback", "{\"status\":\"ok\",\"jobId\":\"" + UNKNOWN + "\"}", 400, "invalid-field", "status"),
                post("callback loss is text", "/callback", "{\"status\":200,\"jobId\":\"" + UNKNOWN + "\",\"loss\":\"low\"}", 400, "invalid-field", "loss"),
                post("callback loss is infinite", "/callback", "{\"status\":200,\"jobId\":\"" + UNKNOWN + "\",\"loss\":-1e400}", 400, "invalid-field", "loss"),
                post("callback loss is NaN", "/callback", "{\"status\":200,\"jobId\":\"" + UNKNOWN + "\",\"loss\":NaN}", 400, "malformed-json", "body"),
                post("callback metric map has text", "/callback", "{\"status\":200,\"jobId\":\"" + UNKNOWN + "\",\"metrics\":{\"r2\":\"high\"}}", 400, "invalid-field", "metrics.r2"),
                post("callback orderId malformed", "/callback", "{\"status\":200,\"orderId\":\"zz\"}", 400, "invalid-field", "orderId"),
                post("callback time malformed", "/callback", "{\"status\":200,\"jobId\":\"" + UNKNOWN + "\",\"startedAt\":\"yesterday\"}", 400, "invalid-field", "startedAt"),
                post("callback body is a list", "/callback", "[]", 400, "invalid-field", "body"),
                post("bored with a bad node name", "/bored/bad%20name", "", 400, "invalid-field", "nodeName"),
                post("bored with negative wait", "/bored/n1?waitSeconds=-1", "", 400, "invalid-field", "waitSeconds"),
                post("bored with text wait", "/bored/n1?waitSeconds=soon", "", 400, "invalid-field", "waitSeconds"),
                post("bored with negative GPU memory", "/bored/n1?gpuMemoryMiB=-1", "", 400, "invalid-field", "gpuMemoryMiB"),
                post("bored with text GPU memory", "/bored/n1?gpuMemoryMiB=24GB", "", 400, "invalid-field", "gpuMemoryMiB"),
                get("demand with a bad label", "/fleet/demand?labels=gpu,%24x", 400, "invalid-field", "labels"),
                get("demand with negative GPU memory", "/fleet/demand?gpuMemoryMiB=-5", 400, "invalid-field", "gpuMemoryMiB"),
                post("heartbeat malformed order id", "/orders/xyz/heartbeat", "{\"node\":\"n\",\"attempt\":1}", 404, "not-found", "id"),
                post("heartbeat without attempt", "/orders/" + UNKNOWN + "/heartbeat", "{\"node\":\"n\"}", 400, "invalid-field", "attempt"),
                post("heartbeat attempt is text", "/orders/" + UNKNOWN + "/heartbeat", "{\"node\":\"n\",\"attempt\":\"x\"}", 400, "invalid-field", "attempt"),
                post("heartbeat for unknown order", "/orders/" + UNKNOWN + "/heartbeat", "{\"node\":\"n\",\"attempt\":1}", 404, "not-found", "id"),
                post("worker without name", "/worker-node/create", "{}", 400, "invalid-field", "name"),
                post("worker name with a path", "/worker-node/create", "{\"name\":\"../x\"}", 400, "invalid-field", "name"),
                post("worker with zero slots", "/worker-node/create", "{\"name\":\"n\",\"slots\":0}", 400, "invalid-field", "slots"),
                get("jobs with unknown status", "/jobs?status=weird", 400, "invalid-field", "status"),
                get("jobs with page size 0", "/jobs?size=0", 400, "invalid-field", "size"),
                get("leaderboard limit 0", "/projects/p/leaderboard?limit=0", 400, "invalid-field", "limit"),
                get("unknown route", "/no/such/route", 404, "not-found", null),
                new Case("wrong method", "DELETE", "/job/create", null, null, 405, "method-not-allowed", null),
                new Case("wrong media type", "POST", "/job/create", "text/plain", "hi", 415, "unsupported-media-type", null));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void rejectsWithAProblemDetailAndChangesNothing(Case c) {
        List<Long> before = counts();
        HttpJson.Reply reply = boss.request(c.method(), c.path(), c.contentType(), c.body());

        assertThat(reply.status()).as(reply.body()).isEqualTo(c.status());
        assertThat(reply.headers().firstValue("Content-Type")).get().asString().startsWith("application/problem+json");
        JsonNode problem = reply.json();
        assertThat(problem.get("type").asString()).isEqualTo(ApiProblem.TYPE_BASE + c.type());
        assertThat(problem.get("title").asString()).isNotBlank();
        assertThat(problem.get("status").asInt()).isEqualTo(c.status());
        if (c.field() != null) {
            assertThat(problem.get("field").asString()).isEqualTo(c.field());
        }
        assertThat(reply.body()).doesNotContain("Exception").doesNotContain("\tat ");
        assertThat(counts()).isEqualTo(before);
        assertThat(boss.get("/actuator/health").json().get("status").asString()).isEqualTo("UP");
    }

    private List<Long> counts() {
        return List.of(count("jobs"), count("orders"), count("outcomes"), count("workers"));
    }
}
