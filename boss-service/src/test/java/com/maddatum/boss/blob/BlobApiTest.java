package com.maddatum.boss.blob;

import static org.assertj.core.api.Assertions.assertThat;

import com.maddatum.boss.support.BossApiTestBase;
import com.maddatum.boss.support.RawHttp;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;
import org.springframework.beans.factory.annotation.Autowired;

/** {@code GET /blobs/{sha256}} and {@code POST /blobs?sha256=} as a Worker uses them, over real HTTP. */
class BlobApiTest extends BossApiTestBase {

    @Autowired
    BlobStore store;

    private RawHttp http;

    @BeforeEach
    void client() {
        http = new RawHttp(port);
    }

    private static byte[] bytes(int size, long seed) {
        return BlobStoreContract.bytes(size, seed);
    }

    @Test
    void anUploadIsStoredOnceUnderItsHash() {
        byte[] data = bytes(HashingCopy.CHUNK + 123, 100);
        String sha = RawHttp.sha256(data);
        RawHttp.Reply first = http.post("/blobs?sha256=" + sha, "application/octet-stream", data);
        assertThat(first.status()).as(first.text()).isEqualTo(201);
        assertThat(first.json().get("sha256").asString()).isEqualTo(sha);
        assertThat(first.json().get("size").asLong()).isEqualTo(data.length);
        assertThat(first.header("Location")).isEqualTo("/blobs/" + sha);
        RawHttp.Reply again = http.post("/blobs?sha256=" + sha.toUpperCase(), "application/octet-stream", data);
        assertThat(again.status()).isEqualTo(200);
        assertThat(again.json().get("sha256").asString()).isEqualTo(sha);
        assertThat(store.find(sha)).isPresent();
    }

