package com.maddatum.boss.dataset;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.springframework.http.InvalidMediaTypeException;
import org.springframework.http.MediaType;

/**
 * {@code multipart/form-data} (RFC 7578) read as a stream: each part's body is an {@link InputStream} that
 * ends at the next boundary, read through a 64 KiB buffer, so a file of any size passes through without
 * being held in memory or spooled to disk (what the servlet container's multipart support would do).
 */
final class MultipartReader {

    static final int MAX_HEADER_LINE = 8 * 1024;
    static final int MAX_HEADERS = 32;
    private static final int BUFFER = 64 * 1024;

    /** A part: its form field name, the file name the client gave (may be null), and its bytes. */
    record Part(String name, String fileName, InputStream body) {}

    /** The body is not the multipart it says it is. */
    static final class Malformed extends IOException {
        Malformed(String message) {
            super(message);
        }
    }

    private final InputStream in;
    /** {@code CRLF--boundary}: what ends a part's body. */
    private final byte[] delimiter;
    private final byte[] buffer;
    private int head;
    private int tail;
    private boolean eof;
    /** The last read met a delimiter (and consumed it); the next part's headers come next. */
    private boolean atDelimiter;
    private boolean finished;
    private PartBody current;

    MultipartReader(InputStream in, String boundary) {
        this.in = in;
        this.delimiter = ("\r\n--" + boundary).getBytes(StandardCharsets.ISO_8859_1);
        this.buffer = new byte[BUFFER + delimiter.length];
        // The first boundary has no line break before it: pretend it has, so that every one looks the same.
        buffer[0] = '\r';
        buffer[1] = '\n';
        tail = 2;
    }

    /** The boundary of a {@code multipart/form-data} content type; null for any other type. */
    static String boundaryOf(String contentType) throws Malformed {
        if (contentType == null) {
            return null;
        }
        MediaType type;
        try {
            type = MediaType.parseMediaType(contentType);
        } catch (InvalidMediaTypeException e) {
            return null;
        }
        if (!MediaType.MULTIPART_FORM_DATA.equalsTypeAndSubtype(type)) {
            return null;
        }
        String boundary = type.getParameter("boundary");
        if (boundary != null && boundary.length() >= 2 && boundary.startsWith("\"") && boundary.endsWith("\"")) {
            boundary = boundary.substring(1, boundary.length() - 1);
        }
        if (boundary == null || boundary.isEmpty() || boundary.length() > 70) {
            throw new Malformed("a multipart/form-data body needs a boundary of 1-70 characters in its Content-Type");
        }
        return boundary;
    }

    /** The next part, ready to read; null after the last. Whatever was left of the previous part is skipped. */
    Part next() throws IOException {
        if (finished) {
            return null;
        }
        if (current != null) {
            current.skipRest();
        } else {
            skipToDelimiter(); // the preamble, usually empty
        }
        atDelimiter = false;
        if (peek(0) == '-' && peek(1) == '-') {
            finished = true;
            return null;
        }
        int b;
        while ((b = readByte()) == ' ' || b == '\t') {
            // transport padding after a boundary is allowed
        }
        if (b != '\r' || readByte() != '\n') {
            throw new Malformed("a boundary line does not end with a line break");
        }
        Map<String, String> disposition = null;
        for (int lines = 0; ; lines++) {
            String line = readLine();
            if (line.isEmpty()) {
                break;
            }
            if (lines >= MAX_HEADERS) {
                throw new Malformed("a part has more than " + MAX_HEADERS + " header lines");
            }
            int colon = line.indexOf(':');
            if (colon > 0 && line.substring(0, colon).trim().equalsIgnoreCase("Content-Disposition")) {
                disposition = parameters(line.substring(colon + 1));
            }
        }
        current = new PartBody();
        String name = disposition == null ? null : disposition.get("name");
        return new Part(name, baseName(disposition == null ? null : disposition.get("filename")), current);
    }

    private void skipToDelimiter() throws IOException {
        byte[] scratch = new byte[8192];
        while (readBody(scratch, 0, scratch.length) >= 0) {
            // discarded
        }
    }

    /**
     * Up to {@code length} bytes before the next delimiter; -1 once it is reached (it is consumed then).
     * Bytes that could be the start of a delimiter split across reads stay buffered until it is clear.
     */
    private int readBody(byte[] into, int offset, int length) throws IOException {
        if (atDelimiter) {
            return -1;
        }
        if (length == 0) {
            return 0;
        }
        fill();
        int found = indexOfDelimiter();
        int available;
        if (found >= 0) {
            available = found - head;
            if (available == 0) {
                head += delimiter.length;
                atDelimiter = true;
                return -1;
            }
        } else {
            if (eof) {
                throw new Malformed("the body ended before the multipart's closing boundary");
            }
            available = tail - head - (delimiter.length - 1);
        }
        int n = Math.min(length, available);
        System.arraycopy(buffer, head, into, offset, n);
        head += n;
        return n;
    }

