package com.maddatum.worker.runner;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * The scripts directory: which names may be run, where a name leads, and which files are scripts a
 * job can name (advertised to the Boss) rather than libraries the scripts import.
 */
public final class Scripts {

    /** A plain {@code .py} file name; the Boss applies the same rule to {@code scriptName}. */
    static final Pattern NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9_.-]{0,127}\\.py");
    private static final Pattern MAIN_GUARD = Pattern.compile("(?m)^if\\s+__name__\\s*==\\s*['\"]__main__['\"]");

    private Scripts() {}

    /** The script's real path, which must lie directly inside {@code dir} (no "..", no symlink out). */
    static Path resolve(Path dir, Object scriptName) throws ScriptLauncher.Refused {
        if (!(scriptName instanceof String name) || !NAME.matcher(name).matches()) {
            throw new ScriptLauncher.Refused(400, "UnsafeScript",
                    "scriptName must be a .py file name in the scripts directory, got " + scriptName);
        }
        Path candidate = dir.resolve(name);
        if (!Files.isRegularFile(candidate)) {
            throw new ScriptLauncher.Refused(404, "ScriptNotFound", "no script " + name + " in " + dir);
        }
        try {
            Path real = candidate.toRealPath();
            if (!real.startsWith(dir) || !real.getParent().equals(dir)) {
                throw new ScriptLauncher.Refused(400, "UnsafeScript", name + " resolves outside the scripts directory");
            }
            return real;
        } catch (IOException e) {
            throw new ScriptLauncher.Refused(404, "ScriptNotFound", "cannot read " + name + ": " + e.getMessage());
        }
    }

    /**
     * The files a job can name, sorted: a {@code .py} file with a {@code __main__} guard, or one that no
     * other script imports (a seed-style script runs at top level). A module other scripts import and
     * that has no guard, such as {@code jobcontract.py} or {@code tabular.py}, is a library.
     */
    public static List<String> advertised(Path dir) {
        Map<String, String> sources = new LinkedHashMap<>();
        try (Stream<Path> files = Files.list(dir)) {
            for (Path file : files.sorted().toList()) {
                String name = file.getFileName().toString();
                if (NAME.matcher(name).matches() && Files.isRegularFile(file)) {
                    sources.put(name, Files.readString(file, StandardCharsets.ISO_8859_1));
                }
            }
        } catch (IOException e) {
            return List.of();
        }
        List<String> runnable = new ArrayList<>();
        sources.forEach((name, source) -> {
            String module = name.substring(0, name.length() - 3);
            Pattern imported = Pattern.compile("(?m)^\\s*(import\\s+([\\w.]+\\s*,\\s*)*" + Pattern.quote(module)
                    + "\\b|from\\s+" + Pattern.quote(module) + "\\s+import\\b)");
            boolean library = sources.entrySet().stream()
                    .anyMatch(other -> !other.getKey().equals(name) && imported.matcher(other.getValue()).find());
            if (MAIN_GUARD.matcher(source).find() || !library) {
                runnable.add(name);
            }
        });
        return List.copyOf(runnable);
    }
}
