package com.maddatum.boss.dataset;

import com.maddatum.boss.blob.BlobResponses;
import com.maddatum.boss.blob.BlobStore;
import com.maddatum.boss.blob.ClientBody;
import com.maddatum.boss.config.BossProperties;
import com.maddatum.boss.web.ApiProblem;
import com.maddatum.boss.web.Names;
import com.maddatum.boss.web.Paging;
import io.swagger.v3.oas.annotations.Operation;
import io.swagger.v3.oas.annotations.Parameter;
import io.swagger.v3.oas.annotations.media.Content;
import io.swagger.v3.oas.annotations.media.ExampleObject;
import io.swagger.v3.oas.annotations.media.Schema;
import io.swagger.v3.oas.annotations.responses.ApiResponse;
import io.swagger.v3.oas.annotations.tags.Tag;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.http.ContentDisposition;
import org.springframework.http.HttpHeaders;
import org.springframework.http.HttpStatus;
import org.springframework.http.MediaType;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.DeleteMapping;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.RestController;

/**
 * Datasets: files uploaded once to the Boss, versioned by content, that jobs name by {@code dataFileName}
 * and Workers fetch by hash. The bytes are blobs; this package keeps the names and versions.
 */
@RestController
@Tag(name = "datasets", description = "Upload data once; jobs name it, Workers fetch it")
class DatasetController {

    private static final Logger log = LoggerFactory.getLogger(DatasetController.class);

    private final DatasetUploads uploads;
    private final DatasetStore store;
    private final BlobStore blobs;
    private final DataInUse inUse;
    private final int maxPageSize;

    DatasetController(DatasetUploads uploads, DatasetStore store, BlobStore blobs, DataInUse inUse,
            BossProperties properties) {
        this.uploads = uploads;
        this.store = store;
        this.blobs = blobs;
        this.inUse = inUse;
        this.maxPageSize = properties.limits().maxPageSize();
    }

    /** A version as people see it; {@code columns} and {@code rows} for CSV files only. */
    record VersionView(String name, int version, String sha256, long size, Instant createdAt, List<String> columns,
            Long rows) {

        static VersionView of(DatasetVersion v) {
            return new VersionView(v.name(), v.version(), v.sha256(), v.size(), v.createdAt(), v.columns(), v.rows());
        }
    }

    record DatasetView(String name, VersionView latest, List<VersionView> versions) {}

    record DatasetSummary(String name, VersionView latest, int versionCount) {}

    record DatasetPage(int page, int size, long total, List<DatasetSummary> items) {}

    @Operation(summary = "Upload a dataset", description = "The file as the raw body (curl --data-binary @wine.csv) "
            + "or as the multipart field file (curl -F file=@wine.csv), streamed to storage while hashed. 201 with the "
            + "new version; 200 with the existing one when these bytes are a version of this name already. For CSV "
            + "(a .csv name, or content whose first lines look like it): the header's columns and the number of data "
            + "rows. 400 for a name with a path, an empty upload, or a .csv that is not text; 413 over "
            + "boss.datasets.max-upload-bytes or boss.datasets.quota-bytes.")
    @io.swagger.v3.oas.annotations.parameters.RequestBody(content = {
            @Content(mediaType = MediaType.APPLICATION_OCTET_STREAM_VALUE, schema = @Schema(type = "string",
                    format = "binary")),
            @Content(mediaType = MediaType.MULTIPART_FORM_DATA_VALUE, schema = @Schema(type = "object",
                    requiredProperties = "file", description = "field file: the file"))})
    @ApiResponse(responseCode = "201", description = "a new version", content = @Content(
            schema = @Schema(implementation = VersionView.class), examples = @ExampleObject(value = "{\"name\":"
                    + "\"wine.csv\",\"version\":1,\"sha256\":\"9f86...0a08\",\"size\":10932,\"createdAt\":"
                    + "\"2026-01-01T10:00:00Z\",\"columns\":[\"alcohol\",\"malic_acid\",\"proline\"],\"rows\":178}")))
    @PostMapping("/datasets")
    ResponseEntity<VersionView> upload(@Parameter(description = "the file name jobs use as dataFileName; with "
            + "multipart, defaults to the file's own name") @RequestParam(required = false) String name,
            HttpServletRequest request, HttpServletResponse response) throws IOException {
        DatasetUploads.Uploaded uploaded;
        try {
            uploaded = uploads.upload(name, request.getContentType(), request.getContentLengthLong(),
                    request.getInputStream());
        } catch (ApiProblem refused) {
            // Most of the body may be unread: do not make the connection wait to swallow it.
            response.setHeader(HttpHeaders.CONNECTION, "close");
            throw refused;
        } catch (ClientBody.Interrupted e) {
            log.info("dataset upload interrupted name={} reason={}", name, e.getMessage());
            throw ApiProblem.uploadInterrupted("body");
        }
        DatasetVersion version = uploaded.version();
        return ResponseEntity.status(uploaded.created() ? HttpStatus.CREATED : HttpStatus.OK)
                .location(URI.create("/datasets/" + version.name()))
                .body(VersionView.of(version));
    }

