package com.maddatum.bench;

import com.maddatum.testsupport.HttpJson;
import com.maddatum.testsupport.JarProcess;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * 7. A dataset's upload and download through the Boss on the embedded store (disk blobs) against
 * {@code cp} of the same file on the same disk, and the Boss's heap while the upload streams: the
 * Boss must move bytes at disk speed and never hold a file in memory (it runs with the small heap
 * {@link JarProcess} gives every jar).
 */
final class Transfers {

    private static final long MIB = 1024 * 1024;

    private Transfers() {}

    static Map<String, Object> measure(BenchMain.Config config) throws Exception {
        long size = config.size(1024, 64) * MIB;
        Path dir = Files.createDirectories(config.work().resolve("transfers"));
        Path file = dir.resolve("big.bin");
        String sha256 = write(file, size);
        Map<String, Object> result = new LinkedHashMap<>();
        result.put("fileMiB", size / MIB);

        double cpSeconds = cp(file, dir.resolve("copy.bin"));
        Files.delete(dir.resolve("copy.bin"));
        try (JarProcess boss = BenchMain.boss(config, dir.resolve("boss-data"), Map.of())) {
            HttpJson api = new HttpJson(boss.url());
            double heapBefore = Measures.heapMiB(api);
            List<Double> heap = new java.util.concurrent.CopyOnWriteArrayList<>();
            AtomicBoolean uploading = new AtomicBoolean(true);
            Thread sampler = new Thread(() -> {
                while (uploading.get()) {
                    heap.add(Measures.heapMiB(api));
                    try {
                        Thread.sleep(1000); // a scrape costs the Boss CPU: more often would slow what it samples
                    } catch (InterruptedException e) {
                        return;
                    }
                }
            }, "heap-sampler");
            sampler.setDaemon(true);
            sampler.start();
            // curl, as the README uploads: it streams the file (-T) and costs little CPU, which on a small
            // machine the Boss and its client would otherwise share with each other.
            long started = System.nanoTime();
            String up = curl("-sS", "-X", "POST", "-H", "Content-Type: application/octet-stream", "-T", file.toString(),
                    boss.url() + "/datasets?name=big.bin");
            double upSeconds = (System.nanoTime() - started) / 1e9;
            uploading.set(false);
            sampler.join();
            if (!HttpJson.MAPPER.readTree(up).path("sha256").asString().equals(sha256)) {
                throw new IllegalStateException("upload: " + up);
            }
            Path down = dir.resolve("down.bin");
            started = System.nanoTime();
            curl("-sS", "--fail", "-o", down.toString(), boss.url() + "/datasets/big.bin/content");
            double downSeconds = (System.nanoTime() - started) / 1e9;
            if (Files.size(down) != size) {
                throw new IllegalStateException("download: " + Files.size(down) + " bytes");
            }
            Files.delete(down);
            double cpMiBs = size / MIB / cpSeconds;
            double upMiBs = size / MIB / upSeconds;
            double downMiBs = size / MIB / downSeconds;
            result.put("cpMiBPerSecond", Stats.round(cpMiBs, 1));
            result.put("uploadMiBPerSecond", Stats.round(upMiBs, 1));
            result.put("downloadMiBPerSecond", Stats.round(downMiBs, 1));
            result.put("uploadRatioToCp", Stats.round(upMiBs / cpMiBs, 3));
            result.put("downloadRatioToCp", Stats.round(downMiBs / cpMiBs, 3));
            double heapMax = heap.stream().mapToDouble(Double::doubleValue).max().orElse(heapBefore);
            result.put("bossHeapMiB", Map.of("before", heapBefore, "maxDuringUpload", heapMax,
                    "samples", heap.size()));
            result.put("bossMaxHeapMiB", 384);
            // "Flat": the upload's heap does not grow with the file. The Boss runs with -Xmx384m (JarProcess), so
            // a file held in memory fails the upload itself; the samples show how much of that heap it used.
            result.put("goal", "upload and download >= 0.5 x cp, a file larger than the Boss's whole heap");
            result.put("met", upMiBs >= 0.5 * cpMiBs && downMiBs >= 0.5 * cpMiBs);
        } finally {
            Files.deleteIfExists(file);
        }
        return result;
    }

    private static String curl(String... arguments) throws Exception {
        java.util.List<String> command = new java.util.ArrayList<>(java.util.List.of("curl"));
        command.addAll(java.util.List.of(arguments));
        Process process = new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.INHERIT).start();
        String out = new String(process.getInputStream().readAllBytes());
        if (process.waitFor() != 0) {
            throw new IllegalStateException(command + " failed: " + out);
        }
        return out;
    }

    /** Pseudo-random bytes (incompressible, unlike zeros) and their SHA-256. */
    private static String write(Path file, long size) throws Exception {
        MessageDigest digest = MessageDigest.getInstance("SHA-256");
        SplittableRandom random = new SplittableRandom(7);
        byte[] block = new byte[(int) MIB];
        try (OutputStream out = Files.newOutputStream(file)) {
            for (long written = 0; written < size; written += block.length) {
                for (int i = 0; i < block.length; i += 8) {
                    long r = random.nextLong();
                    for (int b = 0; b < 8; b++) {
                        block[i + b] = (byte) (r >>> (8 * b));
                    }
                }
                out.write(block);
                digest.update(block);
            }
        }
        return HexFormat.of().formatHex(digest.digest());
    }

    /** {@code cp} followed by {@code sync}: the Boss fsyncs a blob before it answers, so cp's data must reach the disk too. */
    private static double cp(Path from, Path to) throws Exception {
        long started = System.nanoTime();
        Process process = new ProcessBuilder("sh", "-c", "cp \"$0\" \"$1\" && sync \"$1\"", from.toString(), to.toString())
                .inheritIO().start();
        if (process.waitFor() != 0) {
            throw new IllegalStateException("cp failed");
        }
        return (System.nanoTime() - started) / 1e9;
    }
}
