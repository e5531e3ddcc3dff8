package com.maddatum.worker.support;

import java.io.IOException;
import java.io.InputStream;

/** For tests that play a Boss on a bare socket: an HTTP request's head, read up to its blank line, no further. */
public final class RawHttpHead {

    private RawHttpHead() {}

    /** The request line and headers (ISO-8859-1, as HTTP heads are); the body stays unread. */
    public static String read(InputStream in) throws IOException {
        StringBuilder head = new StringBuilder();
        while (head.indexOf("\r\n\r\n") < 0) {
            int c = in.read();
            if (c < 0) {
                break;
            }
            head.append((char) c);
        }
        return head.toString();
    }
}
