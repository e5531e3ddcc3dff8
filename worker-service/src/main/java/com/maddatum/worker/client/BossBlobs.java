package com.maddatum.worker.client;

import com.maddatum.worker.config.WorkerSettings;
import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.io.OutputStream;
import java.net.HttpURLConnection;
import java.net.Proxy;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.stereotype.Component;
import tools.jackson.core.type.TypeReference;
import tools.jackson.databind.json.JsonMapper;

/**
 * The Boss's blob routes as the Worker uses them: {@code GET /blobs/{sha256}} (with {@code Range: bytes=N-}
 * to resume) and {@code POST /blobs?sha256=}. Blobs are streamed, never held in memory, over
 * {@link HttpURLConnection} rather than the {@link java.net.http.HttpClient} of {@link BossClient}: its read
 * timeout bounds every read of a body, so a Boss that stops sending half-way through a file fails the
 * transfer after {@code stall} instead of holding a slot forever (the HttpClient's timeout ends at the
 * headers). Each chunk checks the thread's interrupt, since socket streams do not.
 */
@Component
public class BossBlobs {

    private static final TypeReference<LinkedHashMap<String, Object>> MAP = new TypeReference<>() {};
    private static final Pattern CONTENT_RANGE = Pattern.compile("bytes (\\d+)-(\\d+)/(\\d+)");
    /** 4xx answers that are not the Boss's word on the blob: the token, or passing ones. Tried again later. */
    private static final Set<Integer> PASSING = Set.of(401, 403, 408, 421, 425, 429);
    static final int CHUNK = 64 * 1024;

    private final String base;
    private final Optional<String> token;
    private final int connectMillis;
    private final int downloadStallMillis;
    private final int uploadStallMillis;
    private final JsonMapper json;

    @Autowired
    public BossBlobs(WorkerSettings settings, JsonMapper json) {
        this(settings.bossUrl(), settings.token(), settings.httpTimeout(), settings.cache().stallTimeout(),
                settings.artifacts().stallTimeout(), json);
    }

    public BossBlobs(String base, Optional<String> token, Duration connect, Duration downloadStall,
            Duration uploadStall, JsonMapper json) {
        this.base = base.endsWith("/") ? base.substring(0, base.length() - 1) : base;
        this.token = token;
        this.connectMillis = millis(connect);
        this.downloadStallMillis = millis(downloadStall);
        this.uploadStallMillis = millis(uploadStall);
        this.json = json;
    }

    /**
     * A blob's bytes as the Boss sends them: from {@code offset} (0 when the Boss ignored the range and
     * sends the whole blob), out of {@code size} in all (-1 when it did not say). Closing it before the
     * end drops the connection rather than reading the rest.
     */
    public static final class Download implements Closeable {
        private final HttpURLConnection connection;
        private final InputStream body;
        private final long offset;
        private final long size;

        Download(HttpURLConnection connection, InputStream body, long offset, long size) {
            this.connection = connection;
            this.body = body;
            this.offset = offset;
            this.size = size;
        }

        public InputStream body() {
            return body;
        }

        public long offset() {
            return offset;
        }

        public long size() {
            return size;
        }

        @Override
        public void close() {
            connection.disconnect(); // a half-read body is not drained first
        }
    }

    /**
     * Opens the blob from byte {@code from} (0: all of it). A 404, or another 4xx that is the Boss's word
     * on the blob, is a {@link BlobRefusedException}; no answer, a 5xx or a passing 4xx is a
     * {@link BossUnavailableException}. A range the Boss cannot satisfy (416: the part held here is
     * longer than the blob) is asked again from the start.
     */
    public Download download(String sha256, long from) throws BlobRefusedException, BossUnavailableException {
        String path = "/blobs/" + sha256;
        HttpURLConnection connection;
        try {
            connection = open(path, downloadStallMillis);
        } catch (IOException | RuntimeException e) {
            throw new BossUnavailableException("cannot reach the Boss at " + base + ": " + e, e);
        }
        try {
            connection.setRequestMethod("GET");
            if (from > 0) {
                connection.setRequestProperty("Range", "bytes=" + from + "-");
            }
            int status = connection.getResponseCode();
            if (status == 416 && from > 0) {
                connection.disconnect();
                return download(sha256, 0);
            }
            if (status == 200) {
                return new Download(connection, connection.getInputStream(), 0, connection.getContentLengthLong());
            }
            if (status == 206) {
                Matcher range = CONTENT_RANGE.matcher(String.valueOf(connection.getHeaderField("Content-Range")));
                if (!range.matches()) {
                    throw new BossUnavailableException(path + " answered 206 without a Content-Range the Worker can read: "
                            + connection.getHeaderField("Content-Range"), null);
                }
                return new Download(connection, connection.getInputStream(), Long.parseLong(range.group(1)),
                        Long.parseLong(range.group(3)));
            }
            String reason = reason(status, connection);
            connection.disconnect();
            if (status / 100 == 4 && !PASSING.contains(status)) {
                throw new BlobRefusedException(status, reason);
            }
            throw new BossUnavailableException("GET " + path + " answered " + reason, null);
        } catch (IOException | RuntimeException e) {
            connection.disconnect();
            throw new BossUnavailableException("cannot fetch " + path + " from the Boss at " + base + ": " + e, e);
        }
    }

