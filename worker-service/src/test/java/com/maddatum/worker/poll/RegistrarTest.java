package com.maddatum.worker.poll;

import static org.assertj.core.api.Assertions.assertThat;

import com.maddatum.worker.client.BossClient;
import com.maddatum.worker.config.WorkerSettings;
import com.maddatum.worker.gpu.GpuHealth;
import com.maddatum.worker.gpu.GpuRoster;
import com.maddatum.worker.runner.ProcessRunner;
import com.maddatum.worker.support.FakeCommand;
import java.time.Clock;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import com.maddatum.testsupport.MutableClock;
import com.maddatum.worker.support.TestSettings;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import mockwebserver3.MockResponse;
import mockwebserver3.MockWebServer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.JsonNode;

class RegistrarTest {

    @TempDir
    Path root;

    @Test
    void aBossThatIsDownAtStartIsRetriedWithBackOffUntilItAnswers() throws Exception {
        try (MockWebServer server = new MockWebServer()) {
            server.start(0);
            server.enqueue(new MockResponse.Builder().code(503).build());
            server.enqueue(new MockResponse.Builder().code(502).build());
            server.enqueue(new MockResponse.Builder().code(200).body("{}").build());
            WorkerSettings settings = TestSettings.settings(server.url("/").toString(), TestSettings.fixtureScripts(),
                    root, null);
            MutableClock clock = MutableClock.stopped();
            Registrar registrar = new Registrar(new BossClient(settings, TestSettings.JSON), settings,
                    WorkerHarness.gpus(settings), clock);

            assertThat(registrar.ensureRegistered()).isFalse();       // fails: wait 1 s
            assertThat(registrar.ensureRegistered()).isFalse();       // backing off: no request
            assertThat(server.getRequestCount()).isEqualTo(1);
            clock.advance(Duration.ofSeconds(1));
            assertThat(registrar.ensureRegistered()).isFalse();       // fails again: wait 2 s
            clock.advance(Duration.ofSeconds(1));
            assertThat(registrar.ensureRegistered()).isFalse();
            assertThat(server.getRequestCount()).isEqualTo(2);
            clock.advance(Duration.ofSeconds(1));
            assertThat(registrar.ensureRegistered()).isTrue();
            assertThat(registrar.ensureRegistered()).isTrue();
            assertThat(server.getRequestCount()).isEqualTo(3);

            server.takeRequest(1, TimeUnit.SECONDS);
            server.takeRequest(1, TimeUnit.SECONDS);
            JsonNode body = TestSettings.JSON.readTree(server.takeRequest(1, TimeUnit.SECONDS).getBody().utf8());
            assertThat(body.get("name").asString()).isEqualTo("test-node");
            assertThat(body.get("slots").asInt()).isEqualTo(1);
            assertThat(body.get("labels").toString()).contains("cpu").contains("test");
            assertThat(body.get("scripts").toString()).contains("ok.py").contains("reader.py");
        }
    }

    @Test
    void registersAgainOnlyWhenACheckChangedTheHealthyGpusAndUntilThenSaysItIsNotCurrent() throws Exception {
        try (MockWebServer server = new MockWebServer()) {
            server.start(0);
            FakeCommand smi = new FakeCommand(root, "nvidia-smi").recorded("mixed.csv", 0);
            WorkerSettings settings = TestSettings.gpuSettings(server.url("/").toString(), root, 0, smi.command(),
                    TestSettings.python());
            AtomicLong now = new AtomicLong();
            GpuRoster gpus = new GpuRoster(settings, new GpuHealth(new ProcessRunner(Clock.systemUTC()), smi.command(),
                    null, Map.of(), Duration.ofSeconds(10), TestSettings.JSON), now::get);
            MutableClock clock = MutableClock.stopped();
            Registrar registrar = new Registrar(new BossClient(settings, TestSettings.JSON), settings, gpus, clock);
            server.enqueue(new MockResponse.Builder().code(200).body("{}").build());
            assertThat(registrar.ensureRegistered()).isTrue();
            JsonNode first = TestSettings.JSON.readTree(server.takeRequest(1, TimeUnit.SECONDS).getBody().utf8());
            assertThat(first.get("gpus")).hasSize(2);
            assertThat(first.get("slots").asInt()).isEqualTo(2);

            now.set(1);
            assertThat(gpus.recheck("hand-back")).isFalse();
            assertThat(registrar.ensureRegistered()).isTrue();
            assertThat(server.getRequestCount()).isEqualTo(1);

            smi.answer("0, NVIDIA GeForce RTX 4090, 24564\n", 0);
            now.set(2);
            assertThat(gpus.recheck("hand-back")).isTrue();
            server.enqueue(new MockResponse.Builder().code(503).build());
            server.enqueue(new MockResponse.Builder().code(200).body("{}").build());
            assertThat(registrar.ensureRegistered()).isFalse(); // the Boss has the old GPUs: no claims on them
            server.takeRequest(1, TimeUnit.SECONDS);
            clock.advance(Duration.ofSeconds(1));
            assertThat(registrar.ensureRegistered()).isTrue();
            JsonNode again = TestSettings.JSON.readTree(server.takeRequest(1, TimeUnit.SECONDS).getBody().utf8());
            assertThat(again.get("gpus")).hasSize(1);
            assertThat(again.get("slots").asInt()).isEqualTo(1); // the slot of the lost GPU claims nothing
            assertThat(again.get("failedGpus").get(0).get("index").asInt()).isEqualTo(1);
            assertThat(again.get("failedGpus").get(0).get("model").asString()).isEqualTo("NVIDIA RTX A6000");
            assertThat(again.get("failedGpus").get(0).get("memoryMb").asLong()).isEqualTo(49140);
            assertThat(again.get("failedGpus").get(0).get("reason").asString()).isEqualTo("nvidia-smi no longer lists it");
            assertThat(again.get("cpuOnlyBecause").isNull()).isTrue();
        }
    }

