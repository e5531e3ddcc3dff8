package com.maddatum.worker.runner;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Progress lines in stdout: what counts as a point, what is ignored, and that none is ever the Outcome. */
class ProgressLinesTest {

    @TempDir
    Path dir;

    private final Progress progress = new Progress();
    private final ProgressLines lines = new ProgressLines(progress, "test-run");

    private void feed(String text) {
        byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
        lines.accept(bytes, bytes.length);
    }

    private List<Progress.Point> points() {
        return progress.pending().points();
    }

    @Test
    void aProgressLineIsAPointWhereverTheChunksSplitIt() {
        byte[] text = ("epoch 1\n##progress {\"step\": 1, \"value\": 0.5}\n##progress {\"step\":2,\"value\":0.25,"
                + "\"lr\":0.001}\r\nnot ##progress {\"step\": 9, \"value\": 9}\n").getBytes(StandardCharsets.UTF_8);
        for (byte b : text) { // one byte at a time: the prefix and the JSON cut at every place
            lines.accept(new byte[] {b}, 1);
        }
        assertThat(points()).containsExactly(new Progress.Point(1, 0.5), new Progress.Point(2, 0.25));
        assertThat(progress.malformedLines()).isZero();
    }

    @Test
    void aLastLineWithoutItsNewlineCountsOnceTheStreamEnds() {
        feed("##progress {\"step\": 3, \"value\": 1}");
        assertThat(points()).isEmpty();
        lines.finish();
        assertThat(points()).containsExactly(new Progress.Point(3, 1.0));
    }

    @Test
    void aWholeNumberWrittenAsADecimalIsAStep() {
        feed("##progress {\"step\": 4.0, \"value\": -2}\n");
        assertThat(points()).containsExactly(new Progress.Point(4, -2.0));
    }

    @Test
    void malformedProgressLinesAreIgnoredAndCountedAndTheNextOneStillCounts() {
        feed("""
                ##progress not json
                ##progress [1, 2]
                ##progress {"value": 1}
                ##progress {"step": -1, "value": 1}
                ##progress {"step": 2.5, "value": 1}
                ##progress {"step": "3", "value": 1}
                ##progress {"step": 1e300, "value": 1}
                ##progress {"step": 3, "value": "0.5"}
                ##progress {"step": 3, "value": NaN}
                ##progress {"step": 3, "value": 1e400}
                ##progress {"step": 3}
                ##progress {"step": 3, "value": 1
                ##progress {"step": 3, "value": 1}{"status": 200, "loss": 0.125}
                ##progress {"step": 3, "value": 1} and more
                ##progress{"step": 3, "value": 1}
                 ##progress {"step": 3, "value": 1}
                ##progress {"step": 5, "value": 0.125}
                """);
        assertThat(points()).containsExactly(new Progress.Point(5, 0.125));
        // The two lines without the exact prefix at their start are not progress lines at all.
        assertThat(progress.malformedLines()).isEqualTo(14);
    }

    @Test
    void aHugeProgressLineIsIgnoredWithoutBeingHeldAndAHugeOtherLineIsSkipped() {
        feed("##progress {\"step\": 1, \"value\": 1, \"pad\": \"" + "x".repeat(1 << 20) + "\"}\n");
        feed("y".repeat(1 << 20) + "##progress {\"step\": 2, \"value\": 2}\n");
        feed("##progress {\"step\": 3, \"value\": 3}\n");
        assertThat(points()).containsExactly(new Progress.Point(3, 3.0));
        assertThat(progress.malformedLines()).isEqualTo(1);
    }

    @Test
    void onlyTheLatestThousandWaitAndAnAcknowledgementKeepsWhatCameAfterIt() {
        for (int i = 0; i < 1500; i++) {
            progress.add(new Progress.Point(i, i));
        }
        Progress.Batch batch = progress.pending();
        assertThat(batch.points()).hasSize(Progress.MAX_PENDING);
        assertThat(batch.points().get(0).step()).isEqualTo(500);
        assertThat(batch.last()).isEqualTo(new Progress.Point(1499, 1499));
        assertThat(progress.dropped()).isEqualTo(500);

        progress.add(new Progress.Point(1500, 1500)); // while the heartbeat was out
        progress.acknowledge(batch);
        assertThat(points()).containsExactly(new Progress.Point(1500, 1500));
        assertThat(progress.last()).isEqualTo(new Progress.Point(1500, 1500));
        progress.acknowledge(batch); // a second acknowledgement of the same batch drops nothing more
        assertThat(points()).hasSize(1);
    }

    @Test
    void theOutcomeIsTheLastLineThatIsNotAProgressLine() {
        OutputCapture stdout = capture("epoch 1\n{\"status\":200,\"loss\":0.5}\n##progress {\"step\": 7, \"value\": 0.5}\n\n",
                64 * 1024);
        assertThat(stdout.lastNonEmptyLine()).isEqualTo("{\"status\":200,\"loss\":0.5}");
        assertThat(progress.last()).isEqualTo(new Progress.Point(7, 0.5));
    }

    @Test
    void onlyProgressLinesMeanNoOutcome() {
        OutputCapture stdout = capture("##progress {\"step\": 1, \"value\": 1}\n##progress {\"step\": 2", 64 * 1024);
        assertThat(stdout.lastNonEmptyLine()).isNull();
        assertThat(progress.malformedLines()).isEqualTo(1); // the cut last line, read at the end of the stream
    }

    @Test
    void progressLinesAreReadPastTheLogCap() {
        String many = "##progress {\"step\": 1, \"value\": 1}\n".repeat(100) + "##progress {\"step\": 2, \"value\": 2}\n";
        OutputCapture stdout = new OutputCapture(new ByteArrayInputStream(many.getBytes(StandardCharsets.UTF_8)),
                dir.resolve("stdout.log"), 64, 1024, null, lines);
        stdout.run();
        assertThat(progress.last()).isEqualTo(new Progress.Point(2, 2.0));
        assertThat(stdout.truncated()).isTrue();
    }

    private OutputCapture capture(String text, int tail) {
        OutputCapture capture = new OutputCapture(new ByteArrayInputStream(text.getBytes(StandardCharsets.UTF_8)),
                dir.resolve("stdout.log"), 1 << 20, tail, null, lines);
        capture.run();
        return capture;
    }
}
