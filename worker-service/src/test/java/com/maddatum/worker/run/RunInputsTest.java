package com.maddatum.worker.run;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.maddatum.worker.cache.BlobCache;
import com.maddatum.worker.client.BossBlobs;
import com.maddatum.worker.support.TestSettings;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import mockwebserver3.MockResponse;
import mockwebserver3.MockWebServer;
import okio.Buffer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A run's data and inputs: fetched through the cache, linked where the script looks, let go at the end. */
class RunInputsTest {

    private static final byte[] WINE = "alcohol,quality\n9.4,5\n9.8,6\n".getBytes(StandardCharsets.UTF_8);
    private static final byte[] MODEL = "a trained model".getBytes(StandardCharsets.UTF_8);

    @TempDir
    Path root;

    private MockWebServer server;
    private BlobCache cache;
    private RunInputs inputs;
    private final SimpleMeterRegistry meters = new SimpleMeterRegistry();
    private Path dataDir;

    @BeforeEach
    void start() throws Exception {
        server = new MockWebServer();
        server.start(0);
        BossBlobs boss = new BossBlobs(server.url("/").toString(), Optional.empty(), Duration.ofSeconds(2),
                Duration.ofSeconds(2), Duration.ofSeconds(2), TestSettings.JSON);
        cache = new BlobCache(root.resolve("cache"), 1 << 20, boss, meters, null);
        dataDir = Files.createDirectories(root.resolve("data"));
        inputs = new RunInputs(cache, dataDir, meters);
    }

    @AfterEach
    void stop() {
        cache.close();
        server.close();
    }

