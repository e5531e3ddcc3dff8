package com.maddatum.boss.web;

import java.util.Locale;
import java.util.regex.Pattern;

/**
 * The two naming rules every route shares, written once: a plain file name (a dataset's name, a job's
 * {@code dataFileName}, an input's name; what a script opens in a directory, so no path) and a SHA-256
 * (a blob's name), accepted in either case and always stored in lower case.
 */
public final class Names {

    /** Letters, digits, '_', '.', '-'; starting with a letter or digit; at most 255 characters; no "..". */
    private static final Pattern PLAIN_FILE_NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9_.-]{0,254}");
    private static final Pattern SHA256 = Pattern.compile("[0-9a-fA-F]{64}");

    /** For messages: what {@link #isPlainFileName} accepts. */
    public static final String PLAIN_FILE_NAME_RULE = "a plain file name of letters, digits, '_', '.' and '-' "
            + "(at most 255), with no path and no '..'";

    private Names() {}

    public static boolean isPlainFileName(String name) {
        return name != null && PLAIN_FILE_NAME.matcher(name).matches() && !name.contains("..");
    }

    /** The hash in lower case, or null when {@code value} is not 64 hex digits (of either case). */
    public static String sha256(Object value) {
        return value instanceof String hex && SHA256.matcher(hex).matches() ? hex.toLowerCase(Locale.ROOT) : null;
    }

    /** Whether {@code value} is a hash as blobs are named: 64 lower-case hex digits. */
    public static boolean isStoredSha256(String value) {
        return value != null && value.equals(sha256(value));
    }
}
