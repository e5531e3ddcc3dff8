package com.maddatum.boss.dataset;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.Random;
import org.junit.jupiter.api.Test;

class ReviewMultipartFuzzTest {

    @Test
    void randomSplitsAndNearMisses() throws IOException {
        Random random = new Random(1);
        for (int round = 0; round < 3000; round++) {
            String boundary = "b" + Integer.toHexString(random.nextInt()) + "-x";
            byte[] delimiter = ("\r\n--" + boundary).getBytes(StandardCharsets.ISO_8859_1);
            ByteArrayOutputStream content = new ByteArrayOutputStream();
            int size = random.nextInt(random.nextBoolean() ? 200 : 300_000);
            while (content.size() < size) {
                int kind = random.nextInt(10);
                if (kind == 0) {
                    // a near miss: a prefix of the delimiter
                    content.write(delimiter, 0, 1 + random.nextInt(delimiter.length - 1));
                    content.write(0);
                } else if (kind == 1) {
                    content.write('\r');
                } else {
                    content.write(random.nextInt(256));
                }
            }
            byte[] file = content.toByteArray();
            ByteArrayOutputStream body = new ByteArrayOutputStream();
            body.writeBytes(("--" + boundary + "\r\nContent-Disposition: form-data; name=\"other\"\r\n\r\nxyz\r\n")
                    .getBytes(StandardCharsets.ISO_8859_1));
            body.writeBytes(("--" + boundary + "\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.csv\"\r\n"
                    + "Content-Type: text/csv\r\n\r\n").getBytes(StandardCharsets.ISO_8859_1));
            body.writeBytes(file);
            body.writeBytes(("\r\n--" + boundary + "--\r\n").getBytes(StandardCharsets.ISO_8859_1));
            int maxRead = 1 + random.nextInt(random.nextBoolean() ? 7 : 100_000);
            InputStream in = new FilterInputStream(new ByteArrayInputStream(body.toByteArray())) {
                @Override
                public int read(byte[] b, int off, int len) throws IOException {
                    return super.read(b, off, Math.min(len, 1 + random.nextInt(maxRead)));
                }
            };
            MultipartReader reader = new MultipartReader(in, boundary);
            MultipartReader.Part part;
            byte[] got = null;
            while ((part = reader.next()) != null) {
                if ("file".equals(part.name())) {
                    got = part.body().readAllBytes();
                }
            }
            assertThat(got).as("round %d size %d", round, size).isEqualTo(file);
        }
    }
}
