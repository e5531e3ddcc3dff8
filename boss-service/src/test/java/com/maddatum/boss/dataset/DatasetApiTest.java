package com.maddatum.boss.dataset;

import static org.assertj.core.api.Assertions.assertThat;

import com.maddatum.boss.blob.BlobStore;
import com.maddatum.boss.support.BossApiTestBase;
import com.maddatum.boss.support.RawHttp;
import com.maddatum.testsupport.HttpJson;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.StreamSupport;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.test.context.TestPropertySource;
import tools.jackson.databind.JsonNode;

/**
 * Datasets over real HTTP: uploads as curl sends them (raw with curl's form content type, and multipart),
 * versions, content, deletion, and what a job submitted with a dataset's name records.
 */
// A Boss of its own: these tests register Workers that say which data files they have, which changes what
// other tests may submit.
@TestPropertySource(properties = "boss.datasets.quota-bytes=40GB")
class DatasetApiTest extends BossApiTestBase {

    static final String WINE = "alcohol,malic_acid,proline\r\n14.23,1.71,1065\r\n13.2,1.78,1050\r\n13.16,2.36,1185";
    /** What {@code curl --data-binary} sends as Content-Type when told nothing else. */
    static final String CURL_DEFAULT = "application/x-www-form-urlencoded";

    @Autowired
    BlobStore blobs;

    private RawHttp http;

    @BeforeEach
    void client() {
        http = new RawHttp(port);
    }

    @AfterEach
    void forgetWorkers() {
        mongo.getCollection("workers").deleteMany(new org.bson.Document());
        clock.advance(Duration.ofSeconds(5)); // past the registry's one-second reading of what Workers advertise
    }

    private RawHttp.Reply upload(String name, String text) {
        return http.post("/datasets?name=" + name, CURL_DEFAULT, text.getBytes(StandardCharsets.UTF_8));
    }

    private JsonNode created(String name, String text) {
        RawHttp.Reply reply = upload(name, text);
        assertThat(reply.status()).as(reply.text()).isEqualTo(201);
        return reply.json();
    }

    private long blobCount() {
        return StreamSupport.stream(blobs.all().spliterator(), false).count();
    }

    @Test
    void aCsvUploadIsVersionOneWithItsColumnsAndRows() {
        RawHttp.Reply reply = upload("wine-a.csv", WINE);
        assertThat(reply.status()).as(reply.text()).isEqualTo(201);
        JsonNode version = reply.json();
        assertThat(version.get("name").asString()).isEqualTo("wine-a.csv");
        assertThat(version.get("version").asInt()).isEqualTo(1);
        assertThat(version.get("sha256").asString()).isEqualTo(RawHttp.sha256(WINE.getBytes(StandardCharsets.UTF_8)));
        assertThat(version.get("size").asLong()).isEqualTo(WINE.length());
        assertThat(version.get("createdAt").asString()).isNotBlank();
        assertThat(version.get("columns")).extracting(JsonNode::asString)
                .containsExactly("alcohol", "malic_acid", "proline");
        assertThat(version.get("rows").asLong()).isEqualTo(3);
        assertThat(reply.header("Location")).isEqualTo("/datasets/wine-a.csv");
        assertThat(blobs.find(version.get("sha256").asString())).isPresent();
    }

    @Test
    void theSameBytesAgainAreTheSameVersionAndOtherBytesTheNext() {
        JsonNode first = created("again.csv", WINE);
        RawHttp.Reply same = upload("again.csv", WINE);
        assertThat(same.status()).isEqualTo(200);
        assertThat(same.json().get("version").asInt()).isEqualTo(1);
        assertThat(same.json().get("sha256").asString()).isEqualTo(first.get("sha256").asString());
        JsonNode second = created("again.csv", WINE + "\r\n12.0,1.0,1000\r\n");
        assertThat(second.get("version").asInt()).isEqualTo(2);
        assertThat(second.get("rows").asLong()).isEqualTo(4);

        JsonNode dataset = boss.get("/datasets/again.csv").json();
        assertThat(dataset.get("name").asString()).isEqualTo("again.csv");
        assertThat(dataset.get("latest").get("version").asInt()).isEqualTo(2);
        assertThat(dataset.get("versions")).extracting(v -> v.get("version").asInt()).containsExactly(2, 1);
        // The same bytes under another name: another dataset, one blob.
        long before = blobCount();
        assertThat(created("copy.csv", WINE).get("version").asInt()).isEqualTo(1);
        assertThat(blobCount()).isEqualTo(before);
    }

