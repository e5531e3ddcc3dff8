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
 * Sends a blob's bytes as a response body, straight from the store to the socket through one 1 MiB buffer:
 * the one way every route that serves stored bytes answers ({@code GET /blobs/{sha256}}, a dataset's content,
 * a job's artifact), Range requests included. Written on the request's own thread: an asynchronous body (a
 * {@code StreamingResponseBody}) would be cut off by the MVC async timeout, which a download of a few GiB can
 * outlast.
 */
public final class BlobResponses {

    /** One range: {@code bytes=N-}, {@code bytes=N-M} or {@code bytes=-N} (the last N bytes). */
    private static final Pattern SINGLE_RANGE = Pattern.compile("bytes=(\\d{0,18})-(\\d{0,18})");

    private BlobResponses() {}

    /** The bytes an answer sends: {@code first} to {@code last} inclusive; {@code partial} for a 206. */
    record Span(long first, long last, boolean partial) {

        long length() {
            return last - first + 1;
        }
    }

    /**
     * Answers 200 with the whole blob, or 206 with the one range asked for, or 416 when it starts at or past
     * the end. Other forms (several ranges, units other than bytes, an {@code If-Range} that no longer matches)
     * get the whole blob, as RFC 9110 allows. The blob is opened at the range's first byte (the store seeks)
     * before anything is set on the response, so a blob deleted meanwhile is a clean 404 with no
     * {@code Content-Range} or {@code headers} on it. {@code headers} (a file name) are set once it is open.
     * Every answer says {@code nosniff}: the bytes are whatever someone uploaded, and a browser must not take
     * them for a page of the Boss's.
     */
    public static void send(BlobStore store, BlobStore.Blob blob, String contentType, HttpHeaders headers,
            HttpServletRequest request, HttpServletResponse response) throws IOException {
        String etag = "\"" + blob.sha256() + "\"";
        Span span = span(request.getHeader(HttpHeaders.RANGE), request.getHeader(HttpHeaders.IF_RANGE), etag,
                blob.size(), response);
        InputStream opened;
        try {
            opened = store.open(blob.sha256(), span.first());
        } catch (BlobStore.Missing deletedMeanwhile) {
            throw ApiProblem.notFound("blob", blob.sha256());
        }
        try (InputStream in = opened) {
            if (span.partial()) {
                response.setStatus(HttpStatus.PARTIAL_CONTENT.value());
                response.setHeader(HttpHeaders.CONTENT_RANGE, "bytes " + span.first() + "-" + span.last() + "/"
                        + blob.size());
            }
            headers.forEach((name, values) -> values.forEach(value -> response.addHeader(name, value)));
            response.setContentType(contentType);
            response.setContentLengthLong(span.length());
            response.setHeader(HttpHeaders.ACCEPT_RANGES, "bytes");
            response.setHeader(HttpHeaders.ETAG, etag);
            response.setHeader("X-Content-Type-Options", "nosniff");
            if (!"HEAD".equals(request.getMethod())) {
                copy(in, span.length(), response.getOutputStream());
            }
        }
    }

    /** The bytes to send; a range past the end sets {@code Content-Range: bytes * /SIZE} and throws the 416. */
    static Span span(String range, String ifRange, String etag, long size, HttpServletResponse response) {
        Span whole = new Span(0, size - 1, false);
        if (range == null || (ifRange != null && !ifRange.trim().equals(etag))) {
            return whole; // no range, or asked only if unchanged and given as a date or another tag
        }
        Matcher single = SINGLE_RANGE.matcher(range.trim());
        if (!single.matches() || (single.group(1).isEmpty() && single.group(2).isEmpty())) {
            return whole;
        }
        long first;
        long last;
        if (single.group(1).isEmpty()) {
            long suffix = Long.parseLong(single.group(2));
            first = Math.max(0, size - suffix);
            last = size - 1;
            if (suffix == 0 || size == 0) {
                throw unsatisfiable(size, response);
            }
        } else {
            first = Long.parseLong(single.group(1));
            last = single.group(2).isEmpty() ? Long.MAX_VALUE : Long.parseLong(single.group(2));
            if (last < first) {
                return whole; // not a valid range: ignored
            }
            if (first >= size) {
                throw unsatisfiable(size, response);
            }
            last = Math.min(last, size - 1);
        }
        return new Span(first, last, true);
    }

    private static ApiProblem unsatisfiable(long size, HttpServletResponse response) {
        response.setHeader(HttpHeaders.CONTENT_RANGE, "bytes */" + size);
        return ApiProblem.rangeNotSatisfiable(size);
    }

    private static void copy(InputStream in, long length, OutputStream out) throws IOException {
        byte[] buffer = new byte[(int) Math.min(HashingCopy.CHUNK, Math.max(length, 1))];
        long left = length;
        while (left > 0) {
            int read = in.read(buffer, 0, (int) Math.min(buffer.length, left));
            if (read < 0) {
                throw new IOException("the blob ended " + left + " bytes early");
            }
            out.write(buffer, 0, read);
            left -= read;
        }
        out.flush();
    }
}
