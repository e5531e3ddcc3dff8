package com.maddatum.worker.common;

/** Text that travels into logs, outcomes and reasons: kept short, however long what it quotes. */
public final class Text {

    private Text() {}

    /**
     * {@code text} itself when it has at most {@code max} characters, else its start ending in
     * {@code "..."}, {@code max} characters in all (a surrogate pair is never split). Null stays null.
     */
    public static String abbreviate(String text, int max) {
        if (text == null || text.length() <= max) {
            return text;
        }
        if (max <= 3) {
            return "...".substring(0, Math.max(0, max));
        }
        int end = max - 3;
        if (Character.isHighSurrogate(text.charAt(end - 1))) {
            end--;
        }
        return text.substring(0, end) + "...";
    }

    /** {@link #abbreviate(String, int)} of the value's {@code String.valueOf}. */
    public static String abbreviate(Object value, int max) {
        return abbreviate(String.valueOf(value), max);
    }
}