    /**
     * The Boss lifts a node's own drain only for a new bootId (a restarted Worker): a re-registration after a
     * GPU check, in the same process, must send the same one.
     */
    @Test
    void everyRegistrationOfOneProcessSendsTheSameBootIdAndARestartSendsANewOne() throws Exception {
        try (MockWebServer server = new MockWebServer()) {
            server.start(0);
            for (int i = 0; i < 3; i++) {
                server.enqueue(new MockResponse.Builder().code(200).body("{}").build());
            }
            FakeCommand smi = new FakeCommand(root, "nvidia-smi").recorded("mixed.csv", 0);
            WorkerSettings settings = TestSettings.gpuSettings(server.url("/").toString(), root, 0, smi.command(),
                    TestSettings.python());
            GpuRoster gpus = new GpuRoster(settings, new GpuHealth(new ProcessRunner(Clock.systemUTC()), smi.command(),
                    null, Map.of(), Duration.ofSeconds(10), TestSettings.JSON), System::nanoTime);
            BossClient client = new BossClient(settings, TestSettings.JSON);
            Registrar registrar = new Registrar(client, settings, gpus, MutableClock.stopped());
            assertThat(registrar.ensureRegistered()).isTrue();
            smi.answer("0, NVIDIA GeForce RTX 4090, [N/A]\n1, NVIDIA RTX A6000, 49140\n", 0);
            assertThat(gpus.recheck("a CUDA error")).isTrue();
            assertThat(registrar.ensureRegistered()).isTrue(); // the same process, registering its new GPUs
            assertThat(new Registrar(client, settings, gpus, MutableClock.stopped()).ensureRegistered()).isTrue(); // a restart

            java.util.List<JsonNode> bodies = new java.util.ArrayList<>();
            for (int i = 0; i < 3; i++) {
                bodies.add(TestSettings.JSON.readTree(server.takeRequest(1, TimeUnit.SECONDS).getBody().utf8()));
            }
            assertThat(bodies.get(1).get("gpus")).hasSize(1);
            String bootId = bodies.get(0).get("bootId").asString();
            assertThat(java.util.UUID.fromString(bootId).toString()).isEqualTo(bootId);
            assertThat(bodies.get(1).get("bootId").asString()).isEqualTo(bootId);
            assertThat(bodies.get(2).get("bootId").asString()).isNotEqualTo(bootId);
        }
    }

    @Test
    void advertisesThePlainFileNamesOfItsDataDirectorySortedAndBoundedAndRegistersAgainWhenTheyChange() throws Exception {
        try (MockWebServer server = new MockWebServer()) {
            server.start(0);
            for (int i = 0; i < 4; i++) {
                server.enqueue(new MockResponse.Builder().code(200).body("{}").build());
            }
            WorkerSettings settings = TestSettings.settings(server.url("/").toString(), TestSettings.fixtureScripts(),
                    root, null);
            java.nio.file.Path data = java.nio.file.Files.createDirectories(settings.dataDir());
            for (String name : new String[] {"wine.csv", "iris.csv", ".hidden", "has space.csv"}) {
                java.nio.file.Files.writeString(data.resolve(name), "x");
            }
            java.nio.file.Files.createDirectories(data.resolve("folder.csv"));
            MutableClock clock = MutableClock.stopped();
            Registrar registrar = new Registrar(new BossClient(settings, TestSettings.JSON), settings,
                    WorkerHarness.gpus(settings), clock);

            assertThat(registrar.ensureRegistered()).isTrue();
            JsonNode body = TestSettings.JSON.readTree(server.takeRequest(1, TimeUnit.SECONDS).getBody().utf8());
            assertThat(body.get("dataFiles").toString()).isEqualTo("[\"iris.csv\",\"wine.csv\"]");

            java.nio.file.Files.writeString(data.resolve("adult.csv"), "x");
            clock.advance(Registrar.DATA_RECHECK.minusSeconds(1));
            assertThat(registrar.ensureRegistered()).isTrue();
            assertThat(server.getRequestCount()).as("not looked at again yet").isEqualTo(1);
            clock.advance(Duration.ofSeconds(1));
            assertThat(registrar.ensureRegistered()).isTrue();
            assertThat(server.getRequestCount()).isEqualTo(2);
            body = TestSettings.JSON.readTree(server.takeRequest(1, TimeUnit.SECONDS).getBody().utf8());
            assertThat(body.get("dataFiles").toString()).isEqualTo("[\"adult.csv\",\"iris.csv\",\"wine.csv\"]");
            clock.advance(Registrar.DATA_RECHECK);
            assertThat(registrar.ensureRegistered()).isTrue();
            assertThat(server.getRequestCount()).as("nothing changed: no registration").isEqualTo(2);

            for (int i = 0; i < com.maddatum.worker.client.Registration.MAX_DATA_FILES + 5; i++) {
                java.nio.file.Files.writeString(data.resolve(String.format("part-%04d.csv", i)), "");
            }
            assertThat(Registrar.dataFiles(data)).hasSize(com.maddatum.worker.client.Registration.MAX_DATA_FILES)
                    .startsWith("adult.csv", "iris.csv", "part-0000.csv");
            assertThat(Registrar.dataFiles(root.resolve("no-such-dir"))).isEmpty();
        }
    }
}