    @Test
    void aMultipartUploadStreamsItsFileField() {
        byte[] file = WINE.getBytes(StandardCharsets.UTF_8);
        String boundary = "----curlb0undary7d2";
        RawHttp.Reply reply = http.post("/datasets", "multipart/form-data; boundary=" + boundary,
                RawHttp.multipart(boundary, "wine-m.csv", file));
        assertThat(reply.status()).as(reply.text()).isEqualTo(201);
        assertThat(reply.json().get("name").asString()).isEqualTo("wine-m.csv"); // the file's own name
        assertThat(reply.json().get("rows").asLong()).isEqualTo(3);
        assertThat(reply.json().get("sha256").asString()).isEqualTo(RawHttp.sha256(file));

        RawHttp.Reply named = http.post("/datasets?name=renamed.csv", "multipart/form-data; boundary=" + boundary,
                RawHttp.multipart(boundary, "wine-m.csv", file));
        assertThat(named.status()).isEqualTo(201);
        assertThat(named.json().get("name").asString()).isEqualTo("renamed.csv");
    }

    @Test
    void contentIsTheLatestOrTheVersionOrTheHashAsked() {
        String v2 = WINE + "\n1,2,3\n";
        JsonNode first = created("content.csv", WINE);
        created("content.csv", v2);

        RawHttp.Reply latest = http.get("/datasets/content.csv/content");
        assertThat(latest.status()).isEqualTo(200);
        assertThat(latest.text()).isEqualTo(v2);
        assertThat(latest.header("Content-Length")).isEqualTo(String.valueOf(v2.length()));
        assertThat(latest.header("Content-Type")).startsWith("text/csv");
        assertThat(latest.header("Content-Disposition")).contains("attachment").contains("filename=\"content.csv\"");

        assertThat(http.get("/datasets/content.csv/content?version=1").text()).isEqualTo(WINE);
        assertThat(http.get("/datasets/content.csv/content?sha256=" + first.get("sha256").asString()).text())
                .isEqualTo(WINE);
        RawHttp.Reply resumed = http.get("/datasets/content.csv/content?version=1", "Range", "bytes=10-");
        assertThat(resumed.status()).isEqualTo(206);
        assertThat(resumed.text()).isEqualTo(WINE.substring(10));

        assertThat(http.get("/datasets/content.csv/content?version=9").status()).isEqualTo(404);
        assertThat(http.get("/datasets/content.csv/content?sha256=" + "0".repeat(64)).status()).isEqualTo(404);
        assertThat(http.get("/datasets/nothing.csv/content").status()).isEqualTo(404);
        assertThat(http.get("/datasets/nothing.csv").status()).isEqualTo(404);
        RawHttp.Reply both = http.get("/datasets/content.csv/content?version=1&sha256=" + first.get("sha256").asString());
        assertThat(both.status()).isEqualTo(400);
        assertThat(http.get("/datasets/content.csv/content?version=x").json().get("field").asString())
                .isEqualTo("version");
    }

    @Test
    void theListingPagesDatasetsByName() {
        for (String name : List.of("list-c.csv", "list-a.csv", "list-b.csv")) {
            created(name, WINE + "\n" + name + "\n");
        }
        List<String> names = new ArrayList<>();
        long total = -1;
        for (int page = 0; ; page++) {
            JsonNode listing = boss.get("/datasets?size=2&page=" + page).json();
            assertThat(listing.get("size").asInt()).isEqualTo(2);
            total = listing.get("total").asLong();
            listing.get("items").forEach(item -> {
                names.add(item.get("name").asString());
                assertThat(item.get("latest").get("sha256").asString()).hasSize(64);
                assertThat(item.get("versionCount").asInt()).isPositive();
            });
            if (listing.get("items").size() < 2) {
                break;
            }
        }
        assertThat(names).hasSize((int) total).isSorted().contains("list-a.csv", "list-b.csv", "list-c.csv");
        assertThat(boss.get("/datasets?size=0").status()).isEqualTo(400);
        assertThat(boss.get("/datasets?page=-1").json().get("field").asString()).isEqualTo("page");
    }