    /** What became of an upload. */
    public enum Stored {
        /** The Boss has the blob (stored now, or had it already). */
        STORED,
        /** The Boss refused this file (too large, not the bytes its hash says): trying again cannot help. */
        REFUSED,
        /** The Boss was unreachable or failing: it may work later. */
        RETRY,
        /** The Boss takes no blob from this Worker (no such route, the token refused): no file will go. */
        GIVE_UP
    }

    /** An upload's {@link Stored} and, when it failed, why in words. */
    public record Upload(Stored stored, String reason) {}

    /**
     * Streams {@code file} ({@code size} bytes, whose SHA-256 is {@code sha256}) to {@code POST /blobs}.
     * Interrupted, it drops the connection and throws.
     */
    public Upload upload(String sha256, Path file, long size) throws InterruptedException {
        String path = "/blobs?sha256=" + sha256;
        HttpURLConnection connection;
        try {
            connection = open(path, uploadStallMillis);
            connection.setRequestMethod("POST");
        } catch (IOException | RuntimeException e) {
            return new Upload(Stored.RETRY, "cannot reach the Boss at " + base + ": " + e);
        }
        try {
            connection.setDoOutput(true);
            connection.setFixedLengthStreamingMode(size);
            connection.setRequestProperty("Content-Type", "application/octet-stream");
            IOException sending = send(file, connection);
            int status;
            try {
                status = connection.getResponseCode();
            } catch (IOException e) {
                return new Upload(Stored.RETRY, "the Boss did not answer the upload: "
                        + (sending != null ? sending : e));
            }
            return answer(status, connection, sha256);
        } finally {
            connection.disconnect();
        }
    }

    /** Sends the file; a failure is returned, since the Boss may have answered before it read all (a 413). */
    private static IOException send(Path file, HttpURLConnection connection) throws InterruptedException {
        byte[] buffer = new byte[CHUNK];
        try (InputStream in = Files.newInputStream(file); OutputStream out = connection.getOutputStream()) {
            for (int n; (n = in.read(buffer)) >= 0; ) {
                if (Thread.interrupted()) {
                    connection.disconnect();
                    throw new InterruptedException("interrupted while uploading " + file);
                }
                out.write(buffer, 0, n);
            }
            return null;
        } catch (InterruptedIOException e) {
            connection.disconnect();
            throw new InterruptedException("interrupted while uploading " + file);
        } catch (IOException e) {
            return e;
        }
    }

    private Upload answer(int status, HttpURLConnection connection, String sha256) {
        if (status == 200 || status == 201) {
            String body = readBody(connection, false);
            Map<String, Object> stored = parse(body);
            if (stored != null && stored.get("sha256") instanceof String said && !said.equalsIgnoreCase(sha256)) {
                return new Upload(Stored.REFUSED, "the Boss stored it under another hash: " + said);
            }
            return new Upload(Stored.STORED, null);
        }
        String reason = reason(status, connection);
        if (status >= 500 || status == 408 || status == 421 || status == 425 || status == 429) {
            return new Upload(Stored.RETRY, reason);
        }
        if (status == 401 || status == 403 || status == 404 || status == 405) {
            return new Upload(Stored.GIVE_UP, reason);
        }
        return new Upload(status / 100 == 4 ? Stored.REFUSED : Stored.RETRY, reason);
    }

    private HttpURLConnection open(String path, int readMillis) throws IOException {
        HttpURLConnection connection = (HttpURLConnection) URI.create(base + path).toURL().openConnection(Proxy.NO_PROXY);
        connection.setConnectTimeout(connectMillis);
        connection.setReadTimeout(readMillis);
        connection.setUseCaches(false);
        token.ifPresent(t -> connection.setRequestProperty("Authorization", "Bearer " + t));
        return connection;
    }

    /** The Boss's problem detail in words ({@code detail}), else the start of the body. */
    private String reason(int status, HttpURLConnection connection) {
        String body = readBody(connection, true);
        Map<String, Object> problem = parse(body);
        if (problem != null && problem.get("detail") instanceof String detail) {
            return "HTTP " + status + ": " + detail;
        }
        return "HTTP " + status + (body.isBlank() ? "" : ": " + (body.length() > 300 ? body.substring(0, 300) + "..." : body));
    }

    private Map<String, Object> parse(String body) {
        try {
            return body.isBlank() ? null : json.readValue(body, MAP);
        } catch (RuntimeException notJson) { // JacksonException included
            return null;
        }
    }

    /** At most 16 KiB of an answer's body: an error page is not worth more. */
    private static String readBody(HttpURLConnection connection, boolean error) {
        try (InputStream in = error ? connection.getErrorStream() : connection.getInputStream()) {
            return in == null ? "" : new String(in.readNBytes(16 * 1024), StandardCharsets.UTF_8);
        } catch (IOException e) {
            return "";
        }
    }

    private static int millis(Duration duration) {
        return (int) Math.min(Integer.MAX_VALUE, Math.max(1, duration.toMillis()));
    }
}
