package com.maddatum.boss.dataset;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** multipart/form-data as curl and browsers send it, read as a stream however the bytes arrive. */
class MultipartReaderTest {

    static final String BOUNDARY = "------------------------d74496d66958873e";

    /** A body as {@code curl -F note=hi -F file=@name} sends it. */
    static byte[] body(String boundary, byte[] file, String fileName) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.writeBytes(("--" + boundary + "\r\nContent-Disposition: form-data; name=\"note\"\r\n\r\nhi\r\n"
                + "--" + boundary + "\r\nContent-Disposition: form-data; name=\"file\"; filename=\"" + fileName
                + "\"\r\nContent-Type: text/csv\r\n\r\n").getBytes(StandardCharsets.UTF_8));
        out.writeBytes(file);
        out.writeBytes(("\r\n--" + boundary + "--\r\n").getBytes(StandardCharsets.UTF_8));
        return out.toByteArray();
    }

    /** Hands out at most {@code step} bytes per read, as a slow network does. */
    static InputStream trickle(byte[] bytes, int step) {
        return new FilterInputStream(new ByteArrayInputStream(bytes)) {
            @Override
            public int read(byte[] b, int off, int len) throws IOException {
                return super.read(b, off, Math.min(len, step));
            }
        };
    }

    private static byte[] readFile(InputStream in, String boundary) throws IOException {
        MultipartReader reader = new MultipartReader(in, boundary);
        MultipartReader.Part note = reader.next();
        assertThat(note.name()).isEqualTo("note");
        assertThat(note.fileName()).isNull();
        assertThat(note.body().readAllBytes()).isEqualTo("hi".getBytes(StandardCharsets.UTF_8));
        MultipartReader.Part file = reader.next();
        assertThat(file.name()).isEqualTo("file");
        byte[] content = file.body().readAllBytes();
        assertThat(reader.next()).isNull();
        return content;
    }

    @ParameterizedTest(name = "{0} bytes per read")
    @ValueSource(ints = {1, 2, 3, 7, 41, 42, 43, 1000, 65536, 1 << 20})
    void readsTheFileWhateverTheReadsAre(int step) throws IOException {
        // Bytes that look like a boundary's start without being one, at the edges and in the middle.
        ByteArrayOutputStream file = new ByteArrayOutputStream();
        file.writeBytes("\r\n--".getBytes(StandardCharsets.UTF_8));
        file.writeBytes(("a,b\r\n--" + BOUNDARY.substring(0, 20) + "x\r\n").getBytes(StandardCharsets.UTF_8));
        byte[] noise = new byte[200_000];
        new Random(step).nextBytes(noise);
        file.writeBytes(noise);
        file.writeBytes(("\r\n--" + BOUNDARY.substring(0, BOUNDARY.length() - 1)).getBytes(StandardCharsets.UTF_8));
        file.writeBytes("\r\r\n-".getBytes(StandardCharsets.UTF_8));
        byte[] content = file.toByteArray();
        assertThat(readFile(trickle(body(BOUNDARY, content, "wine.csv"), step), BOUNDARY)).isEqualTo(content);
    }

    /**
     * Random files thick with prefixes of the delimiter and stray CRs, random boundaries, reads of random
     * lengths: the file always comes back byte for byte.
     */
    @Test
    void randomFilesFullOfNearMissesOfTheBoundaryComeBackWhole() throws IOException {
        Random random = new Random(1);
        for (int round = 0; round < 100; round++) {
            String boundary = "b" + Integer.toHexString(random.nextInt()) + "-x";
            byte[] delimiter = ("\r\n--" + boundary).getBytes(StandardCharsets.ISO_8859_1);
            ByteArrayOutputStream content = new ByteArrayOutputStream();
            int size = random.nextInt(random.nextBoolean() ? 200 : 300_000);
            while (content.size() < size) {
                int kind = random.nextInt(10);
                if (kind == 0) {
                    content.write(delimiter, 0, 1 + random.nextInt(delimiter.length - 1));
                    content.write(0);
                } else if (kind == 1) {
                    content.write('\r');
                } else {
                    content.write(random.nextInt(256));
                }
            }
            byte[] file = content.toByteArray();
            int maxRead = 1 + random.nextInt(random.nextBoolean() ? 7 : 100_000);
            InputStream in = new FilterInputStream(new ByteArrayInputStream(body(boundary, file, "a.csv"))) {
                @Override
                public int read(byte[] b, int off, int len) throws IOException {
                    return super.read(b, off, Math.min(len, 1 + random.nextInt(maxRead)));
                }
            };
            assertThat(readFile(in, boundary)).as("round %d, %d bytes", round, size).isEqualTo(file);
        }
    }

    @Test
    void anEmptyFileIsEmpty() throws IOException {
        assertThat(readFile(new ByteArrayInputStream(body(BOUNDARY, new byte[0], "e.csv")), BOUNDARY)).isEmpty();
    }

    @Test
    void thePreambleAndTransportPaddingAreSkipped() throws IOException {
        byte[] body = ("ignored preamble\r\n--b1 \t\r\nContent-Disposition: form-data; name=\"file\"; filename=\"x\"\r\n"
                + "\r\nabc\r\n--b1--").getBytes(StandardCharsets.UTF_8);
        MultipartReader reader = new MultipartReader(new ByteArrayInputStream(body), "b1");
        MultipartReader.Part part = reader.next();
        assertThat(part.body().readAllBytes()).isEqualTo("abc".getBytes(StandardCharsets.UTF_8));
        assertThat(reader.next()).isNull();
    }

    @Test
    void aPartLeftUnreadIsSkipped() throws IOException {
        MultipartReader reader = new MultipartReader(new ByteArrayInputStream(body(BOUNDARY, new byte[] {1, 2},
                "f.bin")), BOUNDARY);
        reader.next(); // the note, not read
        assertThat(reader.next().body().readAllBytes()).containsExactly(1, 2);
    }

    @Test
    void theFileNameLosesAnyPathAndKeepsUtf8() throws IOException {
        byte[] body = ("--b\r\nContent-Disposition: form-data; name=\"file\"; filename=\"C:\\\\data\\\\vin\u00e9.csv\"\r\n"
                + "\r\nx\r\n--b--\r\n").getBytes(StandardCharsets.UTF_8);
        MultipartReader.Part part = new MultipartReader(new ByteArrayInputStream(body), "b").next();
        assertThat(part.fileName()).isEqualTo("vin\u00e9.csv");
    }

    @Test
    void aBodyCutShortIsMalformed() {
        byte[] whole = body(BOUNDARY, "a,b\n1,2\n".getBytes(StandardCharsets.UTF_8), "w.csv");
        byte[] cut = java.util.Arrays.copyOf(whole, whole.length - BOUNDARY.length() - 8);
        assertThatThrownBy(() -> readFile(new ByteArrayInputStream(cut), BOUNDARY))
                .isInstanceOf(MultipartReader.Malformed.class).hasMessageContaining("closing boundary");
    }

    @Test
    void aBodyWithoutTheBoundaryIsMalformed() {
        byte[] body = "just some bytes".getBytes(StandardCharsets.UTF_8);
        assertThatThrownBy(() -> new MultipartReader(new ByteArrayInputStream(body), "b").next())
                .isInstanceOf(MultipartReader.Malformed.class);
    }

    @Test
    void theBoundaryComesFromTheContentType() throws IOException {
        assertThat(MultipartReader.boundaryOf("multipart/form-data; boundary=abc")).isEqualTo("abc");
        assertThat(MultipartReader.boundaryOf("multipart/form-data; boundary=\"a b:c\"")).isEqualTo("a b:c");
        assertThat(MultipartReader.boundaryOf("application/x-www-form-urlencoded")).isNull();
        assertThat(MultipartReader.boundaryOf("text/csv")).isNull();
        assertThat(MultipartReader.boundaryOf(null)).isNull();
        assertThat(MultipartReader.boundaryOf("not a type")).isNull();
        assertThatThrownBy(() -> MultipartReader.boundaryOf("multipart/form-data"))
                .isInstanceOf(MultipartReader.Malformed.class);
    }

    @Test
    void dispositionParametersAreUnquoted() {
        assertThat(MultipartReader.parameters(" form-data; name=\"file\"; filename=\"a;b \\\"c\\\".csv\""))
                .containsEntry("name", "file").containsEntry("filename", "a;b \"c\".csv");
    }
}
