package com.maddatum.worker.common;

import java.io.IOException;
import java.io.InputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Locale;
import java.util.regex.Pattern;

/** SHA-256 as the Worker uses it everywhere: of streams read in chunks, in lower-case hex. */
public final class Sha256 {

    /** 64 hexadecimal digits, either case (as a job may write a hash). */
    private static final Pattern HEX = Pattern.compile("[0-9a-fA-F]{64}");
    private static final int CHUNK = 256 * 1024;

    private Sha256() {}

    /** A hash and the number of bytes it covers. */
    public record Hashed(String sha256, long size) {}

    /** Whether {@code value} is a SHA-256 in hex, of either case. */
    public static boolean isHex(Object value) {
        return value instanceof String text && HEX.matcher(text).matches();
    }

    /** Whether {@code value} is a SHA-256 in lower-case hex: the form blobs are named by. */
    public static boolean isLowerHex(Object value) {
        return isHex(value) && value.equals(((String) value).toLowerCase(Locale.ROOT));
    }

    public static MessageDigest digest() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every Java platform has SHA-256", e);
        }
    }

    public static String hex(MessageDigest digest) {
        return HexFormat.of().formatHex(digest.digest());
    }

    /** The hash of everything {@code in} gives until its end, and how many bytes that was. */
    public static Hashed of(InputStream in) throws IOException {
        return of(in, Long.MAX_VALUE);
    }

    /** The hash of what {@code in} gives until its end or {@code limit} bytes, whichever comes first. */
    public static Hashed of(InputStream in, long limit) throws IOException {
        MessageDigest digest = digest();
        byte[] buffer = new byte[CHUNK];
        long size = 0;
        for (int n; size < limit && (n = in.read(buffer, 0, (int) Math.min(buffer.length, limit - size))) >= 0; ) {
            digest.update(buffer, 0, n);
            size += n;
        }
        return new Hashed(hex(digest), size);
    }

    /** Feeds the next {@code length} bytes of {@code in} to {@code digest}; fewer is an error. */
    public static void update(MessageDigest digest, InputStream in, long length) throws IOException {
        byte[] buffer = new byte[CHUNK];
        long left = length;
        while (left > 0) {
            int n = in.read(buffer, 0, (int) Math.min(buffer.length, left));
            if (n < 0) {
                throw new IOException("the stream ended " + left + " bytes before the " + length + " to hash");
            }
            digest.update(buffer, 0, n);
            left -= n;
        }
    }
}