    record BadUpload(String label, String query, String contentType, byte[] body, String field, String detail) {
        @Override
        public String toString() {
            return label;
        }
    }

    static List<BadUpload> badUploads() {
        byte[] wine = WINE.getBytes(StandardCharsets.UTF_8);
        String b = "b0und";
        byte[] binary = {'P', 'K', 3, 4, 0, 0, 1, 2, ',', '\n'};
        return List.of(
                new BadUpload("no name", "", CURL_DEFAULT, wine, "name", "name is required"),
                new BadUpload("a path", "?name=data%2Fwine.csv", CURL_DEFAULT, wine, "name", "no path"),
                new BadUpload("a parent", "?name=..%2Fwine.csv", CURL_DEFAULT, wine, "name", "no path"),
                new BadUpload("dots", "?name=wine..csv", CURL_DEFAULT, wine, "name", "'..'"),
                new BadUpload("a hidden file", "?name=.wine.csv", CURL_DEFAULT, wine, "name", "plain file name"),
                new BadUpload("empty", "?name=empty.csv", CURL_DEFAULT, new byte[0], "body", "empty"),
                new BadUpload("binary csv", "?name=zipped.csv", "application/octet-stream", binary, "body",
                        "'zipped.csv' is named .csv but is not text"),
                new BadUpload("binary csv in multipart", "?name=zipped.csv", "multipart/form-data; boundary=" + b,
                        RawHttp.multipart(b, "zipped.csv", binary), "file", "'zipped.csv' is named .csv"),
                new BadUpload("empty file part", "", "multipart/form-data; boundary=" + b,
                        RawHttp.multipart(b, "e.csv", new byte[0]), "file", "empty"),
                new BadUpload("no file field", "?name=x.csv", "multipart/form-data; boundary=" + b,
                        ("--" + b + "\r\nContent-Disposition: form-data; name=\"other\"\r\n\r\nx\r\n--" + b + "--\r\n")
                                .getBytes(StandardCharsets.UTF_8), "file", "no field named 'file'"),
                new BadUpload("a file name with a space", "", "multipart/form-data; boundary=" + b,
                        RawHttp.multipart(b, "my wine.csv", wine), "name", "the file's own name"),
                new BadUpload("multipart cut short", "?name=cut.csv", "multipart/form-data; boundary=" + b,
                        ("--" + b + "\r\nContent-Disposition: form-data; name=\"file\"\r\n\r\n" + WINE)
                                .getBytes(StandardCharsets.UTF_8), "body", "malformed"),
                new BadUpload("multipart without boundary", "?name=x.csv", "multipart/form-data", wine,
                        "Content-Type", "boundary"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("badUploads")
    void aBadUploadIsA400NamingWhatIsWrongAndStoresNothing(BadUpload bad) {
        long blobsBefore = blobCount();
        int datasetsBefore = boss.get("/datasets?size=100").json().get("total").asInt();
        RawHttp.Reply reply = http.post("/datasets" + bad.query(), bad.contentType(), bad.body());
        assertThat(reply.status()).as(reply.text()).isEqualTo(400);
        assertThat(reply.header("Content-Type")).isEqualTo("application/problem+json");
        assertThat(reply.json().get("field").asString()).isEqualTo(bad.field());
        assertThat(reply.json().get("detail").asString()).contains(bad.detail());
        assertThat(blobCount()).isEqualTo(blobsBefore);
        assertThat(boss.get("/datasets?size=100").json().get("total").asInt()).isEqualTo(datasetsBefore);
    }

    @Test
    void aVersionAQueuedJobUsesCannotBeDeletedAndItsBlobOutlivesIt() {
        JsonNode v1 = created("busy.csv", WINE);
        String sha = v1.get("sha256").asString();
        String jobId = submit(job("dataFileName", "busy.csv")).get("jobId").asString();

        RawHttp.Reply refused = http.send("DELETE", "/datasets/busy.csv?version=1", null, null);
        assertThat(refused.status()).isEqualTo(409);
        assertThat(refused.json().get("type").asString()).endsWith("/in-use");
        assertThat(refused.json().get("field").asString()).isEqualTo("version");
        assertThat(refused.json().get("detail").asString()).contains(jobId);
        assertThat(http.get("/datasets/busy.csv/content?version=1").status()).isEqualTo(200);

        // Claimed and running: still in use.
        claim("node-busy");
        assertThat(http.send("DELETE", "/datasets/busy.csv?version=1", null, null).status()).isEqualTo(409);

        boss.post("/jobs/" + jobId + "/cancel", "");
        RawHttp.Reply deleted = http.send("DELETE", "/datasets/busy.csv?version=1", null, null);
        assertThat(deleted.status()).as(deleted.text()).isEqualTo(200);
        assertThat(deleted.json().get("sha256").asString()).isEqualTo(sha);
        assertThat(http.get("/datasets/busy.csv").status()).isEqualTo(404);
        assertThat(http.send("DELETE", "/datasets/busy.csv?version=1", null, null).status()).isEqualTo(404);
        // The bytes stay for the collector, which knows what else refers to them.
        assertThat(http.get("/blobs/" + sha).status()).isEqualTo(200);
        // A number once given is never given again.
        assertThat(created("busy.csv", WINE + "\n").get("version").asInt()).isEqualTo(2);

        RawHttp.Reply noVersion = http.send("DELETE", "/datasets/busy.csv", null, null);
        assertThat(noVersion.status()).isEqualTo(400);
        assertThat(noVersion.json().get("field").asString()).isEqualTo("version");
    }

    @Test
    void aVersionIsInUseOnlyByJobsOfItsNameOrThatPinnedItsBytesAlone() {
        long unique = System.nanoTime();
        String wine = "wine-" + unique + ".csv";
        String copy = "copy-" + unique + ".csv";
        String bytes = WINE + "\n# shared " + unique + "\n";
        String sha = created(wine, bytes).get("sha256").asString();
        assertThat(created(copy, bytes).get("sha256").asString()).isEqualTo(sha);
        String copyJob = submit(job("dataFileName", copy)).get("jobId").asString();

        // The same bytes under another name: that job's data is copy.csv's version, not wine.csv's.
        RawHttp.Reply deleted = http.send("DELETE", "/datasets/" + wine + "?version=1", null, null);
        assertThat(deleted.status()).as(deleted.text()).isEqualTo(200);
        RawHttp.Reply refused = http.send("DELETE", "/datasets/" + copy + "?version=1", null, null);
        assertThat(refused.status()).isEqualTo(409);
        assertThat(refused.json().get("detail").asString()).contains(copyJob);
        boss.post("/jobs/" + copyJob + "/cancel", "");

        // A job that pinned the bytes alone depends on them whatever their name.
        String pinned = submit(job("dataSha256", sha)).get("jobId").asString();
        RawHttp.Reply pinnedRefusal = http.send("DELETE", "/datasets/" + copy + "?version=1", null, null);
        assertThat(pinnedRefusal.status()).isEqualTo(409);
        assertThat(pinnedRefusal.json().get("detail").asString()).contains(pinned).contains("dataSha256");
        boss.post("/jobs/" + pinned + "/cancel", "");
        assertThat(http.send("DELETE", "/datasets/" + copy + "?version=1", null, null).status()).isEqualTo(200);
    }

    @Test
    void aJobNamingADatasetRecordsItsLatestBytesAndARerunKeepsThem() {
        String v1 = created("train.csv", WINE).get("sha256").asString();
        String first = submit(job("dataFileName", "train.csv")).get("jobId").asString();
        assertThat(boss.get("/retrieve/job/" + first).json().get("dataSha256").asString()).isEqualTo(v1);

        String v2 = created("train.csv", WINE + "\n9,9,9\n").get("sha256").asString();
        String rerun = boss.post("/jobs/" + first + "/rerun", Map.of()).json().get("jobId").asString();
        assertThat(boss.get("/retrieve/job/" + rerun).json().get("dataSha256").asString()).isEqualTo(v1);
        String later = submit(job("dataFileName", "train.csv")).get("jobId").asString();
        assertThat(boss.get("/retrieve/job/" + later).json().get("dataSha256").asString()).isEqualTo(v2);
        // A rerun that names the data again gets what the name means now.
        String renamed = boss.post("/jobs/" + first + "/rerun", Map.of("dataFileName", "train.csv")).json()
                .get("jobId").asString();
        assertThat(boss.get("/retrieve/job/" + renamed).json().get("dataSha256").asString()).isEqualTo(v2);
    }

    @Test
    void aPinnedDataSha256MustNameStoredBytes() {
        String sha = created("pinned.csv", WINE).get("sha256").asString();
        created("pinned.csv", WINE + "\n");
        String pinned = submit(job("dataFileName", "pinned.csv", "dataSha256", sha.toUpperCase())).get("jobId")
                .asString();
        assertThat(boss.get("/retrieve/job/" + pinned).json().get("dataSha256").asString()).isEqualTo(sha);

        for (Object bad : new Object[] {"abc", 42, "z".repeat(64), "0".repeat(64)}) {
            HttpJson.Reply reply = boss.post("/job/create", job("dataSha256", bad));
            assertThat(reply.status()).as(String.valueOf(bad)).isEqualTo(400);
            assertThat(reply.json().get("field").asString()).isEqualTo("dataSha256");
        }
    }

    @Test
    void anUnknownDataFileIsRefusedOnlyWhenEveryWorkerSaysWhatItHas() {
        // No Worker yet: jobs may be submitted before any starts.
        assertThat(boss.post("/job/create", job("dataFileName", "nowhere.csv")).status()).isEqualTo(201);

        HttpJson.Reply registered = boss.post("/worker-node/create", Map.of("name", "data-a",
                "dataFiles", List.of("local.csv", "other.csv")));
        assertThat(registered.status()).as(registered.body()).isEqualTo(200);
        HttpJson.Reply refused = boss.post("/job/create", job("dataFileName", "nowhere.csv"));
        assertThat(refused.status()).isEqualTo(400);
        assertThat(refused.json().get("field").asString()).isEqualTo("dataFileName");
        assertThat(refused.json().get("detail").asString()).contains("nowhere.csv").contains("/datasets?name=");
        assertThat(boss.post("/job/create", job("dataFileName", "local.csv")).status()).isEqualTo(201);
        created("nowhere.csv", WINE);
        assertThat(boss.post("/job/create", job("dataFileName", "nowhere.csv")).status()).isEqualTo(201);

        // A Worker that says nothing about its files (the seed's) could have any.
        assertThat(boss.post("/worker-node/create", Map.of("name", "data-b")).status()).isEqualTo(200);
        assertThat(boss.post("/job/create", job("dataFileName", "elsewhere.csv")).status()).isEqualTo(201);
    }

    @Test
    void aWorkersDataFilesAreKeptWithItsRegistration() {
        HttpJson.Reply reply = boss.post("/worker-node/create", Map.of("name", "data-c",
                "dataFiles", List.of("b.csv", "a.csv")));
        assertThat(reply.status()).isEqualTo(200);
        assertThat(mongo.getCollection("workers").find(new org.bson.Document("_id", "data-c")).first()
                .getList("dataFiles", String.class)).containsExactly("a.csv", "b.csv");
        HttpJson.Reply tooMany = boss.post("/worker-node/create", Map.of("name", "data-c",
                "dataFiles", java.util.stream.IntStream.range(0, 1001).mapToObj(i -> "f" + i + ".csv").toList()));
        assertThat(tooMany.status()).isEqualTo(400);
        assertThat(tooMany.json().get("field").asString()).isEqualTo("dataFiles");
    }
}
