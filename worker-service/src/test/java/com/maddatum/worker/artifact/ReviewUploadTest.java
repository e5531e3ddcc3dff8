package com.maddatum.worker.artifact;

import static org.assertj.core.api.Assertions.assertThat;

import com.maddatum.worker.client.BossBlobs;
import com.maddatum.worker.support.TestSettings;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;
import mockwebserver3.MockResponse;
import mockwebserver3.MockWebServer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ReviewUploadTest {

    @TempDir
    Path root;

    /** A Boss that answers 413 on reading the headers and closes (as BlobController does over its quota). */
    @Test
    void anEarly413IsSeenAsARefusalNotAsABossThatIsDown() throws Exception {
        AtomicInteger requests = new AtomicInteger();
        try (ServerSocket listener = new ServerSocket(0)) {
            Thread serverThread = new Thread(() -> {
                while (!listener.isClosed()) {
                    try (Socket socket = listener.accept()) {
                        requests.incrementAndGet();
                        InputStream in = socket.getInputStream();
                        // read the request headers only
                        StringBuilder head = new StringBuilder();
                        while (!head.toString().endsWith("\r\n\r\n")) {
                            int c = in.read();
                            if (c < 0) break;
                            head.append((char) c);
                        }
                        String body = "{\"status\":413,\"detail\":\"over boss.datasets.quota-bytes\"}";
                        OutputStream out = socket.getOutputStream();
                        out.write(("HTTP/1.1 413 Content Too Large\r\nContent-Type: application/problem+json\r\n"
                                + "Connection: close\r\nContent-Length: " + body.length() + "\r\n\r\n" + body)
                                .getBytes(StandardCharsets.US_ASCII));
                        out.flush();
                        socket.shutdownOutput();
                    } catch (Exception e) {
                        // next
                    }
                }
            });
            serverThread.setDaemon(true);
            serverThread.start();
            BossBlobs boss = new BossBlobs("http://127.0.0.1:" + listener.getLocalPort(), Optional.empty(),
                    Duration.ofSeconds(2), Duration.ofSeconds(2), Duration.ofSeconds(2), TestSettings.JSON);
            Path run = Files.createDirectories(root.resolve("run"));
            Files.write(run.resolve("model.pt"), new byte[64 << 20]); // 64 MiB: far more than socket buffers
            Files.write(run.resolve("z-plot.png"), new byte[(64 << 20) + 1]);
            ArtifactUploader uploader = new ArtifactUploader(boss, 1L << 30, 100, 3, Duration.ofMillis(1),
                    new SimpleMeterRegistry());

            ArtifactUploader.Report report = uploader.upload(run);

            System.out.println("REPORT " + report);
            System.out.println("REQUESTS " + requests.get());
            Map<String, Object> model = report.skipped().get(0);
            assertThat((String) model.get("reason")).contains("413");
            assertThat(requests.get()).as("a 413 is not tried again").isEqualTo(2);
        }
    }

    /** A file that changes between its hash and its upload (a process of the run still writing). */
    @Test
    void aFileThatGrowsAfterItsHashIsNotBlamedOnTheBossNorStopsTheOtherFiles() throws Exception {
        MockWebServer server = new MockWebServer();
        server.start(0);
        try {
            Path run = Files.createDirectories(root.resolve("run"));
            Path log = Files.write(run.resolve("a-train.log"), new byte[100]);
            Files.write(run.resolve("b-model-notes.txt"), new byte[200]);
            BossBlobs boss = new BossBlobs(server.url("/").toString(), Optional.empty(), Duration.ofSeconds(2),
                    Duration.ofSeconds(2), Duration.ofSeconds(2), TestSettings.JSON) {
                @Override
                public Upload upload(String sha256, Path file, long size) throws InterruptedException {
                    if (file.equals(log)) {
                        try {
                            Files.write(log, new byte[1 << 20], StandardOpenOption.APPEND); // still being written
                        } catch (java.io.IOException e) {
                            throw new RuntimeException(e);
                        }
                    }
                    return super.upload(sha256, file, size);
                }
            };
            for (int i = 0; i < 10; i++) {
                server.enqueue(new MockResponse.Builder().code(201).body("{}").build());
            }
            ArtifactUploader uploader = new ArtifactUploader(boss, 1L << 30, 100, 3, Duration.ofMillis(1),
                    new SimpleMeterRegistry());

            ArtifactUploader.Report report = uploader.upload(run);
            System.out.println("REPORT2 " + report);
            List<Map<String, Object>> skipped = report.skipped();
            assertThat(report.artifacts()).extracting(a -> a.get("name")).contains("b-model-notes.txt");
        } finally {
            server.close();
        }
    }

    /** The cap is counted on the size seen at the scan; what is hashed and sent may be larger. */
    @Test
    void theCapIsCountedOnTheBytesSent() throws Exception {
        MockWebServer server = new MockWebServer();
        server.start(0);
        try {
            Path run = Files.createDirectories(root.resolve("run"));
            Path first = Files.write(run.resolve("a.txt"), new byte[10]);
            Path second = Files.write(run.resolve("b.txt"), new byte[20]);
            BossBlobs boss = new BossBlobs(server.url("/").toString(), Optional.empty(), Duration.ofSeconds(2),
                    Duration.ofSeconds(2), Duration.ofSeconds(2), TestSettings.JSON) {
                @Override
                public Upload upload(String sha256, Path file, long size) throws InterruptedException {
                    if (file.equals(first)) {
                        try {
                            Files.write(second, new byte[5000], StandardOpenOption.APPEND);
                        } catch (java.io.IOException e) {
                            throw new RuntimeException(e);
                        }
                    }
                    return super.upload(sha256, file, size);
                }
            };
            for (int i = 0; i < 4; i++) {
                server.enqueue(new MockResponse.Builder().code(201).body("{}").build());
            }
            ArtifactUploader uploader = new ArtifactUploader(boss, 100, 100, 3, Duration.ofMillis(1),
                    new SimpleMeterRegistry());
            ArtifactUploader.Report report = uploader.upload(run);
            System.out.println("REPORT3 " + report);
            long sent = report.artifacts().stream().mapToLong(a -> ((Number) a.get("size")).longValue()).sum();
            assertThat(sent).as("bytes uploaded under a 100-byte cap").isLessThanOrEqualTo(100);
        } finally {
            server.close();
        }
    }
}
