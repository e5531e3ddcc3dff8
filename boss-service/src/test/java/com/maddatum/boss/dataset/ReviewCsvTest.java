package com.maddatum.boss.dataset;

import static org.assertj.core.api.Assertions.assertThat;

import com.maddatum.boss.blob.BlobStore;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

class ReviewCsvTest {

    private static CsvScan.Summary scan(String name, byte[] bytes, int split) {
        CsvScan scan = new CsvScan(name);
        if (split <= 0 || split >= bytes.length) {
            scan.accept(new BlobStore.ChunkView(bytes, 0, bytes.length));
        } else {
            scan.accept(new BlobStore.ChunkView(bytes, 0, split));
            scan.accept(new BlobStore.ChunkView(bytes, split, bytes.length - split));
        }
        return scan.summary();
    }

    private static void check(String text, List<String> columns, long rows) {
        byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
        for (int split = 0; split < bytes.length; split++) {
            CsvScan.Summary s = scan("x.csv", bytes, split);
            assertThat(s.columns()).as("%s split %d", text, split).isEqualTo(columns);
            assertThat(s.rows()).as("%s split %d", text, split).isEqualTo(rows);
        }
    }

    @Test
    void cases() {
        check("a,b\r\n1,2\r\n", List.of("a", "b"), 1);
        check("\uFEFF\"a\",\"b\"\n1,2\n", List.of("a", "b"), 1);
        check("a,b\n\"x\r\ny\",2\n", List.of("a", "b"), 1);
        check("a,b\n", List.of("a", "b"), 0);
        check("a,b", List.of("a", "b"), 0);
        check("\n\r\na,b\n1,2\n\n", List.of("a", "b"), 1);
        check("a,b\r\n\r\n1,2", List.of("a", "b"), 1);
        check("\"a,1\",\"b\"\"q\"\n1,2\n", List.of("a,1", "b\"q"), 1);
        check("\"multi\nline\",b\n1,2\n", List.of("multi\nline", "b"), 1);
    }

    @Test
    void latin1Header() {
        byte[] bytes = "caf\u00e9,b\n1,2\n".getBytes(StandardCharsets.ISO_8859_1);
        assertThat(scan("x.csv", bytes, 0).columns()).containsExactly("caf\u00e9", "b");
    }

    @Test
    void bomNotCsvNamed() {
        // a BOM-prefixed CSV uploaded as .txt: looksLikeCsv sees the BOM as part of the first name (harmless)
        byte[] bytes = "\uFEFFa,b\n1,2\n".getBytes(StandardCharsets.UTF_8);
        assertThat(scan("x.txt", bytes, 0).columns()).containsExactly("a", "b");
    }
}
