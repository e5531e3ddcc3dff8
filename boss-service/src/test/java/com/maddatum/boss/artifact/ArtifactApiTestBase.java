package com.maddatum.boss.artifact;

import static org.assertj.core.api.Assertions.assertThat;

import com.maddatum.boss.blob.BlobStore;
import com.maddatum.boss.support.BossApiTestBase;
import com.maddatum.testsupport.HttpJson;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.springframework.beans.factory.annotation.Autowired;
import tools.jackson.databind.JsonNode;

/** Jobs that end with artifacts, as this project's Worker reports them: blobs uploaded, then the outcome. */
abstract class ArtifactApiTestBase extends BossApiTestBase {

    @Autowired
    protected BlobStore blobs;

    private final HttpClient http = HttpClient.newHttpClient();

    /** Stores the bytes as {@code POST /blobs} would; returns their hash. */
    protected String upload(byte[] bytes) {
        try {
            return blobs.put(new ByteArrayInputStream(bytes), null, Long.MAX_VALUE, null).sha256();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** An {@code artifacts} entry for these bytes, uploaded first. */
    protected Map<String, Object> artifact(String name, String content) {
        byte[] bytes = content.getBytes(StandardCharsets.UTF_8);
        return artifact(name, bytes);
    }

    protected Map<String, Object> artifact(String name, byte[] bytes) {
        Map<String, Object> entry = new LinkedHashMap<>();
        entry.put("name", name);
        entry.put("size", bytes.length);
        entry.put("sha256", upload(bytes));
        entry.put("contentType", "application/octet-stream");
        return entry;
    }

    /** A running job's claim: {@code jobId}, {@code orderId}, {@code attempt}, {@code node}. */
    protected record Claimed(String jobId, String orderId, int attempt, String node) {}

    protected Claimed submitAndClaim(Map<String, Object> job, String node) {
        String jobId = submit(job).get("jobId").asString();
        JsonNode order = claim(node);
        assertThat(order.get("jobId").asString()).isEqualTo(jobId);
        return new Claimed(jobId, order.get("_id").asString(), order.get("attempt").asInt(), node);
    }

    /** The outcome of {@code claimed}, as the Worker posts it. */
    protected Map<String, Object> outcome(Claimed claimed, int status, Double loss, List<Map<String, Object>> artifacts) {
        Map<String, Object> report = new HashMap<>();
        report.put("status", status);
        report.put("jobId", claimed.jobId());
        report.put("orderId", claimed.orderId());
        report.put("attempt", claimed.attempt());
        report.put("node", claimed.node());
        if (loss != null) {
            report.put("loss", loss);
            report.put("metric", -loss);
        }
        if (artifacts != null) {
            report.put("artifacts", artifacts);
        }
        return report;
    }

    /** Runs a job in {@code project} (null: none) to an accepted outcome naming {@code artifacts}; returns its id. */
    protected String finish(String project, int status, Double loss, List<Map<String, Object>> artifacts) {
        Claimed claimed = submitAndClaim(project == null ? job("maxAttempts", 1)
                : job("projectName", project, "maxAttempts", 1), "art-node");
        HttpJson.Reply reply = boss.post("/callback", outcome(claimed, status, loss, artifacts));
        assertThat(reply.status()).as(reply.body()).isEqualTo(200);
        return claimed.jobId();
    }

    protected JsonNode listed(String jobId) {
        HttpJson.Reply reply = boss.get("/jobs/" + jobId + "/artifacts");
        assertThat(reply.status()).as(reply.body()).isEqualTo(200);
        return reply.json();
    }

    protected HttpResponse<byte[]> download(String path, String... headers) {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path));
        for (int i = 0; i < headers.length; i += 2) {
            request.header(headers[i], headers[i + 1]);
        }
        try {
            return http.send(request.GET().build(), HttpResponse.BodyHandlers.ofByteArray());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    protected static String project(String prefix) {
        return prefix + "-" + System.nanoTime();
    }
}
