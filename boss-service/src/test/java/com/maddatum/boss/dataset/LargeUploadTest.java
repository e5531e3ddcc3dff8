package com.maddatum.boss.dataset;

import static org.assertj.core.api.Assertions.assertThat;

import com.maddatum.boss.support.BossApiTestBase;
import com.maddatum.boss.support.RawHttp;
import jakarta.servlet.Filter;
import jakarta.servlet.http.HttpServletRequest;
import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.io.SequenceInputStream;
import java.lang.management.ManagementFactory;
import java.net.http.HttpRequest;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;
import org.springframework.boot.test.context.TestConfiguration;
import org.springframework.boot.web.servlet.FilterRegistrationBean;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Import;
import org.springframework.core.Ordered;

/**
 * Uploads and downloads far larger than any buffer, through every filter the Boss has: the bytes arrive
 * whole and hashed, and the request's thread allocates a small fraction of them. Anything that held the
 * body (a filter buffering it, the servlet multipart support, a byte array in a converter) would allocate
 * at least the body's size on that thread; streaming allocates a 1 MiB buffer and change.
 */
@Import(LargeUploadTest.AllocationProbe.class)
class LargeUploadTest extends BossApiTestBase {

    static final long SIZE = 64L * 1024 * 1024;
    static final long MAX_ALLOCATED = 16L * 1024 * 1024;

    /** Bytes allocated by the thread that served each request carrying {@code X-Probe}, by its value. */
    @TestConfiguration(proxyBeanMethods = false)
    static class AllocationProbe {
        static final Map<String, Long> ALLOCATED = new ConcurrentHashMap<>();

        @Bean
        FilterRegistrationBean<Filter> allocationProbe() {
            com.sun.management.ThreadMXBean threads =
                    (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
            Filter filter = (request, response, chain) -> {
                String probe = ((HttpServletRequest) request).getHeader("X-Probe");
                long before = threads.getCurrentThreadAllocatedBytes();
                try {
                    chain.doFilter(request, response);
                } finally {
                    if (probe != null) {
                        ALLOCATED.put(probe, threads.getCurrentThreadAllocatedBytes() - before);
                    }
                }
            };
            FilterRegistrationBean<Filter> registration = new FilterRegistrationBean<>(filter);
            registration.setOrder(Ordered.HIGHEST_PRECEDENCE);
            return registration;
        }
    }

    /** CSV text of about {@code size} bytes, made as it is read: a header and rows "i,2i,3i". */
    static Supplier<InputStream> csv(long rows) {
        return () -> new SequenceInputStream(new ByteArrayInputStream("a,b,c\n".getBytes(StandardCharsets.UTF_8)),
                new InputStream() {
                    private long row;
                    private byte[] line = new byte[0];
                    private int position;

                    @Override
                    public int read() {
                        if (position == line.length) {
                            if (row == rows) {
                                return -1;
                            }
                            row++;
                            line = (row + "," + row * 2 + "," + row * 3 + "\n").getBytes(StandardCharsets.UTF_8);
                            position = 0;
                        }
                        return line[position++];
                    }

                    @Override
                    public int read(byte[] b, int off, int len) {
                        int n = 0;
                        int c;
                        while (n < len && (c = read()) >= 0) {
                            b[off + n++] = (byte) c;
                        }
                        return n == 0 && len > 0 ? -1 : n;
                    }
                });
    }

    static long length(Supplier<InputStream> body) throws Exception {
        try (InputStream in = body.get()) {
            return in.transferTo(java.io.OutputStream.nullOutputStream());
        }
    }

    @Test
    void aRawUploadOf64MiBStreamsAndSoDoesItsDownload() {
        RawHttp http = new RawHttp(port);
        Supplier<InputStream> body = RawHttp.generated(SIZE, 64);
        RawHttp.Reply reply = http.send("POST", "/datasets?name=large.bin", "application/octet-stream",
                HttpRequest.BodyPublishers.ofInputStream(body), "X-Probe", "raw");
        assertThat(reply.status()).as(reply.text()).isEqualTo(201);
        assertThat(reply.json().get("size").asLong()).isEqualTo(SIZE);
        assertThat(reply.json().get("sha256").asString()).isEqualTo(RawHttp.sha256(body));
        assertThat(AllocationProbe.ALLOCATED.get("raw")).isLessThan(MAX_ALLOCATED);

        RawHttp.Digested download = http.getDigested("/datasets/large.bin/content");
        assertThat(download.status()).isEqualTo(200);
        assertThat(download.length()).isEqualTo(SIZE);
        assertThat(download.sha256()).isEqualTo(RawHttp.sha256(body));
    }

    @Test
    void aMultipartCsvOf64MiBStreamsWhileItsRowsAreCounted() throws Exception {
        long rows = 3_400_000; // about 64 MiB of "i,2i,3i" lines
        Supplier<InputStream> file = csv(rows);
        String boundary = "X-large-upload-boundary";
        Supplier<InputStream> body = () -> new SequenceInputStream(java.util.Collections.enumeration(List.of(
                new ByteArrayInputStream(RawHttp.multipartHead(boundary, "large.csv")), file.get(),
                new ByteArrayInputStream(RawHttp.multipartTail(boundary)))));
        long length = length(body);
        assertThat(length).isGreaterThan(SIZE - 8L * 1024 * 1024);
        RawHttp.Reply reply = new RawHttp(port).send("POST", "/datasets", "multipart/form-data; boundary=" + boundary,
                HttpRequest.BodyPublishers.fromPublisher(HttpRequest.BodyPublishers.ofInputStream(body), length),
                "X-Probe", "multipart");
        assertThat(reply.status()).as(reply.text()).isEqualTo(201);
        assertThat(reply.json().get("name").asString()).isEqualTo("large.csv");
        assertThat(reply.json().get("rows").asLong()).isEqualTo(rows);
        assertThat(reply.json().get("columns")).extracting(n -> n.asString()).containsExactly("a", "b", "c");
        assertThat(reply.json().get("sha256").asString()).isEqualTo(RawHttp.sha256(file));
        assertThat(AllocationProbe.ALLOCATED.get("multipart")).isLessThan(MAX_ALLOCATED);
    }
}
