package com.maddatum.boss.support;

import com.maddatum.testsupport.HttpJson;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpHeaders;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.HexFormat;
import java.util.Random;
import java.util.function.Supplier;
import tools.jackson.databind.JsonNode;

/** Bytes over HTTP, for uploads and downloads the JSON client does not do. */
public final class RawHttp {

    /** An answer; {@code body} is null when the test streamed it elsewhere. */
    public record Reply(int status, byte[] body, HttpHeaders headers) {
        public String text() {
            return new String(body, StandardCharsets.UTF_8);
        }

        public JsonNode json() {
            return HttpJson.MAPPER.readTree(body.length == 0 ? "{}" : text());
        }

        public String header(String name) {
            return headers.firstValue(name).orElse(null);
        }
    }

    private final String base;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    public RawHttp(int port) {
        this.base = "http://127.0.0.1:" + port;
    }

    public Reply send(String method, String path, String contentType, HttpRequest.BodyPublisher body,
            String... headers) {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(base + path)).timeout(Duration.ofMinutes(2))
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : body);
        if (contentType != null) {
            request.header("Content-Type", contentType);
        }
        for (int i = 0; i < headers.length; i += 2) {
            request.header(headers[i], headers[i + 1]);
        }
        try {
            HttpResponse<byte[]> response = http.send(request.build(), HttpResponse.BodyHandlers.ofByteArray());
            return new Reply(response.statusCode(), response.body(), response.headers());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    public Reply post(String path, String contentType, byte[] body) {
        return send("POST", path, contentType, HttpRequest.BodyPublishers.ofByteArray(body));
    }

    public Reply get(String path, String... headers) {
        return send("GET", path, null, null, headers);
    }

    /** GETs {@code path} and hashes the body as it arrives: status, SHA-256 and length, never the bytes. */
    public record Digested(int status, String sha256, long length, HttpHeaders headers) {}

    public Digested getDigested(String path) {
        HttpRequest request = HttpRequest.newBuilder(URI.create(base + path)).timeout(Duration.ofMinutes(2)).build();
        try {
            HttpResponse<InputStream> response = http.send(request, HttpResponse.BodyHandlers.ofInputStream());
            MessageDigest digest = MessageDigest.getInstance("SHA-256");
            long length = 0;
            try (InputStream in = response.body()) {
                byte[] buffer = new byte[1 << 16];
                int read;
                while ((read = in.read(buffer)) > 0) {
                    digest.update(buffer, 0, read);
                    length += read;
                }
            }
            return new Digested(response.statusCode(), HexFormat.of().formatHex(digest.digest()), length,
                    response.headers());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** A body made as it is sent: {@code size} pseudo-random bytes of {@code seed}, never all in memory. */
    public static Supplier<InputStream> generated(long size, long seed) {
        return () -> new InputStream() {
            private final Random random = new Random(seed);
            private final byte[] block = new byte[8192];
            private int position = block.length;
            private long left = size;

            @Override
            public int read() {
                byte[] one = new byte[1];
                return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
            }

            @Override
            public int read(byte[] b, int off, int len) {
                if (left == 0) {
                    return -1;
                }
                if (position == block.length) {
                    random.nextBytes(block);
                    position = 0;
                }
                int n = (int) Math.min(Math.min(len, block.length - position), left);
                System.arraycopy(block, position, b, off, n);
                position += n;
                left -= n;
                return n;
            }
        };
    }

    public static String sha256(Supplier<InputStream> body) {
        try (InputStream in = body.get()) {
            MessageDigest digest = MessageDigest.getInstance("SHA-256");
            byte[] buffer = new byte[1 << 16];
            int read;
            while ((read = in.read(buffer)) > 0) {
                digest.update(buffer, 0, read);
            }
            return HexFormat.of().formatHex(digest.digest());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    public static String sha256(byte[] bytes) {
        return sha256(() -> new java.io.ByteArrayInputStream(bytes));
    }

    /** {@code curl -F file=@fileName}: a multipart body around {@code file}. */
    public static byte[] multipart(String boundary, String fileName, byte[] file) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.writeBytes(multipartHead(boundary, fileName));
        out.writeBytes(file);
        out.writeBytes(multipartTail(boundary));
        return out.toByteArray();
    }

    public static byte[] multipartHead(String boundary, String fileName) {
        return ("--" + boundary + "\r\nContent-Disposition: form-data; name=\"file\"; filename=\"" + fileName
                + "\"\r\nContent-Type: application/octet-stream\r\n\r\n").getBytes(StandardCharsets.UTF_8);
    }

    public static byte[] multipartTail(String boundary) {
        return ("\r\n--" + boundary + "--\r\n").getBytes(StandardCharsets.UTF_8);
    }
}