    static String sha256(byte[] bytes) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
    }

    static MockResponse blob(byte[] bytes) {
        return new MockResponse.Builder().code(200).body(new Buffer().write(bytes)).build();
    }

    private static Map<String, Object> job(Object... pairs) {
        Map<String, Object> job = new LinkedHashMap<>();
        job.put("_id", "job-1");
        for (int i = 0; i < pairs.length; i += 2) {
            job.put((String) pairs[i], pairs[i + 1]);
        }
        return job;
    }

    @Test
    void aDatasetJobGetsADataDirOfItsOwnWhoseFileIsALinkToTheCachedBlob() throws Exception {
        String sha = sha256(WINE);
        server.enqueue(blob(WINE));
        Files.writeString(dataDir.resolve("wine.csv"), "an older file of the same name on this Worker");

        RunInputs.Staged staged = inputs.stage(job("dataFileName", "wine.csv", "dataSha256", sha.toUpperCase()), "run-1",
                () -> false);

        Path runData = staged.files().dataDir();
        assertThat(runData).isNotEqualTo(dataDir).startsWith(root.resolve("cache").resolve("runs").resolve("run-1"));
        assertThat(staged.files().dataFile()).isEqualTo(runData.resolve("wine.csv"));
        assertThat(Files.isSymbolicLink(staged.files().dataFile())).isTrue();
        assertThat(Files.readAllBytes(staged.files().dataFile())).isEqualTo(WINE);
        assertThat(staged.files().dataFile().toRealPath()).isEqualTo(root.resolve("cache").resolve(sha).toRealPath());
        assertThat(staged.files().inputDir()).isNull();
        assertThat(staged.fetchSeconds()).isNotNull().isGreaterThanOrEqualTo(0.0);
        assertThat(meters.get("worker.fetch.duration").timer().count()).isEqualTo(1);

        staged.close();
        assertThat(runData).doesNotExist();
        assertThat(cache.contains(sha)).isTrue(); // kept for the next run, no longer held
    }

    @Test
    void aJobWithoutADatasetFindsItsFileInTheDataDirectoryAsDataFile() throws Exception {
        Files.writeString(dataDir.resolve("iris.csv"), "a,b\n");

        RunInputs.Staged present = inputs.stage(job("dataFileName", "iris.csv"), "run-1", () -> false);
        assertThat(present.files().dataFile()).isEqualTo(dataDir.resolve("iris.csv"));
        assertThat(present.files().dataDir()).isNull(); // DATA_DIR stays worker.data-dir
        assertThat(present.fetchSeconds()).isNull(); // nothing fetched, nothing to say

        RunInputs.Staged absent = inputs.stage(job("dataFileName", "missing.csv"), "run-2", () -> false);
        assertThat(absent.files().dataFile()).isNull();
        RunInputs.Staged unsafe = inputs.stage(job("dataFileName", "../data/iris.csv"), "run-3", () -> false);
        assertThat(unsafe.files().dataFile()).isNull();
        // ".." anywhere is not a plain name, as the Boss and jobcontract.py say, even where no path follows it.
        Files.writeString(dataDir.resolve("a..b.csv"), "a,b\n");
        RunInputs.Staged dots = inputs.stage(job("dataFileName", "a..b.csv"), "run-4", () -> false);
        assertThat(dots.files().dataFile()).isNull();
        assertThat(server.getRequestCount()).isZero();
    }

    @Test
    void inputsAreFetchedIntoAnInputDirUnderTheirNamesAndHeldUntilTheRunEnds() throws Exception {
        String model = sha256(MODEL);
        String wine = sha256(WINE);
        server.enqueue(blob(MODEL));
        server.enqueue(blob(WINE));

        RunInputs.Staged staged = inputs.stage(job("inputs", List.of(
                Map.of("name", "model.pt", "sha256", model, "size", MODEL.length),
                Map.of("name", "rows.csv", "sha256", wine))), "run-1", () -> false);

        Path inputDir = staged.files().inputDir();
        assertThat(inputDir).isNotNull();
        assertThat(Files.readAllBytes(inputDir.resolve("model.pt"))).isEqualTo(MODEL);
        assertThat(Files.readAllBytes(inputDir.resolve("rows.csv"))).isEqualTo(WINE);
        assertThat(staged.files().dataFile()).isNull();
        staged.close();
        staged.close();
        assertThat(inputDir).doesNotExist();
    }

    @Test
    void inputsThatAreNotPlainFileNamesOrHashesAreTheJobsFault() {
        assertNotStaged(job("inputs", List.of(Map.of("name", "../etc/passwd", "sha256", "a".repeat(64)))), 400,
                "InvalidInputs", "inputs[0].name");
        assertNotStaged(job("inputs", List.of(Map.of("name", "m.pt", "sha256", "a".repeat(64)),
                Map.of("name", "m.pt", "sha256", "b".repeat(64)))), 400, "InvalidInputs", "given twice");
        assertNotStaged(job("inputs", List.of(Map.of("name", "m.pt", "sha256", "xyz"))), 400, "InvalidInputs",
                "inputs[0].sha256");
        assertNotStaged(job("inputs", "model.pt"), 400, "InvalidInputs", "must be a list");
        assertNotStaged(job("dataSha256", "not-a-hash"), 400, "InvalidInputs", "dataSha256");
        assertThat(server.getRequestCount()).isZero();
    }

    @Test
    void aBlobTheBossDoesNotHaveOrWhoseBytesDoNotMatchIsTheJobsFaultNamingIt() throws Exception {
        String sha = sha256(WINE);
        server.enqueue(new MockResponse.Builder().code(404).build());
        assertNotStaged(job("dataFileName", "wine.csv", "dataSha256", sha), 404, "DataNotFound", "dataSha256 " + sha);

        server.enqueue(blob(MODEL)); // not the bytes the hash names
        RunInputs.NotStaged corrupt = assertNotStaged(job("inputs", List.of(Map.of("name", "model.pt", "sha256", sha))),
                422, "InputCorrupt", "input model.pt (sha256 " + sha + ")");
        assertThat(corrupt.fetchSeconds()).isNotNull();
        assertThat(root.resolve("cache").resolve("runs").resolve("run-1")).doesNotExist();
    }

    @Test
    void aBossThatIsDownIsHandedBackAsAJobThatCouldNotBeFetched() throws Exception {
        String model = sha256(MODEL);
        String wine = sha256(WINE);
        server.enqueue(blob(MODEL));
        server.enqueue(new MockResponse.Builder().code(502).build());

        RunInputs.NotStaged e = assertNotStaged(job("inputs", List.of(Map.of("name", "model.pt", "sha256", model),
                Map.of("name", "rows.csv", "sha256", wine))), 503, "JobNotFetched", "rows.csv");
        assertThat(e.fault()).isEqualTo(RunInputs.NotStaged.Fault.BOSS);
        try (BlobCache.Pin pin = cache.acquire(model, -1, () -> false)) {
            assertThat(pin.hit()).as("the first input stays cached for the next attempt").isTrue();
        }
    }

    @Test
    void aBlobLargerThanThisWorkersCacheIsTheMachinesRefusalSoThatAWorkerWithALargerOneCanRunIt() throws Exception {
        String big = "c".repeat(64);

        RunInputs.NotStaged e = assertNotStaged(job("inputs", List.of(Map.of("name", "model.pt", "sha256", big,
                "size", 2 << 20))), 507, "InputTooLarge", "worker.cache.max-bytes");

        // Not the job's fault (a 4xx would fail it for good): the machine's, which the Boss retries elsewhere.
        assertThat(e.fault()).isEqualTo(RunInputs.NotStaged.Fault.MACHINE);
        assertThat(e.getMessage()).contains("input model.pt").contains("WORKER_CACHE_MAX_BYTES");
        assertThat(server.getRequestCount()).isZero();
    }

    @Test
    void aWorkerWithoutACacheRefusesJobsThatNameBlobs() throws Exception {
        RunInputs none = new RunInputs(null, dataDir, null);
        RunInputs.NotStaged e = assertThrows(none, job("dataSha256", sha256(WINE)));
        assertThat(e.status()).isEqualTo(503);
        assertThat(none.stage(job("dataFileName", "x.csv"), "run-1", () -> false).files().dataFile()).isNull();
    }

    private RunInputs.NotStaged assertNotStaged(Map<String, Object> job, int status, String type, String naming) {
        RunInputs.NotStaged e = assertThrows(inputs, job);
        assertThat(e.status()).isEqualTo(status);
        assertThat(e.type()).isEqualTo(type);
        assertThat(e.getMessage()).contains(naming);
        return e;
    }

    private static RunInputs.NotStaged assertThrows(RunInputs inputs, Map<String, Object> job) {
        Throwable[] thrown = new Throwable[1];
        assertThatThrownBy(() -> inputs.stage(job, "run-1", () -> false)).isInstanceOf(RunInputs.NotStaged.class)
                .satisfies(e -> thrown[0] = e);
        return (RunInputs.NotStaged) thrown[0];
    }
}
