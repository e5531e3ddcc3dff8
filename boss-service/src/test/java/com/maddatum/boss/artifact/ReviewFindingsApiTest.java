package com.maddatum.boss.artifact;

import static org.assertj.core.api.Assertions.assertThat;

import com.maddatum.testsupport.HttpJson;
import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;
import tools.jackson.databind.JsonNode;

/** Review findings over real HTTP. */
@ExtendWith(OutputCaptureExtension.class)
class ReviewFindingsApiTest extends ArtifactApiTestBase {

    private JsonNode storedJob(String jobId) {
        return boss.get("/retrieve/job/" + jobId).json();
    }

    /** A predict job re-run against another model: the new job must get that model's files. */
    @Test
    void aRerunNamingAnotherModelGetsThatModel() {
        Map<String, Object> oldWeights = artifact("model.pt", "weights of X " + System.nanoTime());
        String x = finish(project("rx"), 200, 0.3, List.of(oldWeights, artifact("model.json", "{\"job\":\"X\"}")));
        Map<String, Object> newWeights = artifact("model.pt", "weights of Y " + System.nanoTime());
        String y = finish(project("ry"), 200, 0.2, List.of(newWeights, artifact("model.json", "{\"job\":\"Y\"}")));
        String predict = submit(job("scriptName", "predict.py", "model", Map.of("jobId", x))).get("jobId").asString();

        HttpJson.Reply rerun = boss.post("/jobs/" + predict + "/rerun", Map.of("model", Map.of("jobId", y)));
        assertThat(rerun.status()).as(rerun.body()).isEqualTo(201);
        JsonNode again = storedJob(rerun.json().get("jobId").asString());
        assertThat(again.get("model").get("jobId").asString()).isEqualTo(y);
        JsonNode pt = null;
        for (JsonNode input : again.get("inputs")) {
            if (input.get("name").asString().equals("model.pt")) {
                pt = input;
            }
        }
        assertThat(pt.get("sha256").asString()).as("model.pt of the re-run").isEqualTo(newWeights.get("sha256"));
    }

    /** The href the list gives must download the artifact. */
    @Test
    void theHrefOfAnArtifactWithASemicolonDownloadsIt() {
        String jobId = finish(project("semi"), 200, 0.3, List.of(artifact("run;1.txt", "semicolon")));
        JsonNode listed = listed(jobId).get("artifacts").get(0);
        String href = listed.get("href").asString();
        assertThat(download(href).statusCode()).as(href).isEqualTo(200);
    }

    /** A Worker's download cut short (its stall timeout, a restart) is routine: no ERROR and no 500 path. */
    @Test
    void aDownloadTheClientAbandonsIsNotAnUnexpectedFailure(CapturedOutput output) throws Exception {
        byte[] big = new byte[48 << 20];
        new Random(7).nextBytes(big);
        String sha = blobs.put(new ByteArrayInputStream(big), null, Long.MAX_VALUE, null).sha256();
        try (Socket socket = new Socket("127.0.0.1", port)) {
            OutputStream out = socket.getOutputStream();
            out.write(("GET /blobs/" + sha + " HTTP/1.1\r\nHost: x\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            out.flush();
            InputStream in = socket.getInputStream();
            in.readNBytes(4096);
            socket.setSoLinger(true, 0); // reset, as a killed Worker would
        }
        Instant deadline = Instant.now().plus(Duration.ofSeconds(10));
        while (Instant.now().isBefore(deadline) && !output.getAll().contains("unexpected failure")) {
            Thread.onSpinWait();
        }
        assertThat(output.getAll()).doesNotContain("unexpected failure");
    }
}
