package com.maddatum.boss.dataset;

import com.maddatum.boss.blob.BlobStore;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.function.Consumer;

/**
 * Learns, from the bytes of an upload as they stream past, whether it is CSV and if so its header's column
 * names and its number of data rows, so that nothing is read twice. A file is CSV when its name ends in
 * {@code .csv}, or when its first line has a comma and its second line as many fields. For a {@code .csv}
 * name, a NUL byte in the first MiB means it is not text at all, and the upload is refused ({@link NotText}).
 *
 * <p>Records are counted as RFC 4180 and pandas read them: a line break inside quotes does not end a
 * record, a quote only opens a quoted field at the field's start, CRLF and LF both end records, blank lines
 * are not records, and a last record without a line break counts. The header is the first record; its
 * names are taken as they are (duplicates too), after a UTF-8 byte order mark, decoded as UTF-8 or, when
 * they are not valid UTF-8, as Latin-1.
 */
final class CsvScan implements Consumer<BlobStore.ChunkView> {

    /** A header longer than this is not kept (its names are not reported); the rows are still counted. */
    static final int MAX_HEADER_BYTES = 1 << 20;

    /** A {@code .csv} upload whose first chunk holds a NUL byte. */
    static final class NotText extends RuntimeException {
        NotText() {
            super(null, null, false, false);
        }
    }

    /** What a CSV upload holds. {@code columns} is null when the header was too long to keep. */
    record Summary(List<String> columns, long rows) {}

    private enum State { FIELD_START, UNQUOTED, QUOTED, QUOTE_IN_QUOTED }

    private final boolean csvName;
    private Boolean csv;
    private State state = State.FIELD_START;
    private boolean recordHasContent;
    private long records;
    private final ByteArrayOutputStream header = new ByteArrayOutputStream();
    private boolean headerDone;
    private boolean headerTooLong;

    CsvScan(String name) {
        this.csvName = name.toLowerCase(Locale.ROOT).endsWith(".csv");
    }

    @Override
    public void accept(BlobStore.ChunkView chunk) {
        byte[] bytes = chunk.bytes();
        int from = chunk.offset();
        int end = chunk.offset() + chunk.length();
        if (csv == null) {
            boolean binary = hasNul(bytes, from, end);
            if (csvName && binary) {
                throw new NotText();
            }
            csv = csvName || (!binary && looksLikeCsv(bytes, from, end));
        }
        if (csv) {
            scan(bytes, from, end);
        }
    }

    private void scan(byte[] bytes, int from, int end) {
        State s = state;
        boolean content = recordHasContent;
        for (int i = from; i < end; i++) {
            byte c = bytes[i];
            boolean endsRecord = false;
            switch (s) {
                case FIELD_START -> {
                    if (c == '"') {
                        s = State.QUOTED;
                    } else if (c == '\n') {
                        endsRecord = true;
                    } else if (c != ',') {
                        s = State.UNQUOTED;
                    }
                }
                case UNQUOTED -> {
                    if (c == ',') {
                        s = State.FIELD_START;
                    } else if (c == '\n') {
                        endsRecord = true;
                    }
                }
                case QUOTED -> {
                    if (c == '"') {
                        s = State.QUOTE_IN_QUOTED;
                    }
                }
                case QUOTE_IN_QUOTED -> {
                    if (c == '"') {
                        s = State.QUOTED;
                    } else if (c == ',') {
                        s = State.FIELD_START;
                    } else if (c == '\n') {
                        endsRecord = true;
                    } else {
                        s = State.UNQUOTED; // "ab"c: lenient, as pandas is
                    }
                }
            }
            if (!headerDone) {
                keepHeaderByte(c);
            }
            if (endsRecord) {
                s = State.FIELD_START;
                if (content) {
                    records++;
                    headerDone = true;
                } else if (!headerDone) {
                    header.reset(); // a blank line before the header
                }
                content = false;
            } else if (c != '\r') {
                content = true;
            }
        }
        state = s;
        recordHasContent = content;
    }

