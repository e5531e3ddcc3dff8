package com.maddatum.boss.web;

import static org.assertj.core.api.Assertions.assertThat;

import com.maddatum.boss.support.BossApiTestBase;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;

/** The OpenAPI document lists every route, the seed's included, with examples where bodies are free-form. */
class ApiDocsTest extends BossApiTestBase {

    @Test
    void everyRouteIsDocumented() {
        JsonNode docs = boss.get("/v3/api-docs").json();
        List<String> paths = new ArrayList<>();
        docs.get("paths").propertyNames().forEach(paths::add);
        assertThat(paths).contains("/job/create", "/worker-node/create", "/bored/{nodeName}", "/callback",
                "/retrieve/job/{id}", "/retrieve/order", "/retrieve/outcome/{jobId}", "/orders/{id}/heartbeat",
                "/orders/{id}/logs", "/jobs", "/jobs/{id}", "/jobs/{id}/cancel", "/jobs/{id}/logs", "/workers",
                "/projects", "/projects/{name}/leaderboard", "/projects/{name}/outcomes", "/stats", "/blobs",
                "/blobs/{sha256}", "/datasets", "/datasets/{name}", "/datasets/{name}/content");
        JsonNode create = docs.get("paths").get("/job/create").get("post");
        assertThat(create.get("summary").asString()).contains("seed");
        assertThat(create.get("requestBody").toString()).contains("depedentVariable");
        // ?waitSeconds= is served by a handler of its own, documented as a parameter of the plain route.
        assertThat(create.get("parameters").toString()).contains("waitSeconds");
        assertThat(docs.get("paths").get("/jobs/{id}").get("get").get("parameters").toString()).contains("waitSeconds");
        assertThat(docs.get("paths").get("/callback").get("post").get("requestBody").toString())
                .contains("the seed's form").contains("the worker's form");
        assertThat(boss.get("/swagger-ui.html").status()).isIn(200, 302);
    }
}
