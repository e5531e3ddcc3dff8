package com.maddatum.worker.client;

import com.maddatum.worker.config.WorkerSettings;
import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.io.OutputStream;
import java.net.ConnectException;
import java.net.HttpURLConnection;
import java.net.NoRouteToHostException;
import java.net.ProtocolException;
import java.net.Proxy;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.net.UnknownHostException;
import java.nio.channels.Channels;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.function.BooleanSupplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.stereotype.Component;
import tools.jackson.databind.json.JsonMapper;

/**
 * The Boss's blob routes as the Worker uses them: {@code GET /blobs/{sha256}} (with {@code Range: bytes=N-}
 * to resume) and {@code POST /blobs?sha256=}. Blobs are streamed, never held in memory, over
 * {@link HttpURLConnection} rather than the {@link java.net.http.HttpClient} of {@link BossClient}, whose
 * timeout ends at the headers. A download's read timeout bounds every read of its body, so a Boss that
 * stops sending fails it after {@code worker.cache.stall-timeout}; each chunk checks the thread's
 * interrupt, since socket streams do not. A write has no timeout at all: an upload is watched by a
 * {@link TransferWatch}, which disconnects it when no byte moved for {@code worker.artifacts.stall-timeout}
 * (the body, then the wait for the answer) or when the run it belongs to is stopped.
 *
 * <p>What an answer's status means is decided once ({@link #classify}), for both directions.
 */
@Component
public class BossBlobs {

    private static final Pattern CONTENT_RANGE = Pattern.compile("bytes (\\d+)-(\\d+)/(\\d+)");
    static final int CHUNK = 64 * 1024;
    /**
     * From this size on an upload asks {@code Expect: 100-continue}: a Boss that refuses the file on its
     * headers (413 over a limit) says so before the body is sent, instead of closing the connection under
     * a write. Smaller bodies fit the socket's buffers: the answer is read after them either way.
     */
    static final long EXPECT_CONTINUE_FROM = CHUNK;
    /** How long the JDK waits for a {@code 100 Continue} that does not come before it sends the body anyway. */
    private static final Duration EXPECT_WAIT = Duration.ofSeconds(6);