    /**
     * Reads more unless half a buffer is waiting already; always leaves at least a delimiter's length
     * buffered (or the end of the stream), so a delimiter is never missed for being cut in two.
     */
    private void fill() throws IOException {
        int buffered = tail - head;
        if (eof || (buffered >= delimiter.length && buffered >= buffer.length / 2)) {
            return;
        }
        if (head > 0) {
            System.arraycopy(buffer, head, buffer, 0, buffered);
            tail = buffered;
            head = 0;
        }
        do {
            int read = in.read(buffer, tail, buffer.length - tail);
            if (read < 0) {
                eof = true;
                return;
            }
            tail += read;
        } while (tail - head < delimiter.length);
    }

    private int indexOfDelimiter() {
        int last = tail - delimiter.length;
        outer:
        for (int i = head; i <= last; i++) {
            if (buffer[i] != '\r') {
                continue;
            }
            for (int j = 1; j < delimiter.length; j++) {
                if (buffer[i + j] != delimiter[j]) {
                    continue outer;
                }
            }
            return i;
        }
        return -1;
    }

    private int peek(int ahead) throws IOException {
        while (tail - head <= ahead && !eof) {
            if (head > 0) {
                System.arraycopy(buffer, head, buffer, 0, tail - head);
                tail -= head;
                head = 0;
            }
            int read = in.read(buffer, tail, buffer.length - tail);
            if (read < 0) {
                eof = true;
            } else {
                tail += read;
            }
        }
        return tail - head > ahead ? buffer[head + ahead] & 0xff : -1;
    }

    private int readByte() throws IOException {
        int b = peek(0);
        if (b < 0) {
            throw new Malformed("the body ended inside a part's headers");
        }
        head++;
        return b;
    }

    /** A header line without its CRLF; header values are UTF-8 in practice (browsers send file names so). */
    private String readLine() throws IOException {
        byte[] line = new byte[256];
        int length = 0;
        while (true) {
            int b = readByte();
            if (b == '\r' && peek(0) == '\n') {
                head++;
                return new String(line, 0, length, StandardCharsets.UTF_8);
            }
            if (length == MAX_HEADER_LINE) {
                throw new Malformed("a part's header line is longer than " + MAX_HEADER_LINE + " bytes");
            }
            if (length == line.length) {
                line = java.util.Arrays.copyOf(line, line.length * 2);
            }
            line[length++] = (byte) b;
        }
    }

    /** {@code form-data; name="file"; filename="a.csv"} to {@code {name: file, filename: a.csv}}. */
    static Map<String, String> parameters(String value) {
        Map<String, String> parameters = new LinkedHashMap<>();
        List<String> pieces = new ArrayList<>();
        StringBuilder piece = new StringBuilder();
        boolean quoted = false;
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            if (quoted && c == '\\' && i + 1 < value.length()) {
                piece.append(c).append(value.charAt(++i));
            } else if (c == '"') {
                quoted = !quoted;
                piece.append(c);
            } else if (c == ';' && !quoted) {
                pieces.add(piece.toString());
                piece.setLength(0);
            } else {
                piece.append(c);
            }
        }
        pieces.add(piece.toString());
        for (String p : pieces) {
            int equals = p.indexOf('=');
            if (equals <= 0) {
                continue;
            }
            String key = p.substring(0, equals).trim().toLowerCase(Locale.ROOT);
            String v = p.substring(equals + 1).trim();
            if (v.length() >= 2 && v.startsWith("\"") && v.endsWith("\"")) {
                v = v.substring(1, v.length() - 1).replaceAll("\\\\(.)", "$1");
            }
            parameters.putIfAbsent(key, v);
        }
        return parameters;
    }

    /** Some clients send the whole path of the file they read; the name is what follows the last separator. */
    private static String baseName(String fileName) {
        if (fileName == null) {
            return null;
        }
        int cut = Math.max(fileName.lastIndexOf('/'), fileName.lastIndexOf('\\'));
        String base = fileName.substring(cut + 1);
        return base.isEmpty() ? null : base;
    }

    /** A part's bytes, up to the next boundary. */
    private final class PartBody extends InputStream {
        @Override
        public int read() throws IOException {
            byte[] one = new byte[1];
            int n;
            while ((n = read(one, 0, 1)) == 0) {
                // readBody returns 0 only for a zero length
            }
            return n < 0 ? -1 : one[0] & 0xff;
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            if (current != this) {
                return -1;
            }
            return readBody(b, off, len);
        }

        void skipRest() throws IOException {
            skipToDelimiter();
        }
    }
}
