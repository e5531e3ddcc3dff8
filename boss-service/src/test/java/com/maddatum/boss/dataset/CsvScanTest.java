package com.maddatum.boss.dataset;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.maddatum.boss.blob.BlobStore;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

/** Columns and rows of CSV files as pandas would read them, learnt from chunks as they pass. */
class CsvScanTest {

    private static CsvScan.Summary scan(String name, byte[] bytes, int chunk) {
        CsvScan scan = new CsvScan(name);
        for (int i = 0; i < bytes.length; i += chunk) {
            scan.accept(new BlobStore.ChunkView(bytes, i, Math.min(chunk, bytes.length - i)));
        }
        return scan.summary();
    }

    private static CsvScan.Summary scan(String name, String text) {
        return scan(name, text.getBytes(StandardCharsets.UTF_8), 1 << 20);
    }

    @ParameterizedTest(name = "chunks of {0}")
    @ValueSource(ints = {1, 2, 3, 5, 1 << 20})
    void countsRowsAndNamesColumnsWhereverChunksEnd(int chunk) {
        byte[] csv = "\uFEFFa,\"b,c\",d\r\n1,\"two\r\nlines\",3\r\n\r\n4,5,6\r\n7,\"say \"\"hi\"\"\",9"
                .getBytes(StandardCharsets.UTF_8);
        CsvScan.Summary summary = scan("x.csv", csv, chunk);
        assertThat(summary.columns()).containsExactly("a", "b,c", "d");
        assertThat(summary.rows()).isEqualTo(3);
    }

    /** Each file split into two chunks at every byte: the split never changes what is learnt. */
    @ParameterizedTest(name = "{0}")
    @MethodSource("filesSplitAnywhere")
    void everySplitIntoTwoChunksGivesTheSameColumnsAndRows(String text, List<String> columns, long rows) {
        byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
        for (int split = 1; split < bytes.length; split++) {
            CsvScan scan = new CsvScan("x.csv");
            scan.accept(new BlobStore.ChunkView(bytes, 0, split));
            scan.accept(new BlobStore.ChunkView(bytes, split, bytes.length - split));
            CsvScan.Summary summary = scan.summary();
            assertThat(summary.columns()).as("split at %d", split).isEqualTo(columns);
            assertThat(summary.rows()).as("split at %d", split).isEqualTo(rows);
        }
    }

    static Stream<Arguments> filesSplitAnywhere() {
        return Stream.of(
                Arguments.of("a,b\r\n1,2\r\n", List.of("a", "b"), 1L),
                Arguments.of("\uFEFF\"a\",\"b\"\n1,2\n", List.of("a", "b"), 1L),
                Arguments.of("a,b\n\"x\r\ny\",2\n", List.of("a", "b"), 1L),
                Arguments.of("\n\r\na,b\n1,2\n\n", List.of("a", "b"), 1L),
                Arguments.of("a,b\r\n\r\n1,2", List.of("a", "b"), 1L),
                Arguments.of("\"a,1\",\"b\"\"q\"\n1,2\n", List.of("a,1", "b\"q"), 1L),
                Arguments.of("\"multi\nline\",b\n1,2\n", List.of("multi\nline", "b"), 1L));
    }

    @Test
    void aByteOrderMarkIsDroppedWhateverTheName() {
        byte[] bytes = "\uFEFFa,b\n1,2\n".getBytes(StandardCharsets.UTF_8);
        assertThat(scan("x.txt", bytes, 1 << 20).columns()).containsExactly("a", "b");
    }

    @Test
    void aLastLineWithoutLineBreakCountsAndTrailingBlankLinesDoNot() {
        assertThat(scan("x.csv", "a,b\n1,2").rows()).isEqualTo(1);
        assertThat(scan("x.csv", "a,b\n1,2\n").rows()).isEqualTo(1);
        assertThat(scan("x.csv", "a,b\n1,2\n\n\n").rows()).isEqualTo(1);
        assertThat(scan("x.csv", "a,b\n").rows()).isZero();
        assertThat(scan("x.csv", "a,b").rows()).isZero();
        assertThat(scan("x.csv", "a,b").columns()).containsExactly("a", "b");
    }

    @Test
    void blankLinesBeforeTheHeaderAreSkipped() {
        CsvScan.Summary summary = scan("x.csv", "\n\r\nx,y\n1,2\n");
        assertThat(summary.columns()).containsExactly("x", "y");
        assertThat(summary.rows()).isEqualTo(1);
    }

    @Test
    void duplicateNamesAreReportedAsTheyAre() {
        assertThat(scan("x.csv", "a,a,,b\n").columns()).containsExactly("a", "a", "", "b");
    }

    @Test
    void aHeaderThatIsNotUtf8IsLatin1() {
        byte[] latin1 = "caf\u00e9,na\u00efve\n1,2\n".getBytes(StandardCharsets.ISO_8859_1);
        assertThat(scan("x.csv", latin1, 1 << 20).columns()).containsExactly("caf\u00e9", "na\u00efve");
        assertThat(scan("x.csv", "caf\u00e9\n".getBytes(StandardCharsets.UTF_8), 1 << 20).columns())
                .containsExactly("caf\u00e9");
    }

    @Test
    void aCsvNameWithANulByteIsNotText() {
        byte[] binary = {'a', ',', 'b', 0, '\n'};
        assertThatThrownBy(() -> scan("data.CSV", binary, 1 << 20)).isInstanceOf(CsvScan.NotText.class);
    }

    @Test
    void otherNamesAreCsvWhenTheyLookLikeIt() {
        assertThat(scan("data.txt", "a,b,c\n1,2,3\n4,5,6\n").rows()).isEqualTo(2);
        assertThat(scan("data", "a,b\n1,2").columns()).containsExactly("a", "b");
        assertThat(scan("notes.txt", "Dear reader, hello.\nThis is prose.\n")).isNull();
        assertThat(scan("one.txt", "just words\n")).isNull();
        assertThat(scan("model.bin", new byte[] {'a', ',', 'b', 0, '\n'}, 1 << 20)).isNull();
    }

    @Test
    void anEmptyCsvHasNoColumns() {
        assertThat(scan("x.csv", new byte[0], 1).columns()).isEmpty();
        assertThat(scan("x.csv", "\n\n").rows()).isZero();
    }

    @Test
    void fieldsSplitAsRfc4180Says() {
        assertThat(CsvScan.split("a,\"b\"\"c\",d\"e\",")).isEqualTo(List.of("a", "b\"c", "d\"e\"", ""));
    }
}