    private final String base;
    private final Optional<String> token;
    private final int connectMillis;
    private final int downloadStallMillis;
    private final Duration uploadStall;
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
        this.uploadStall = uploadStall;
        this.json = json;
    }

    /** What an answer's status says, whichever way the blob goes. */
    enum Verdict {
        /** 2xx. */
        OK,
        /** 404: on a download, the Boss has no such blob; on an upload, it has no such route. */
        NOT_FOUND,
        /** Another 4xx: the Boss's word on this transfer (413 over a limit, 400 another hash); asking again gets it again. */
        REFUSED,
        /** 401, 403, 405: the Boss takes no blob transfers from this Worker (its token, an older Boss). */
        NO_ACCESS,
        /** 5xx, and the 4xx that pass (408, 421, 425, 429): it may work later. */
        FAILING
    }

    static Verdict classify(int status) {
        if (status / 100 == 2) {
            return Verdict.OK;
        }
        return switch (status) {
            case 404 -> Verdict.NOT_FOUND;
            case 401, 403, 405 -> Verdict.NO_ACCESS;
            case 408, 421, 425, 429 -> Verdict.FAILING;
            default -> status / 100 == 4 ? Verdict.REFUSED : Verdict.FAILING;
        };
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
     * on the blob ({@link Verdict#NOT_FOUND}, {@link Verdict#REFUSED}), is a {@link BlobRefusedException};
     * no answer, or any other ({@link Verdict#FAILING}, {@link Verdict#NO_ACCESS}: not the job's fault), is a
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
            Verdict verdict = classify(status);
            if (verdict == Verdict.NOT_FOUND || verdict == Verdict.REFUSED) {
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
        /** The Boss takes no blob from this Worker (no such route, the token refused): no file will go. */
        GIVE_UP,
        /** The Boss answered with a failure (5xx, 429...): it may work later. */
        FAILING,
        /**
         * No connection to the Boss (refused, timed out, an unknown host), or no byte moved for the stall
         * timeout: the Boss is down or out of reach, for this file and the next alike.
         */
        UNREACHABLE,
        /**
         * The connection broke while the body was sent and no answer came: a Boss that went down, or one
         * that refused the file early and closed the connection after a {@code 100 Continue}.
         */
        BROKEN,
        /** The file ended before the size it was hashed at: it changed since (a process still writing it). */
        CHANGED,
        /** The run the upload belongs to was stopped (cancelled, its lease lost, the Worker shutting down). */
        STOPPED
    }

    /** An upload's {@link Stored} and, when it failed, why in words. */
    public record Upload(Stored stored, String reason) {}

    /**
     * Streams the first {@code size} bytes of {@code file} (whose SHA-256 is {@code sha256}) to
     * {@code POST /blobs}. The file is opened without following a link ({@code O_NOFOLLOW}): a link swapped
     * in after the caller looked is an error, never the file it points at. Ended by the watchdog when no
     * byte moves for the upload stall timeout or once {@code stopped} is true; interrupted, it drops the
     * connection and throws.
     */
    public Upload upload(String sha256, Path file, long size, BooleanSupplier stopped) throws InterruptedException {
        String path = "/blobs?sha256=" + sha256;
        HttpURLConnection connection;
        try (InputStream in = Channels.newInputStream(Files.newByteChannel(file, StandardOpenOption.READ,
                LinkOption.NOFOLLOW_LINKS))) {
            try {
                connection = open(path, 0); // no read timeout: the watchdog bounds the wait for the answer
                connection.setRequestMethod("POST");
                connection.setDoOutput(true);
                connection.setFixedLengthStreamingMode(size);
                connection.setRequestProperty("Content-Type", "application/octet-stream");
                if (size >= EXPECT_CONTINUE_FROM) {
                    connection.setRequestProperty("Expect", "100-continue");
                }
            } catch (IOException | RuntimeException e) {
                return new Upload(Stored.UNREACHABLE, "cannot reach the Boss at " + base + ": " + e);
            }
            Duration firstWait = Duration.ofMillis(connectMillis).plus(size >= EXPECT_CONTINUE_FROM ? EXPECT_WAIT
                    : Duration.ZERO);
            try (TransferWatch watch = new TransferWatch(connection, uploadStall, firstWait, stopped)) {
                return exchange(connection, watch, in, size, sha256);
            } finally {
                connection.disconnect();
            }
        } catch (IOException e) {
            return new Upload(Stored.CHANGED, "cannot be opened as the regular file it was: " + e);
        }
    }

    /** Sends the body and reads the answer, under the watchdog. */
    private Upload exchange(HttpURLConnection connection, TransferWatch watch, InputStream in, long size, String sha256)
            throws InterruptedException {
        OutputStream out;
        try {
            out = connection.getOutputStream(); // connects; with Expect, the Boss may refuse the file here
        } catch (ProtocolException refusedOnItsHeaders) {
            return answered(connection, watch, sha256, null);
        } catch (IOException e) {
            return failed(watch, e instanceof ConnectException || e instanceof SocketTimeoutException
                    || e instanceof UnknownHostException || e instanceof NoRouteToHostException
                    ? Stored.UNREACHABLE : Stored.BROKEN, "cannot reach the Boss at " + base + ": " + e);
        }
        watch.progress();
        IOException sending;
        try {
            sending = send(in, out, size, watch);
        } catch (FileChanged e) {
            return new Upload(Stored.CHANGED, e.getMessage());
        }
        return answered(connection, watch, sha256, sending);
    }

    /** The file ended before the size it was hashed at. */
    private static final class FileChanged extends Exception {
        FileChanged(String message) {
            super(message, null, false, false);
        }
    }

    /**
     * Writes the file's first {@code size} bytes; a write failure is returned, not thrown, since the Boss
     * may have answered before it read them all.
     */
    private static IOException send(InputStream in, OutputStream out, long size, TransferWatch watch)
            throws FileChanged, InterruptedException {
        byte[] buffer = new byte[CHUNK];
        long left = size;
        try {
            while (left > 0) {
                int n;
                try {
                    n = in.read(buffer, 0, (int) Math.min(buffer.length, left));
                } catch (IOException e) {
                    throw new FileChanged("cannot be read any more: " + e);
                }
                if (n < 0) {
                    throw new FileChanged("it ended " + left + " bytes before the " + size + " it was hashed at");
                }
                if (Thread.interrupted()) {
                    throw new InterruptedException("interrupted while uploading");
                }
                out.write(buffer, 0, n);
                watch.progress();
                left -= n;
            }
            out.close();
            return null;
        } catch (InterruptedIOException e) {
            throw new InterruptedException("interrupted while uploading");
        } catch (IOException e) {
            return e;
        }
    }

    /** The Boss's answer once the body went (or was refused on its headers); {@code sending}: a write that failed. */
    private Upload answered(HttpURLConnection connection, TransferWatch watch, String sha256, IOException sending)
            throws InterruptedException {
        int status;
        try {
            status = connection.getResponseCode(); // the watchdog bounds this wait too
        } catch (IOException e) {
            return failed(watch, Stored.BROKEN, sending != null
                    ? "the connection broke while the file was sent, and no answer came: " + sending
                    : "the Boss did not answer the upload: " + e);
        }
        if (status < 0) {
            return failed(watch, Stored.BROKEN, "the Boss's answer to the upload is not HTTP");
        }
        return answer(status, connection, sha256);
    }

    /** An upload that ended without an answer: why, the watchdog's reason first. */
    private Upload failed(TransferWatch watch, Stored otherwise, String reason) throws InterruptedException {
        TransferWatch.Cause cause = watch.cause();
        if (cause == TransferWatch.Cause.INTERRUPTED) {
            throw new InterruptedException("interrupted while uploading");
        }
        if (cause == TransferWatch.Cause.STOPPED) {
            return new Upload(Stored.STOPPED, "the run was stopped while the file was sent");
        }
        if (cause == TransferWatch.Cause.STALLED) {
            return new Upload(Stored.UNREACHABLE, "no byte moved for " + uploadStall.toSeconds()
                    + " s (worker.artifacts.stall-timeout): the Boss stopped reading or answering");
        }
        return new Upload(otherwise, reason);
    }

    private Upload answer(int status, HttpURLConnection connection, String sha256) {
        Verdict verdict = classify(status);
        if (verdict == Verdict.OK) {
            Map<String, Object> stored = Problems.parse(json, readBody(connection, false));
            if (stored != null && stored.get("sha256") instanceof String said && !said.equalsIgnoreCase(sha256)) {
                return new Upload(Stored.REFUSED, "the Boss stored it under another hash: " + said);
            }
            return new Upload(Stored.STORED, null);
        }
        String reason = reason(status, connection);
        return switch (verdict) {
            case REFUSED -> new Upload(Stored.REFUSED, reason);
            case NOT_FOUND, NO_ACCESS -> new Upload(Stored.GIVE_UP, reason);
            default -> new Upload(Stored.FAILING, reason);
        };
    }

    private HttpURLConnection open(String path, int readMillis) throws IOException {
        HttpURLConnection connection = (HttpURLConnection) URI.create(base + path).toURL().openConnection(Proxy.NO_PROXY);
        connection.setConnectTimeout(connectMillis);
        connection.setReadTimeout(readMillis);
        connection.setUseCaches(false);
        token.ifPresent(t -> connection.setRequestProperty("Authorization", "Bearer " + t));
        return connection;
    }

    /** The Boss's problem detail in words ({@link Problems}), else the start of the body or the status line. */
    private String reason(int status, HttpURLConnection connection) {
        String statusText;
        try {
            statusText = connection.getResponseMessage();
        } catch (IOException e) {
            statusText = null;
        }
        return Problems.reason(json, status, readBody(connection, true), statusText);
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
