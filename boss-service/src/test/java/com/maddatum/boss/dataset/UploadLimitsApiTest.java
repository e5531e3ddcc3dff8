package com.maddatum.boss.dataset;

import static org.assertj.core.api.Assertions.assertThat;

import com.maddatum.boss.blob.BlobStore;
import com.maddatum.boss.support.BossApiTestBase;
import com.maddatum.boss.support.RawHttp;
import java.io.IOException;
import java.net.http.HttpRequest;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;
import java.util.stream.StreamSupport;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.test.context.TestPropertySource;

/**
 * The upload limits: a 413 that says which limit and how to raise it, whether the upload said its size up
 * front or turned out too large on the way, and nothing stored (not even a temporary file) either way.
 */
@TestPropertySource(properties = {"boss.datasets.max-upload-bytes=1MB", "boss.datasets.quota-bytes=2MB"})
class UploadLimitsApiTest extends BossApiTestBase {

    static final int MIB = 1024 * 1024;

    @Autowired
    BlobStore blobs;

    @Value("${boss.store.data-dir}")
    String dataDir;

    private RawHttp http;

    @BeforeEach
    void emptyStore() throws IOException {
        http = new RawHttp(port);
        for (BlobStore.Blob blob : StreamSupport.stream(blobs.all().spliterator(), false).toList()) {
            blobs.delete(blob.sha256(), java.time.Instant.parse("3000-01-01T00:00:00Z"));
        }
        mongo.getCollection("datasetVersions").deleteMany(new org.bson.Document());
    }

    private void assertNothingStored() throws IOException {
        assertThat(blobs.all()).isEmpty();
        assertNoTemporaryFiles();
        assertThat(mongo.getCollection("datasetVersions").countDocuments()).isZero();
    }

    private void assertNoTemporaryFiles() throws IOException {
        try (Stream<Path> temporary = Files.list(Path.of(dataDir, "blobs", "tmp"))) {
            assertThat(temporary).isEmpty();
        }
    }

    private static void assertNamesTheLimit(RawHttp.Reply reply, String property, String env) {
        assertThat(reply.status()).as(reply.text()).isEqualTo(413);
        assertThat(reply.header("Content-Type")).isEqualTo("application/problem+json");
        assertThat(reply.json().get("type").asString()).endsWith("/upload-too-large");
        assertThat(reply.json().get("detail").asString()).contains(property).contains(env);
    }

    @Test
    void anUploadThatSaysItIsTooLargeIsRefusedBeforeItIsRead() throws IOException {
        RawHttp.Reply reply = http.send("POST", "/datasets?name=big.csv", "text/csv",
                HttpRequest.BodyPublishers.fromPublisher(
                        HttpRequest.BodyPublishers.ofInputStream(RawHttp.generated(MIB + 1, 1)), MIB + 1));
        assertNamesTheLimit(reply, "boss.datasets.max-upload-bytes", "BOSS_DATASETS_MAX_UPLOAD_BYTES");
        assertThat(reply.json().get("detail").asString()).contains("1.0 MiB (1048576 bytes)");
        assertNothingStored();
    }

    /** A Worker asks before sending a large artifact: a refusal from the headers comes before any body byte. */
    @Test
    void anUploadThatAsksBeforeSendingIsRefusedWithoutBeingToldToSend() throws IOException {
        try (java.net.Socket socket = new java.net.Socket("127.0.0.1", port)) {
            socket.setSoTimeout(10_000);
            socket.getOutputStream().write(("POST /blobs?sha256=" + "ab".repeat(32) + " HTTP/1.1\r\nHost: localhost\r\n"
                    + "Content-Type: application/octet-stream\r\nContent-Length: " + (2L * MIB) + "\r\n"
                    + "Expect: 100-continue\r\n\r\n").getBytes(java.nio.charset.StandardCharsets.US_ASCII));
            socket.getOutputStream().flush();
            String head = new String(socket.getInputStream().readNBytes(12), java.nio.charset.StandardCharsets.US_ASCII);
            assertThat(head).as("the first answer to the headers").isEqualTo("HTTP/1.1 413");
        }
        assertNothingStored();
    }

    @Test
    void anUploadThatTurnsOutTooLargeIsRefusedOnTheWay() throws IOException {
        // Chunked: no Content-Length, so the bytes are counted as they stream.
        RawHttp.Reply reply = http.send("POST", "/datasets?name=big.bin", "application/octet-stream",
                HttpRequest.BodyPublishers.ofInputStream(RawHttp.generated(MIB + 1, 2)));
        assertNamesTheLimit(reply, "boss.datasets.max-upload-bytes", "BOSS_DATASETS_MAX_UPLOAD_BYTES");
        assertNothingStored();
    }

