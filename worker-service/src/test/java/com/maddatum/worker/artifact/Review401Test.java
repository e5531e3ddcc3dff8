package com.maddatum.worker.artifact;

import static org.assertj.core.api.Assertions.assertThat;

import com.maddatum.worker.client.BossBlobs;
import com.maddatum.worker.support.TestSettings;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import mockwebserver3.MockResponse;
import mockwebserver3.MockWebServer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class Review401Test {
    @TempDir
    Path root;

    @Test
    void a401ToAStreamedUploadIsGiveUp() throws Exception {
        MockWebServer server = new MockWebServer();
        server.start(0);
        try {
            server.enqueue(new MockResponse.Builder().code(401).addHeader("WWW-Authenticate", "Bearer")
                    .addHeader("Content-Type", "application/problem+json").body("{\"detail\":\"bad token\"}").build());
            BossBlobs boss = new BossBlobs(server.url("/").toString(), Optional.of("x"), Duration.ofSeconds(2),
                    Duration.ofSeconds(2), Duration.ofSeconds(2), TestSettings.JSON);
            Path f = Files.write(root.resolve("f"), new byte[100]);
            BossBlobs.Upload up = boss.upload("a".repeat(64), f, 100);
            System.out.println("UPLOAD401 " + up);
            assertThat(up.stored()).isEqualTo(BossBlobs.Stored.GIVE_UP);
        } finally {
            server.close();
        }
    }
}
