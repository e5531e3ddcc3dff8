package com.maddatum.worker.support;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * A stand-in for {@code nvidia-smi} or the CUDA check's Python: a shell that prints what a file says and
 * exits with what another says, so a test can change the machine's answer between two checks.
 */
public final class FakeCommand {

    private final Path output;
    private final Path exit;

    public FakeCommand(Path dir, String name) {
        this.output = dir.resolve(name + ".out");
        this.exit = dir.resolve(name + ".exit");
        answer("", 0);
    }

    /** From now on the command prints {@code stdout} and exits with {@code code}. */
    public FakeCommand answer(String stdout, int code) {
        try {
            Files.writeString(output, stdout);
            Files.writeString(exit, Integer.toString(code));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return this;
    }

    /** A recorded answer from {@code src/test/resources/nvidia-smi/}. */
    public FakeCommand recorded(String name, int code) {
        return answer(recording(name), code);
    }

    public static String recording(String name) {
        try {
            return Files.readString(Path.of("src/test/resources/nvidia-smi", name));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public List<String> command() {
        return List.of("sh", "-c", "cat \"$0\"; exit \"$(cat \"$1\")\"", output.toString(), exit.toString());
    }

    /** A command that never answers and ignores SIGTERM, as a driver stuck on a lost GPU makes nvidia-smi. */
    public static List<String> hanging() {
        return List.of("sh", "-c", "trap '' TERM; sleep 60");
    }
}
