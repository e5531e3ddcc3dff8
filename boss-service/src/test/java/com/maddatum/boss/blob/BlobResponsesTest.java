package com.maddatum.boss.blob;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.maddatum.boss.web.ApiProblem;
import com.maddatum.testsupport.MutableClock;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.http.HttpHeaders;
import org.springframework.http.HttpStatus;
import org.springframework.mock.web.MockHttpServletRequest;
import org.springframework.mock.web.MockHttpServletResponse;

/** The one way stored bytes are answered: ranges, and what a blob deleted mid-request leaves on the error. */
class BlobResponsesTest {

    @TempDir
    Path dir;

    private final List<Long> opened = new ArrayList<>();
    private BlobStore store;
    private final byte[] data = BlobStoreContract.bytes(1000, 60);
    private BlobStore.Blob blob;

    @BeforeEach
    void store() throws IOException {
        store = new DelegatingBlobStore(new DiskBlobStore(dir, MutableClock.stopped())) {
            @Override
            public InputStream open(String sha256, long offset) throws IOException {
                opened.add(offset);
                return super.open(sha256, offset);
            }
        };
        blob = store.put(new ByteArrayInputStream(data), null, Long.MAX_VALUE, null);
    }

    private MockHttpServletResponse send(String range) throws IOException {
        MockHttpServletRequest request = new MockHttpServletRequest("GET", "/blobs/" + blob.sha256());
        if (range != null) {
            request.addHeader(HttpHeaders.RANGE, range);
        }
        MockHttpServletResponse response = new MockHttpServletResponse();
        HttpHeaders headers = new HttpHeaders();
        headers.set(HttpHeaders.CONTENT_DISPOSITION, "attachment");
        BlobResponses.send(store, blob, "text/csv", headers, request, response);
        return response;
    }

    @Test
    void eachFormOfOneRangeIsAnsweredFromTheByteItStartsAt() throws IOException {
        record Case(String range, int first, int last) {}
        for (Case c : List.of(new Case("bytes=100-", 100, 999), new Case("bytes=10-19", 10, 19),
                new Case("bytes=990-5000", 990, 999), new Case("bytes=-25", 975, 999), new Case("bytes=-5000", 0, 999))) {
            opened.clear();
            MockHttpServletResponse response = send(c.range());
            assertThat(response.getStatus()).as(c.range()).isEqualTo(206);
            assertThat(response.getHeader(HttpHeaders.CONTENT_RANGE)).as(c.range())
                    .isEqualTo("bytes " + c.first() + "-" + c.last() + "/1000");
            assertThat(response.getContentAsByteArray()).as(c.range())
                    .isEqualTo(Arrays.copyOfRange(data, c.first(), c.last() + 1));
            assertThat(response.getContentLengthLong()).isEqualTo(c.last() - c.first() + 1);
            assertThat(opened).as("opened at the first byte, not read up to it").containsExactly((long) c.first());
        }
    }

    @Test
    void otherFormsGetTheWholeBlob() throws IOException {
        for (String ignored : new String[] {"bytes=0-9,20-29", "items=0-9", "bytes=9-3", "bytes=-", "nonsense"}) {
            MockHttpServletResponse response = send(ignored);
            assertThat(response.getStatus()).as(ignored).isEqualTo(200);
            assertThat(response.getHeader(HttpHeaders.CONTENT_RANGE)).isNull();
            assertThat(response.getContentAsByteArray()).isEqualTo(data);
        }
    }

    @Test
    void aRangePastTheEndIs416() {
        for (String past : new String[] {"bytes=1000-", "bytes=5000-6000", "bytes=-0"}) {
            MockHttpServletResponse response = new MockHttpServletResponse();
            MockHttpServletRequest request = new MockHttpServletRequest("GET", "/blobs/x");
            request.addHeader(HttpHeaders.RANGE, past);
            assertThatThrownBy(() -> BlobResponses.send(store, blob, "text/csv", new HttpHeaders(), request, response)).as(past)
                    .isInstanceOfSatisfying(ApiProblem.class, problem -> assertThat(problem.status())
                            .isEqualTo(HttpStatus.REQUESTED_RANGE_NOT_SATISFIABLE));
            assertThat(response.getHeader(HttpHeaders.CONTENT_RANGE)).as(past).isEqualTo("bytes */1000");
        }
    }

    @Test
    void anIfRangeThatNoLongerMatchesGetsTheWholeBlob() throws IOException {
        MockHttpServletRequest request = new MockHttpServletRequest("GET", "/blobs/x");
        request.addHeader(HttpHeaders.RANGE, "bytes=10-");
        request.addHeader(HttpHeaders.IF_RANGE, "\"another\"");
        MockHttpServletResponse response = new MockHttpServletResponse();
        BlobResponses.send(store, blob, "text/csv", new HttpHeaders(), request, response);
        assertThat(response.getStatus()).isEqualTo(200);
        assertThat(response.getContentAsByteArray()).isEqualTo(data);

        request.removeHeader(HttpHeaders.IF_RANGE);
        request.addHeader(HttpHeaders.IF_RANGE, "\"" + blob.sha256() + "\"");
        MockHttpServletResponse matching = new MockHttpServletResponse();
        BlobResponses.send(store, blob, "text/csv", new HttpHeaders(), request, matching);
        assertThat(matching.getStatus()).isEqualTo(206);
    }

    @Test
    void everyAnswerSaysNosniffAndCarriesTheCallersHeaders() throws IOException {
        MockHttpServletResponse response = send(null);
        assertThat(response.getHeader("X-Content-Type-Options")).isEqualTo("nosniff");
        assertThat(response.getHeader(HttpHeaders.CONTENT_DISPOSITION)).isEqualTo("attachment");
        assertThat(response.getHeader(HttpHeaders.ETAG)).isEqualTo("\"" + blob.sha256() + "\"");
        assertThat(response.getContentType()).startsWith("text/csv");
    }

    @Test
    void aBlobDeletedBeforeItIsOpenedIsA404WithNoRangeOrFileHeaders() throws IOException {
        Files.delete(dir.resolve(blob.sha256()));
        MockHttpServletResponse response = new MockHttpServletResponse();
        MockHttpServletRequest request = new MockHttpServletRequest("GET", "/blobs/x");
        request.addHeader(HttpHeaders.RANGE, "bytes=10-");
        HttpHeaders headers = new HttpHeaders();
        headers.set(HttpHeaders.CONTENT_DISPOSITION, "attachment");
        assertThatThrownBy(() -> BlobResponses.send(store, blob, "text/csv", headers, request, response))
                .isInstanceOfSatisfying(ApiProblem.class, problem -> assertThat(problem.status())
                        .isEqualTo(HttpStatus.NOT_FOUND));
        assertThat(response.getStatus()).isEqualTo(200); // untouched: the problem handler sets its own
        assertThat(response.getHeaderNames()).doesNotContain(HttpHeaders.CONTENT_RANGE, HttpHeaders.CONTENT_DISPOSITION);
    }
}
