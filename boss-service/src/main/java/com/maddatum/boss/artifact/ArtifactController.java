package com.maddatum.boss.artifact;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.maddatum.boss.blob.BlobResponses;
import com.maddatum.boss.blob.BlobStore;
import com.maddatum.boss.order.OrderQueries;
import com.maddatum.boss.web.ApiProblem;
import com.maddatum.boss.web.Ids;
import io.swagger.v3.oas.annotations.Operation;
import io.swagger.v3.oas.annotations.tags.Tag;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Collectors;
import org.springframework.http.ContentDisposition;
import org.springframework.http.HttpHeaders;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.RestController;

/** A job's artifacts: the list, and each file streamed from its blob. */
@RestController
@Tag(name = "jobs", description = "Submitting jobs and following them (people and the dashboard)")
class ArtifactController {

    private final ArtifactStore store;
    private final BlobStore blobs;
    private final OrderQueries orders;

    ArtifactController(ArtifactStore store, BlobStore blobs, OrderQueries orders) {
        this.store = store;
        this.blobs = blobs;
        this.orders = orders;
    }

    /** {@code href}: where to download it, while it is kept. */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    record ArtifactView(String name, long size, String sha256, String contentType, Instant createdAt, boolean pruned,
            Instant prunedAt, String prunedReason, String href) {}

    @JsonInclude(JsonInclude.Include.NON_NULL)
    record SkippedView(String name, Long size, String reason) {}

    record ArtifactList(String jobId, List<ArtifactView> artifacts, List<SkippedView> skipped) {}

    @Operation(summary = "The job's artifacts", description = "The files the job's script left in OUTPUT_DIR, by "
            + "name, with size, sha256, content type and whether retention pruned them (when and why); and the "
            + "files that did not come back, with the reason. Empty lists until the job's outcome is accepted.")
    @GetMapping("/jobs/{id}/artifacts")
    ArtifactList list(@PathVariable String id) {
        Ids.parse(id, "job");
        List<ArtifactRecord> records = store.ofJob(id);
        if (records.isEmpty() && orders.findByJobId(id).isEmpty()) {
            throw ApiProblem.notFound("job", id);
        }
        List<ArtifactView> stored = records.stream().filter(ArtifactRecord::stored)
                .map(a -> new ArtifactView(a.name(), a.size(), a.sha256(), a.contentType(), a.createdAt(), a.pruned(),
                        a.prunedAt(), a.prunedReason(), a.pruned() ? null : href(id, a.name())))
                .toList();
        List<SkippedView> skipped = records.stream().filter(a -> !a.stored())
                .map(a -> new SkippedView(a.name(), a.size(), a.skipped()))
                .toList();
        return new ArtifactList(id, stored, skipped);
    }

    @Operation(summary = "One artifact's bytes", description = "Streamed with Content-Length, a content type chosen "
            + "by the name's extension (png, jpg, gif, csv, tsv, txt, log, md, json, pdf; anything else "
            + "application/octet-stream) and Content-Disposition naming the file; Range requests are answered "
            + "206. 404 when the job has no artifact of that name, 410 when retention pruned it.")
    @GetMapping("/jobs/{id}/artifacts/{*name}")
    void download(@PathVariable String id, @PathVariable String name, HttpServletRequest request,
            HttpServletResponse response) throws IOException {
        Ids.parse(id, "job");
        String artifactName = name.startsWith("/") ? name.substring(1) : name;
        ArtifactRecord artifact = store.find(id, artifactName).filter(ArtifactRecord::stored)
                .orElseThrow(() -> ApiProblem.notFoundNamed("artifact", "name", "Job " + id + " has no artifact named '"
                        + ArtifactNames.printable(artifactName) + "'" + skippedWhy(id, artifactName) + "."));
        if (artifact.pruned()) {
            throw ApiProblem.gone("artifact", "name", "Artifact '" + artifact.name() + "' of job " + id
                    + " was pruned at " + artifact.prunedAt() + ": " + artifact.prunedReason() + ".");
        }
        // Not pruned yet its blob is gone: deleted by hand, or the store was replaced. Say so, not 500.
        BlobStore.Blob blob = blobs.find(artifact.sha256()).orElseThrow(() -> ApiProblem.gone("artifact", "name",
                "The bytes of artifact '" + artifact.name() + "' of job " + id + " (blob " + artifact.sha256()
                        + ") are no longer stored."));
        HttpHeaders headers = new HttpHeaders();
        headers.setContentDisposition(ContentDisposition.attachment()
                .filename(ArtifactNames.fileName(artifact.name()), StandardCharsets.UTF_8).build());
        // The type is the Boss's choice from the extension (BlobResponses also says nosniff).
        BlobResponses.send(blobs, blob, artifact.contentType(), headers, request, response);
    }

    private String skippedWhy(String jobId, String name) {
        return store.find(jobId, name).filter(a -> !a.stored()).map(a -> " (it was skipped: " + a.skipped() + ")")
                .orElse("");
    }

    /**
     * The download path of an artifact: each segment percent-encoded except for unreserved characters (RFC
     * 3986), so that no character of a name means something to a URL parser: a {@code ;} left as it is starts
     * path parameters, which the server strips, and the name would not be found.
     */
    static String href(String jobId, String name) {
        return "/jobs/" + jobId + "/artifacts/" + Arrays.stream(name.split("/"))
                .map(ArtifactController::encodeSegment).collect(Collectors.joining("/"));
    }

    private static String encodeSegment(String segment) {
        StringBuilder encoded = new StringBuilder(segment.length());
        for (byte b : segment.getBytes(StandardCharsets.UTF_8)) {
            char c = (char) (b & 0xff);
            if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || "-._~".indexOf(c) >= 0) {
                encoded.append(c);
            } else {
                encoded.append('%').append(HEX[c >> 4]).append(HEX[c & 0xf]);
            }
        }
        return encoded.toString();
    }

    private static final char[] HEX = "0123456789ABCDEF".toCharArray();
}
