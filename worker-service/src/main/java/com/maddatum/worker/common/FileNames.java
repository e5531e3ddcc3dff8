package com.maddatum.worker.common;

import java.util.regex.Pattern;

/**
 * The plain file name rule the Boss applies to {@code dataFileName} and to input names, and
 * {@code jobcontract.py} to the data file: a letter or digit, then letters, digits, {@code _ . -}, at most
 * 255 characters, and no {@code ..} anywhere. No path: it can only name a file in the directory it is
 * resolved against.
 */
public final class FileNames {

    private static final Pattern PLAIN = Pattern.compile("[A-Za-z0-9][A-Za-z0-9_.-]{0,254}");

    private FileNames() {}

    public static boolean isPlain(Object name) {
        return name instanceof String text && PLAIN.matcher(text).matches() && !text.contains("..");
    }
}