    private void keepHeaderByte(byte c) {
        if (header.size() < MAX_HEADER_BYTES) {
            header.write(c);
        } else {
            headerTooLong = true;
        }
    }

    /** Null when the upload is not CSV; call once every chunk has passed. */
    Summary summary() {
        if (csv == null ? !csvName : !csv) {
            return null;
        }
        long all = records + (recordHasContent ? 1 : 0);
        if (all == 0) {
            return new Summary(List.of(), 0);
        }
        return new Summary(headerTooLong ? null : columns(header.toByteArray()), all - 1);
    }

    static List<String> columns(byte[] line) {
        int start = line.length >= 3 && (line[0] & 0xff) == 0xEF && (line[1] & 0xff) == 0xBB
                && (line[2] & 0xff) == 0xBF ? 3 : 0; // a byte order mark is no part of the first name
        int end = line.length;
        while (end > start && (line[end - 1] == '\n' || line[end - 1] == '\r')) {
            end--;
        }
        return split(decode(java.util.Arrays.copyOfRange(line, start, end), end - start));
    }

    /** UTF-8 when the bytes are valid UTF-8, else Latin-1 (which decodes any bytes): Excel's two habits. */
    static String decode(byte[] bytes, int length) {
        try {
            return StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(bytes, 0, length))
                    .toString();
        } catch (CharacterCodingException notUtf8) {
            return new String(bytes, 0, length, StandardCharsets.ISO_8859_1);
        }
    }

    /** One CSV record's fields, quotes removed and doubled quotes made single. */
    static List<String> split(String record) {
        List<String> fields = new ArrayList<>();
        StringBuilder field = new StringBuilder();
        boolean inQuotes = false;
        boolean fieldStart = true;
        for (int i = 0; i < record.length(); i++) {
            char c = record.charAt(i);
            if (inQuotes) {
                if (c == '"' && i + 1 < record.length() && record.charAt(i + 1) == '"') {
                    field.append('"');
                    i++;
                } else if (c == '"') {
                    inQuotes = false;
                } else {
                    field.append(c);
                }
            } else if (c == '"' && fieldStart) {
                inQuotes = true;
                fieldStart = false;
            } else if (c == ',') {
                fields.add(field.toString());
                field.setLength(0);
                fieldStart = true;
            } else {
                field.append(c);
                fieldStart = false;
            }
        }
        fields.add(field.toString());
        return fields;
    }

    private static boolean hasNul(byte[] bytes, int from, int end) {
        for (int i = from; i < end; i++) {
            if (bytes[i] == 0) {
                return true;
            }
        }
        return false;
    }

    /** A file not named .csv is taken for CSV when its first line has a comma and its second as many fields. */
    static boolean looksLikeCsv(byte[] bytes, int from, int end) {
        int firstEnd = indexOf(bytes, from, end, (byte) '\n');
        int firstLineEnd = firstEnd < 0 ? end : firstEnd;
        List<String> first = split(decode(java.util.Arrays.copyOfRange(bytes, from, firstLineEnd),
                firstLineEnd - from).stripTrailing());
        if (first.size() < 2) {
            return false;
        }
        if (firstEnd < 0) {
            return true;
        }
        int secondEnd = indexOf(bytes, firstEnd + 1, end, (byte) '\n');
        if (secondEnd < 0) {
            return firstEnd + 1 >= end || split(decode(java.util.Arrays.copyOfRange(bytes, firstEnd + 1, end),
                    end - firstEnd - 1).stripTrailing()).size() == first.size();
        }
        List<String> second = split(decode(java.util.Arrays.copyOfRange(bytes, firstEnd + 1, secondEnd),
                secondEnd - firstEnd - 1).stripTrailing());
        return second.size() == first.size();
    }

    private static int indexOf(byte[] bytes, int from, int end, byte wanted) {
        for (int i = from; i < end; i++) {
            if (bytes[i] == wanted) {
                return i;
            }
        }
        return -1;
    }
}
