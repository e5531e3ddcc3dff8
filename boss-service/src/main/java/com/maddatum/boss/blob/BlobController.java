package com.maddatum.boss.blob;

import com.maddatum.boss.web.ApiProblem;
import com.maddatum.boss.web.Names;
import io.swagger.v3.oas.annotations.Operation;
import io.swagger.v3.oas.annotations.Parameter;
import io.swagger.v3.oas.annotations.media.Content;
import io.swagger.v3.oas.annotations.media.Schema;
import io.swagger.v3.oas.annotations.responses.ApiResponse;
import io.swagger.v3.oas.annotations.tags.Tag;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.io.InputStream;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.http.ContentDisposition;
import org.springframework.http.HttpHeaders;
import org.springframework.http.HttpStatus;
import org.springframework.http.MediaType;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.RestController;

/**
 * Blobs by hash, for Workers: they fetch a job's data and inputs here and upload what a script made before
 * they report its outcome. An upload only stores bytes; what they are (an artifact of which job) is said by
 * whoever refers to them, so bytes uploaded for an outcome that is then refused are simply unreferenced.
 */
@RestController
@Tag(name = "blobs", description = "Bytes by SHA-256: what Workers fetch and upload")
class BlobController {

    private static final Logger log = LoggerFactory.getLogger(BlobController.class);

    private final BlobStore store;
    private final UploadLimits limits;

    BlobController(BlobStore store, UploadLimits limits) {
        this.store = store;
        this.limits = limits;
    }

    record Stored(String sha256, long size) {}

    @Operation(summary = "A blob's bytes", description = "200 application/octet-stream with Content-Length, as an "
            + "attachment, nosniff; with Range: bytes=N- a 206 from byte N (Content-Range bytes N-LAST/SIZE), to "
            + "resume a download (bytes=N-M and bytes=-N are answered too).")
    @ApiResponse(responseCode = "200", description = "the bytes", content = @Content(
            mediaType = MediaType.APPLICATION_OCTET_STREAM_VALUE))
    @ApiResponse(responseCode = "404", description = "no blob has this hash")
    @GetMapping("/blobs/{sha256}")
    void download(@PathVariable String sha256, HttpServletRequest request, HttpServletResponse response)
            throws IOException {
        BlobStore.Blob blob = Optional.ofNullable(Names.sha256(sha256)).flatMap(store::find)
                .orElseThrow(() -> ApiProblem.notFound("blob", sha256));
        // Bytes, not a page: a browser that follows a link here saves them rather than showing them.
        HttpHeaders headers = new HttpHeaders();
        headers.setContentDisposition(ContentDisposition.attachment().filename(blob.sha256()).build());
        BlobResponses.send(store, blob, MediaType.APPLICATION_OCTET_STREAM_VALUE, headers, request, response);
    }

    @Operation(summary = "Store bytes under their SHA-256", description = "The body is the raw bytes "
            + "(application/octet-stream), streamed to storage while hashed. 201 when stored; 200 when a blob with "
            + "this hash was stored already (the body is then only hashed, to check it, and dropped); 400 when the "
            + "bytes hash otherwise (nothing is stored); 413 over boss.datasets.max-upload-bytes, or when new "
            + "bytes would take what is stored (datasets and artifacts) past boss.datasets.quota-bytes; 507 when "
            + "the Boss's disk is full.")
    @io.swagger.v3.oas.annotations.parameters.RequestBody(content = @Content(
            mediaType = MediaType.APPLICATION_OCTET_STREAM_VALUE, schema = @Schema(type = "string", format = "binary")))
    @ApiResponse(responseCode = "201", description = "stored", content = @Content(
            schema = @Schema(implementation = Stored.class)))
    @PostMapping("/blobs")
    ResponseEntity<Stored> upload(@Parameter(description = "the SHA-256 of the body, 64 hex digits")
            @RequestParam(required = false) String sha256, HttpServletRequest request, HttpServletResponse response)
            throws IOException {
        String expected = checkHash(sha256);
        BlobStore.Blob blob;
        boolean existed;
        try (InputStream in = new ClientBody(request.getInputStream())) {
            limits.checkDeclared(request.getContentLengthLong(), "body");
            // Touched before the body is read, so the collector's grace covers the read.
            existed = store.touch(expected).isPresent();
            blob = existed ? checkedAgain(in, expected) : limits.store(in, expected, null, "body");
        } catch (ApiProblem refused) {
            response.setHeader("Connection", "close"); // do not read a body we will not keep
            throw refused;
        } catch (BlobStore.HashMismatch e) {
            throw ApiProblem.invalidField("sha256", "The body hashes to " + e.actual() + ", not to the sha256 "
                    + e.expected() + " the request named; nothing was stored.");
        } catch (ClientBody.Interrupted e) {
            log.info("blob upload interrupted sha256={} reason={}", expected, e.getMessage());
            throw ApiProblem.uploadInterrupted("body");
        }
        log.info("blob stored sha256={} size={} new={}", blob.sha256(), blob.size(), !existed);
        return ResponseEntity.status(existed ? HttpStatus.OK : HttpStatus.CREATED)
                .location(java.net.URI.create("/blobs/" + blob.sha256()))
                .body(new Stored(blob.sha256(), blob.size()));
    }

    /**
     * Bytes the Boss has already: hashed to check them, and dropped, rather than written again to be thrown
     * away. The blob is touched once more at the end: a collector that deleted it all the same (the upload
     * outlasted the grace) is answered with a 503, which a Worker meets by sending the bytes again.
     */
    private BlobStore.Blob checkedAgain(InputStream in, String expected) throws IOException {
        try {
            HashingCopy.checkExpected(expected, HashingCopy.copy(in, limits.maxUpload(), null, HashingCopy.DISCARD)
                    .sha256());
        } catch (BlobStore.TooLarge e) {
            throw limits.tooLarge("body");
        }
        return store.touch(expected).orElseThrow(() -> ApiProblem.sendAgain("Blob " + expected + " was deleted while "
                + "its bytes were being checked; nothing was stored. Send them again.", "sha256"));
    }

    private static String checkHash(String sha256) {
        String hash = Names.sha256(sha256);
        if (hash == null) {
            throw ApiProblem.invalidField("sha256", "sha256 is required: the SHA-256 of the body, 64 hex digits.");
        }
        return hash;
    }
}
