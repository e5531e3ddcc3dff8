package com.maddatum.worker.runner;

import java.nio.charset.StandardCharsets;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import tools.jackson.databind.DeserializationFeature;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * Finds the progress lines in a script's stdout as it is read: a line that begins with
 * {@value #PREFIX} followed by one JSON object with a whole-number {@code step} from 0 and a finite
 * numeric {@code value} (other keys allowed) is a {@link Progress.Point}. Every other line costs a
 * comparison of its first bytes and a scan for its newline; a progress line is held to
 * {@value #MAX_LINE} bytes and parsed once. One that does not fit the rule is ignored and counted,
 * with a warning at the 1st, 10th, 100th... so that a script printing them by the million fills no
 * log. Nothing here may throw into the pump: a pump that stopped would leave the script blocked on
 * a full pipe.
 *
 * <p>A whole number only, although the contract says "numeric": {@code 3.0} is step 3, but {@code 2.5}
 * is refused here rather than sent to a Boss that compares steps for equality.
 */
final class ProgressLines {

    private static final Logger log = LoggerFactory.getLogger(ProgressLines.class);

    static final String PREFIX = "##progress ";
    private static final byte[] PREFIX_BYTES = PREFIX.getBytes(StandardCharsets.US_ASCII);
    /** The most bytes a progress line may have after its prefix; a point needs a few dozen. */
    static final int MAX_LINE = 4096;
    /** Steps beyond this are not whole numbers a double holds exactly. */
    private static final double MAX_STEP = 9_007_199_254_740_992d; // 2^53
    /**
     * Strict about what follows the object: a line that has more (a handler's Outcome printed into the
     * middle of a progress line, say) is not one point.
     */
    private static final JsonMapper JSON = JsonMapper.builder()
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS).build();

    private final Progress progress;
    private final String run;
    private final byte[] line = new byte[MAX_LINE];
    private int length;
    /** How many bytes of the prefix this line has matched so far; -1 once it cannot be a progress line. */
    private int matched;
    private boolean tooLong;

    ProgressLines(Progress progress, String run) {
        this.progress = progress;
        this.run = run;
    }

    /** Reads the next chunk of stdout. */
    void accept(byte[] bytes, int n) {
        int i = 0;
        while (i < n) {
            if (matched < 0) { // not a progress line: on to its end
                while (i < n && bytes[i] != '\n') {
                    i++;
                }
                if (i == n) {
                    return;
                }
            }
            byte b = bytes[i++];
            if (b == '\n') {
                endLine();
            } else if (matched < PREFIX_BYTES.length) {
                matched = b == PREFIX_BYTES[matched] ? matched + 1 : -1;
            } else if (length < MAX_LINE) {
                line[length++] = b;
            } else {
                tooLong = true;
            }
        }
    }

    /** The stream ended: a last line without its newline counts too. */
    void finish() {
        endLine();
    }

    private void endLine() {
        if (matched == PREFIX_BYTES.length) {
            String problem = tooLong ? "longer than " + MAX_LINE + " bytes" : parse();
            if (problem != null) {
                long count = progress.malformed();
                if (isPowerOfTen(count)) {
                    log.warn("progress line ignored run={} reason={} ignoredSoFar={} line={}", run, problem, count,
                            abbreviate(new String(line, 0, length, StandardCharsets.UTF_8)));
                }
            }
        }
        matched = 0;
        length = 0;
        tooLong = false;
    }

    /** Adds the line's point; else says what is wrong with it. */
    private String parse() {
        try {
            JsonNode node = JSON.readTree(new String(line, 0, length, StandardCharsets.UTF_8));
            if (node == null || !node.isObject()) {
                return "not a JSON object";
            }
            JsonNode step = node.get("step");
            JsonNode value = node.get("value");
            if (step == null || !step.isNumber() || !wholeFromZero(step)) {
                return "step is not a whole number from 0";
            }
            if (value == null || !value.isNumber() || !Double.isFinite(value.doubleValue())) {
                return "value is not a finite number";
            }
            progress.add(new Progress.Point((long) step.doubleValue(), value.doubleValue()));
            return null;
        } catch (RuntimeException e) { // JacksonException, and whatever else a hostile line provokes
            String message = String.valueOf(e.getMessage());
            int end = message.indexOf('\n');
            return "not JSON: " + abbreviate(end < 0 ? message : message.substring(0, end));
        }
    }

    private static boolean wholeFromZero(JsonNode step) {
        double d = step.doubleValue();
        return d >= 0 && d <= MAX_STEP && d == Math.rint(d);
    }

    private static boolean isPowerOfTen(long n) {
        while (n >= 10 && n % 10 == 0) {
            n /= 10;
        }
        return n == 1;
    }

    private static String abbreviate(String text) {
        return text.length() > 200 ? text.substring(0, 200) + "..." : text;
    }
}
