package com.maddatum.boss.artifact;

import java.util.Locale;
import java.util.Map;

/** The rule for artifacts' names, and the content type an artifact is served with. */
final class ArtifactNames {

    static final int MAX_NAME = 255;

    /**
     * Served by extension from this list, never as the Worker said: an artifact is whatever a script wrote,
     * and a type such as text/html or image/svg+xml would let it run script on the Boss's origin, where the
     * dashboard keeps its token.
     */
    private static final Map<String, String> TYPES = Map.ofEntries(
            Map.entry("png", "image/png"),
            Map.entry("jpg", "image/jpeg"),
            Map.entry("jpeg", "image/jpeg"),
            Map.entry("gif", "image/gif"),
            Map.entry("csv", "text/csv"),
            Map.entry("tsv", "text/tab-separated-values"),
            Map.entry("txt", "text/plain"),
            Map.entry("log", "text/plain"),
            Map.entry("md", "text/markdown"),
            Map.entry("json", "application/json"),
            Map.entry("pdf", "application/pdf"));

    static final String OCTET_STREAM = "application/octet-stream";

    private ArtifactNames() {}

    /**
     * Why {@code name} cannot name an artifact, or null when it can: a path relative to {@code OUTPUT_DIR}
     * with {@code /} between segments, none of them empty, {@code .} or {@code ..}, no control characters or
     * backslashes, at most {@value #MAX_NAME} characters.
     */
    static String artifactNameProblem(String name) {
        if (name == null || name.isEmpty()) {
            return "the name is missing";
        }
        if (name.length() > MAX_NAME) {
            return "the name is longer than " + MAX_NAME + " characters";
        }
        if (name.chars().anyMatch(c -> Character.isISOControl(c) || c == '\\')) {
            return "the name has a control character or a backslash";
        }
        if (name.startsWith("/")) {
            return "the name is an absolute path";
        }
        for (String segment : name.split("/", -1)) {
            if (segment.isEmpty() || segment.equals(".") || segment.equals("..")) {
                return "the name has an empty, '.' or '..' path segment";
            }
        }
        return null;
    }

    static String contentType(String name) {
        String file = fileName(name);
        int dot = file.lastIndexOf('.');
        return dot < 0 ? OCTET_STREAM : TYPES.getOrDefault(file.substring(dot + 1).toLowerCase(Locale.ROOT), OCTET_STREAM);
    }

    /** The last segment of a name: what a download is saved as. */
    static String fileName(String name) {
        return name.substring(name.lastIndexOf('/') + 1);
    }

    /** A name as a log line or an error may show it: what a Worker sent is not trusted to be printable. */
    static String printable(Object name) {
        String text = String.valueOf(name);
        if (text.length() > MAX_NAME) {
            text = text.substring(0, MAX_NAME) + "...";
        }
        StringBuilder shown = new StringBuilder(text.length());
        text.codePoints().forEach(c -> shown.append(Character.isISOControl(c) ? "?" : Character.toString(c)));
        return shown.toString();
    }
}
