package com.maddatum.boss.blob;

import com.maddatum.boss.web.ApiProblem;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.springframework.http.HttpHeaders;
import org.springframework.http.HttpStatus;

/**
 * Sends a blob's bytes as a response body, straight from the store to the socket through one 1 MiB buffer.
 * Written on the request's own thread: an asynchronous body (a {@code StreamingResponseBody}) would be cut
 * off by the MVC async timeout, which a download of a few GiB can outlast.
 */
public final class BlobResponses {

    /** {@code bytes=N-}: the one form a resumed download sends. Other forms are ignored (RFC 9110 allows it). */
    private static final Pattern FROM_OFFSET = Pattern.compile("bytes=(\\d{1,18})-");

    private BlobResponses() {}

    /**
     * Answers 200 with the whole blob, or 206 from byte N for {@code Range: bytes=N-}, or 416 when N is at or
     * past the end. {@code contentType} and any other headers (a file name) are the caller's to set first.
     */
    public static void send(BlobStore store, BlobStore.Blob blob, String contentType, HttpServletRequest request,
            HttpServletResponse response) throws IOException {
        long size = blob.size();
        long offset = 0;
        Matcher range = request.getHeader(HttpHeaders.RANGE) == null ? null
                : FROM_OFFSET.matcher(request.getHeader(HttpHeaders.RANGE).trim());
        if (range != null && range.matches()) {
            offset = Long.parseLong(range.group(1));
            if (offset >= size) {
                response.setHeader(HttpHeaders.CONTENT_RANGE, "bytes */" + size);
                throw ApiProblem.rangeNotSatisfiable(size);
            }
            response.setStatus(HttpStatus.PARTIAL_CONTENT.value());
            response.setHeader(HttpHeaders.CONTENT_RANGE, "bytes " + offset + "-" + (size - 1) + "/" + size);
        }
        // Opened before anything is committed: a blob deleted meanwhile is still a clean 404.
        try (InputStream in = store.open(blob.sha256(), offset)) {
            response.setContentType(contentType);
            response.setContentLengthLong(size - offset);
            response.setHeader(HttpHeaders.ACCEPT_RANGES, "bytes");
            response.setHeader(HttpHeaders.ETAG, "\"" + blob.sha256() + "\"");
            if ("HEAD".equals(request.getMethod())) {
                return;
            }
            OutputStream out = response.getOutputStream();
            byte[] buffer = new byte[HashingCopy.CHUNK];
            int read;
            while ((read = in.read(buffer)) > 0) {
                out.write(buffer, 0, read);
            }
            out.flush();
        } catch (BlobStore.Missing deletedMeanwhile) {
            throw ApiProblem.notFound("blob", blob.sha256());
        }
    }
}