    @Test
    void aMultipartFileTooLargeIsRefused() throws IOException {
        String boundary = "lim1t";
        byte[] body = RawHttp.multipart(boundary, "big.bin", new byte[MIB + 1]);
        RawHttp.Reply reply = http.post("/datasets", "multipart/form-data; boundary=" + boundary, body);
        assertNamesTheLimit(reply, "boss.datasets.max-upload-bytes", "BOSS_DATASETS_MAX_UPLOAD_BYTES");
        assertNothingStored();
    }

    @Test
    void exactlyTheLimitIsAllowed() {
        RawHttp.Reply reply = http.send("POST", "/datasets?name=edge.bin", "application/octet-stream",
                HttpRequest.BodyPublishers.ofInputStream(RawHttp.generated(MIB, 3)));
        assertThat(reply.status()).as(reply.text()).isEqualTo(201);
        assertThat(reply.json().get("size").asLong()).isEqualTo(MIB);
    }

    @Test
    void theQuotaCountsEveryStoredBlobAndNamesItsSetting() throws IOException {
        int part = 700 * 1024;
        for (int i = 0; i < 2; i++) {
            RawHttp.Reply stored = http.send("POST", "/datasets?name=fill" + i + ".bin", "application/octet-stream",
                    HttpRequest.BodyPublishers.ofInputStream(RawHttp.generated(part, 10 + i)));
            assertThat(stored.status()).as(stored.text()).isEqualTo(201);
        }
        // 1.4 MiB of 2 MiB stored: 600 KiB left, less than the per-upload limit, so the quota is what refuses.
        RawHttp.Reply streamed = http.send("POST", "/datasets?name=over.bin", "application/octet-stream",
                HttpRequest.BodyPublishers.ofInputStream(RawHttp.generated(part, 12)));
        assertNamesTheLimit(streamed, "boss.datasets.quota-bytes", "BOSS_DATASETS_QUOTA_BYTES");
        assertThat(streamed.json().get("detail").asString()).contains("1.4 MiB").contains("stored")
                .contains("artifacts");
        assertNoTemporaryFiles();
        assertThat(blobs.totalBytes()).isEqualTo(2L * part);
        RawHttp.Reply declared = http.post("/blobs?sha256=" + RawHttp.sha256(new byte[part]), "application/octet-stream",
                new byte[part]);
        assertNamesTheLimit(declared, "boss.datasets.quota-bytes", "BOSS_DATASETS_QUOTA_BYTES");
        // Bytes already stored take nothing more: a Worker sending them again is answered as usual.
        byte[] small = "a,b\n1,2\n".getBytes(java.nio.charset.StandardCharsets.UTF_8);
        assertThat(http.post("/datasets?name=small.csv", "text/csv", small).status()).isEqualTo(201);
        assertThat(http.post("/blobs?sha256=" + RawHttp.sha256(small), "application/octet-stream", small).status())
                .isEqualTo(200);
    }

    @Test
    void aBlobUploadOverTheLimitIsRefused() throws IOException {
        RawHttp.Reply reply = http.send("POST", "/blobs?sha256=" + RawHttp.sha256(RawHttp.generated(MIB + 5, 4)),
                "application/octet-stream", HttpRequest.BodyPublishers.ofInputStream(RawHttp.generated(MIB + 5, 4)));
        assertNamesTheLimit(reply, "boss.datasets.max-upload-bytes", "BOSS_DATASETS_MAX_UPLOAD_BYTES");
        assertNothingStored();
    }

    @Test
    void bytesAlreadyStoredAreNotRefusedByTheQuota() {
        int part = 700 * 1024;
        for (int i = 0; i < 2; i++) {
            RawHttp.Reply stored = http.send("POST", "/datasets?name=q" + i + ".bin", "application/octet-stream",
                    HttpRequest.BodyPublishers.ofInputStream(RawHttp.generated(part, 40 + i)));
            assertThat(stored.status()).as(stored.text()).isEqualTo(201);
        }
        // 1.4 MiB of 2 MiB stored, less left than one more file: the same file again stores nothing new.
        RawHttp.Reply again = http.send("POST", "/datasets?name=q0.bin", "application/octet-stream",
                HttpRequest.BodyPublishers.ofInputStream(RawHttp.generated(part, 40)));
        assertThat(again.status()).as(again.text()).isEqualTo(200);
        RawHttp.Reply newName = http.send("POST", "/datasets?name=copy.bin", "application/octet-stream",
                HttpRequest.BodyPublishers.ofInputStream(RawHttp.generated(part, 41)));
        assertThat(newName.status()).as(newName.text()).isEqualTo(201);
        assertThat(blobs.totalBytes()).isEqualTo(2L * part);
    }
}