    @Operation(summary = "Datasets by name, each with its latest version")
    @GetMapping("/datasets")
    DatasetPage list(@RequestParam(defaultValue = "0") int page, @RequestParam(defaultValue = "50") int size) {
        Paging.checkPage(page, size, maxPageSize);
        List<String> names = store.names();
        long from = (long) page * size;
        List<DatasetSummary> items = names.stream().skip(from).limit(size).map(name -> {
            List<DatasetVersion> versions = store.versions(name);
            return versions.isEmpty() ? null : new DatasetSummary(name, VersionView.of(versions.get(0)), versions.size());
        }).filter(java.util.Objects::nonNull).toList();
        return new DatasetPage(page, size, names.size(), items);
    }

    @Operation(summary = "A dataset: its latest version and every version, newest first")
    @GetMapping("/datasets/{name}")
    DatasetView get(@PathVariable String name) {
        List<VersionView> versions = store.versions(name).stream().map(VersionView::of).toList();
        if (versions.isEmpty()) {
            throw ApiProblem.notFound("dataset", name);
        }
        return new DatasetView(name, versions.get(0), versions);
    }

    @Operation(summary = "A dataset's bytes", description = "The latest version, or ?version=N, or ?sha256=HEX "
            + "(one of them); streamed with Content-Length and the dataset's name as the file name. Range: bytes=N- "
            + "resumes.")
    @ApiResponse(responseCode = "200", description = "the bytes", content = @Content(
            mediaType = MediaType.APPLICATION_OCTET_STREAM_VALUE))
    @GetMapping("/datasets/{name}/content")
    void content(@PathVariable String name, @RequestParam(required = false) Integer version,
            @RequestParam(required = false) String sha256, HttpServletRequest request, HttpServletResponse response)
            throws IOException {
        DatasetVersion found = pick(name, version, sha256);
        BlobStore.Blob blob = blobs.find(found.sha256()).orElseThrow(() -> ApiProblem.notFound("blob of dataset",
                name + " version " + found.version()));
        HttpHeaders headers = new HttpHeaders();
        headers.setContentDisposition(ContentDisposition.attachment().filename(found.name(), StandardCharsets.UTF_8)
                .build());
        BlobResponses.send(blobs, blob, found.isCsv() ? "text/csv" : MediaType.APPLICATION_OCTET_STREAM_VALUE,
                headers, request, response);
    }

    private DatasetVersion pick(String name, Integer version, String sha256) {
        if (version != null && sha256 != null) {
            throw ApiProblem.invalidField("version", "Give version or sha256, not both.");
        }
        if (version != null) {
            return store.version(name, version).orElseThrow(() -> ApiProblem.notFound("dataset version",
                    name + " version " + version));
        }
        if (sha256 != null) {
            return store.bySha256(name, String.valueOf(Names.sha256(sha256))).orElseThrow(() -> ApiProblem.notFound(
                    "dataset version", name + " sha256 " + sha256));
        }
        return store.latest(name).orElseThrow(() -> ApiProblem.notFound("dataset", name));
    }

    @Operation(summary = "Delete a version of a dataset", description = "409 while a waiting or running job's data "
            + "is this version (its dataFileName is this name and its dataSha256 these bytes, or it pinned these "
            + "bytes by dataSha256 alone). The bytes stay stored until nothing refers to them (another name, a "
            + "finished job's re-run) and the blob collector removes them.")
    @DeleteMapping("/datasets/{name}")
    DeletedView delete(@PathVariable String name, @RequestParam(required = false) Integer version) {
        if (version == null) {
            throw ApiProblem.invalidField("version", "version is required: DELETE /datasets/" + name + "?version=N "
                    + "deletes one version.");
        }
        DatasetVersion found = store.version(name, version).orElseThrow(() -> ApiProblem.notFound("dataset version",
                name + " version " + version));
        inUse.liveJobUsing(name, found.sha256()).ifPresent(use -> {
            throw ApiProblem.inUse("Version " + version + " of " + name + " is the data of " + use.user()
                    + (use.byName() ? "" : ", which pinned its bytes by dataSha256 " + found.sha256() + " alone")
                    + ", which is waiting or running; cancel it or let it finish, then delete the version.", "version");
        });
        if (!store.delete(name, version)) {
            throw ApiProblem.notFound("dataset version", name + " version " + version);
        }
        log.info("dataset version deleted name={} version={} sha256={}", name, version, found.sha256());
        return new DeletedView(name, version, found.sha256());
    }

    record DeletedView(String name, int version, String sha256) {}
}
