package com.maddatum.worker.artifact;

import static org.assertj.core.api.Assertions.assertThat;

import com.maddatum.worker.client.BossBlobs;
import com.maddatum.worker.support.TestSettings;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ReviewStallTest {
    @TempDir
    Path root;

    /** A Boss that takes the connection and then reads nothing (its store is stuck): the upload should give up. */
    @Test
    void anUploadToABossThatStopsReadingEndsWithinTheStallTimeout() throws Exception {
        try (ServerSocket listener = new ServerSocket(0, 50)) {
            listener.setReceiveBufferSize(4096);
            Thread t = new Thread(() -> {
                try {
                    Socket s = listener.accept(); // accepted, never read
                    Thread.sleep(60_000);
                    s.close();
                } catch (Exception e) {
                }
            });
            t.setDaemon(true);
            t.start();
            BossBlobs boss = new BossBlobs("http://127.0.0.1:" + listener.getLocalPort(), Optional.empty(),
                    Duration.ofSeconds(1), Duration.ofSeconds(1), Duration.ofSeconds(1), TestSettings.JSON);
            Path f = Files.write(root.resolve("big"), new byte[64 << 20]);
            CompletableFuture<BossBlobs.Upload> up = CompletableFuture.supplyAsync(() -> {
                try {
                    return boss.upload("a".repeat(64), f, 64 << 20);
                } catch (InterruptedException e) {
                    throw new RuntimeException(e);
                }
            });
            BossBlobs.Upload result = null;
            try {
                result = up.get(10, TimeUnit.SECONDS);
            } catch (java.util.concurrent.TimeoutException e) {
                // still blocked in a socket write after 10 x the 1 s stall timeout
            }
            assertThat(result).as("upload ended within 10 s with a 1 s stall timeout").isNotNull();
        }
    }
}