    @Test
    void bytesAlreadyStoredAreCheckedAndDroppedNotWrittenAgain() throws Exception {
        byte[] data = bytes(HashingCopy.CHUNK + 5, 105);
        String sha = RawHttp.sha256(data);
        assertThat(http.post("/blobs?sha256=" + sha, "application/octet-stream", data).status()).isEqualTo(201);
        java.nio.file.Path file = java.nio.file.Path.of(dataDir, "blobs", sha);
        Object stored = fileKey(file);
        clock.advance(java.time.Duration.ofHours(2));
        java.time.Instant sent = clock.instant();
        String response;
        try (java.net.Socket socket = new java.net.Socket("127.0.0.1", port)) {
            socket.setSoTimeout(30_000);
            var out = socket.getOutputStream();
            out.write(("POST /blobs?sha256=" + sha + " HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: "
                    + "application/octet-stream\r\nContent-Length: " + data.length + "\r\nConnection: close\r\n\r\n")
                    .getBytes(StandardCharsets.US_ASCII));
            int half = data.length / 2;
            out.write(data, 0, half);
            out.flush();
            // The blob is made young before the body is read; while the body streams, nothing is spooled.
            java.time.Instant deadline = java.time.Instant.now().plusSeconds(10);
            while (store.find(sha).orElseThrow().storedAt().isBefore(sent)) {
                assertThat(java.time.Instant.now()).as("the blob was touched as the upload began").isBefore(deadline);
                Thread.onSpinWait();
            }
            try (var temporary = java.nio.file.Files.list(java.nio.file.Path.of(dataDir, "blobs", "tmp"))) {
                assertThat(temporary).as("no temporary copy of bytes already stored").isEmpty();
            }
            out.write(data, half, data.length - half);
            out.flush();
            response = new String(socket.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        }
        assertThat(response).startsWith("HTTP/1.1 200").contains("\"size\":" + data.length);
        assertThat(fileKey(file)).as("the stored file, not a new copy").isEqualTo(stored);

        // Checked all the same: other bytes under that hash are refused, and the blob stays as it was.
        byte[] other = bytes(data.length, 106);
        RawHttp.Reply forged = http.post("/blobs?sha256=" + sha, "application/octet-stream", other);
        assertThat(forged.status()).isEqualTo(400);
        assertThat(forged.json().get("detail").asString()).contains(RawHttp.sha256(other));
        assertThat(http.get("/blobs/" + sha).body()).isEqualTo(data);
    }

    private static Object fileKey(java.nio.file.Path file) throws java.io.IOException {
        return java.nio.file.Files.readAttributes(file, java.nio.file.attribute.BasicFileAttributes.class).fileKey();
    }

    @Test
    void bytesThatHashOtherwiseAreRefusedAndNotStored() {
        byte[] data = bytes(5000, 101);
        String claimed = RawHttp.sha256("something else".getBytes(StandardCharsets.UTF_8));
        RawHttp.Reply reply = http.post("/blobs?sha256=" + claimed, "application/octet-stream", data);
        assertThat(reply.status()).isEqualTo(400);
        assertThat(reply.json().get("field").asString()).isEqualTo("sha256");
        assertThat(reply.json().get("detail").asString()).contains(RawHttp.sha256(data)).contains(claimed);
        assertThat(store.find(claimed)).isEmpty();
        assertThat(store.find(RawHttp.sha256(data))).isEmpty();
    }

    @Test
    void theHashIsRequiredAndMustBeHex() {
        for (String query : new String[] {"", "?sha256=", "?sha256=abc", "?sha256=" + "g".repeat(64)}) {
            RawHttp.Reply reply = http.post("/blobs" + query, "application/octet-stream", new byte[] {1});
            assertThat(reply.status()).as(query).isEqualTo(400);
            assertThat(reply.json().get("field").asString()).isEqualTo("sha256");
        }
    }

    @Test
    void aBlobIsReadWholeOrFromAnOffset() {
        byte[] data = bytes(HashingCopy.CHUNK * 2 + 10, 102);
        String sha = RawHttp.sha256(data);
        assertThat(http.post("/blobs?sha256=" + sha, "application/octet-stream", data).status()).isEqualTo(201);

        RawHttp.Reply whole = http.get("/blobs/" + sha);
        assertThat(whole.status()).isEqualTo(200);
        assertThat(whole.body()).isEqualTo(data);
        assertThat(whole.header("Content-Length")).isEqualTo(String.valueOf(data.length));
        assertThat(whole.header("Content-Type")).isEqualTo("application/octet-stream");
        assertThat(whole.header("ETag")).isEqualTo("\"" + sha + "\"");
        assertThat(whole.header("X-Content-Type-Options")).isEqualTo("nosniff");
        assertThat(whole.header("Content-Disposition")).isEqualTo("attachment; filename=\"" + sha + "\"");

        long from = HashingCopy.CHUNK + 7;
        RawHttp.Reply rest = http.get("/blobs/" + sha, "Range", "bytes=" + from + "-");
        assertThat(rest.status()).isEqualTo(206);
        assertThat(rest.header("Content-Range")).isEqualTo("bytes " + from + "-" + (data.length - 1) + "/" + data.length);
        assertThat(rest.header("Content-Length")).isEqualTo(String.valueOf(data.length - from));
        assertThat(rest.body()).isEqualTo(Arrays.copyOfRange(data, (int) from, data.length));

        RawHttp.Reply past = http.get("/blobs/" + sha, "Range", "bytes=" + data.length + "-");
        assertThat(past.status()).isEqualTo(416);
        assertThat(past.header("Content-Range")).isEqualTo("bytes */" + data.length);
        assertThat(past.json().get("type").asString()).endsWith("/range-not-satisfiable");

        // Forms a resumed download does not send are ignored, as HTTP allows: the whole blob.
        RawHttp.Reply ignored = http.get("/blobs/" + sha, "Range", "bytes=0-9,20-29");
        assertThat(ignored.status()).isEqualTo(200);
        assertThat(ignored.body()).hasSize(data.length);

        RawHttp.Reply head = http.send("HEAD", "/blobs/" + sha, null, null);
        assertThat(head.status()).isEqualTo(200);
        assertThat(head.header("Content-Length")).isEqualTo(String.valueOf(data.length));
        assertThat(head.body()).isEmpty();
    }

    /** A Worker's download cut short (its stall timeout, a restart) is routine: no ERROR, no 500 path. */
    @Test
    @ExtendWith(OutputCaptureExtension.class)
    void aDownloadTheClientAbandonsIsNotAnUnexpectedFailure(CapturedOutput output) throws Exception {
        byte[] big = bytes(48 << 20, 107); // far more than the sockets' buffers hold: the Boss is mid-write
        String sha = store.put(new java.io.ByteArrayInputStream(big), null, Long.MAX_VALUE, null).sha256();
        long before = downloadsAnswered();
        try (java.net.Socket socket = new java.net.Socket("127.0.0.1", port)) {
            var out = socket.getOutputStream();
            out.write(("GET /blobs/" + sha + " HTTP/1.1\r\nHost: x\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            out.flush();
            socket.getInputStream().readNBytes(4096);
            socket.setSoLinger(true, 0); // reset, as a killed Worker would
        }
        java.time.Instant deadline = java.time.Instant.now().plusSeconds(30);
        while (downloadsAnswered() == before) {
            assertThat(java.time.Instant.now()).as("the abandoned download ended").isBefore(deadline);
            Thread.onSpinWait();
        }
        assertThat(output.getAll()).doesNotContain("unexpected failure");
    }

    private long downloadsAnswered() {
        return meters.find("http.server.requests").tag("uri", "/blobs/{sha256}").timers().stream()
                .mapToLong(io.micrometer.core.instrument.Timer::count).sum();
    }

    @Autowired
    io.micrometer.core.instrument.MeterRegistry meters;

    @Test
    void anUnknownOrMalformedHashIs404() {
        for (String name : new String[] {RawHttp.sha256(new byte[] {42}), "nothex", "boss.mv"}) {
            RawHttp.Reply reply = http.get("/blobs/" + name);
            assertThat(reply.status()).as(name).isEqualTo(404);
            assertThat(reply.header("Content-Type")).isEqualTo("application/problem+json");
        }
    }

    @Test
    void anUploadLargerThanTheJsonBodyLimitIsNotCappedByIt() {
        // boss.limits.max-body-bytes (1 MiB) caps JSON bodies; uploads have their own limit.
        byte[] data = bytes(3 * 1024 * 1024, 103);
        RawHttp.Reply reply = http.post("/blobs?sha256=" + RawHttp.sha256(data), "application/octet-stream", data);
        assertThat(reply.status()).as(reply.text()).isEqualTo(201);
    }

    @Test
    void aBodyThatStopsShortStoresNothing() throws Exception {
        byte[] data = bytes(200_000, 104);
        String sha = RawHttp.sha256(data);
        String response;
        try (java.net.Socket socket = new java.net.Socket("127.0.0.1", port)) {
            socket.setSoTimeout(30_000);
            var out = socket.getOutputStream();
            out.write(("POST /blobs?sha256=" + sha + " HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: "
                    + "application/octet-stream\r\nContent-Length: " + data.length + "\r\n\r\n")
                    .getBytes(StandardCharsets.US_ASCII));
            out.write(data, 0, 50_000); // a quarter, then the client stops sending
            out.flush();
            socket.shutdownOutput();
            response = new String(socket.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        }
        // Tomcat marks a body that ended early as a 400 itself; what matters is that nothing was kept.
        assertThat(response).startsWith("HTTP/1.1 400");
        assertThat(store.find(sha)).isEmpty();
        try (var temporary = java.nio.file.Files.list(java.nio.file.Path.of(dataDir, "blobs", "tmp"))) {
            assertThat(temporary).isEmpty();
        }
    }

    @org.springframework.beans.factory.annotation.Value("${boss.store.data-dir}")
    String dataDir;
}
