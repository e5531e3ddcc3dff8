package com.maddatum.boss.blob;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.FileTime;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Blobs as files: {@code <dir>/<sha256>}, the embedded store's choice (see {@link BlobStoreConfiguration}
 * for why not GridFS there). A put streams into {@code <dir>/tmp/} while hashing, forces the bytes to
 * disk, and only then renames the file to its hash: a file named by a hash always holds those bytes, and a
 * crash mid-put leaves only a temporary file, which the next start removes.
 */
final class DiskBlobStore implements BlobStore {

    private static final Logger log = LoggerFactory.getLogger(DiskBlobStore.class);

    private final Path dir;
    private final Path tmp;
    private final Clock clock;

    DiskBlobStore(Path dir, Clock clock) {
        this.dir = dir;
        this.tmp = dir.resolve("tmp");
        this.clock = clock;
        try {
            Files.createDirectories(tmp);
            sweepTemporaryFiles();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot prepare the blob directory " + dir, e);
        }
    }

    /** Only one Boss uses an embedded store's directory, so whatever is in tmp/ at start is a dead put's. */
    private void sweepTemporaryFiles() throws IOException {
        int removed = 0;
        try (DirectoryStream<Path> leftovers = Files.newDirectoryStream(tmp)) {
            for (Path leftover : leftovers) {
                Files.deleteIfExists(leftover);
                removed++;
            }
        }
        if (removed > 0) {
            log.info("unfinished blob uploads removed count={} dir={}", removed, tmp);
        }
    }

    @Override
    public Blob put(InputStream in, String expectedSha256, long maxBytes, Consumer<ChunkView> onChunk)
            throws IOException {
        Path temp = Files.createTempFile(tmp, "put-", ".part");
        boolean moved = false;
        try {
            HashingCopy.Copied copied;
            try (FileChannel out = FileChannel.open(temp, StandardOpenOption.WRITE)) {
                copied = HashingCopy.copy(in, maxBytes, onChunk, (bytes, offset, length) -> {
                    ByteBuffer buffer = ByteBuffer.wrap(bytes, offset, length);
                    while (buffer.hasRemaining()) {
                        out.write(buffer);
                    }
                });
                // On disk before it is named: a crash after the rename must not leave a named, short file.
                out.force(true);
            }
            HashingCopy.checkExpected(expectedSha256, copied.sha256());
            Path target = dir.resolve(copied.sha256());
            if (Files.exists(target)) {
                // Stored already. Its time is refreshed so that a collector sparing young blobs spares one
                // that was just referred to again.
                Files.setLastModifiedTime(target, FileTime.from(clock.instant()));
                return describe(copied.sha256(), target);
            }
            Files.move(temp, target, StandardCopyOption.ATOMIC_MOVE);
            moved = true;
            forceDirectory();
            return describe(copied.sha256(), target);
        } finally {
            if (!moved) {
                Files.deleteIfExists(temp);
            }
        }
    }

    /** Makes the rename durable too (Linux needs the directory forced); where that cannot be done, the file is. */
    private void forceDirectory() {
        try (FileChannel directory = FileChannel.open(dir, StandardOpenOption.READ)) {
            directory.force(true);
        } catch (IOException | UnsupportedOperationException notSupported) {
            log.debug("blob directory not forced dir={} reason={}", dir, notSupported.toString());
        }
    }

    @Override
    public Optional<Blob> find(String sha256) {
        if (!HashingCopy.isSha256(sha256)) {
            return Optional.empty();
        }
        try {
            return Optional.of(describe(sha256, dir.resolve(sha256)));
        } catch (NoSuchFileException missing) {
            return Optional.empty();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override
    public InputStream open(String sha256, long offset) throws IOException {
        if (!HashingCopy.isSha256(sha256)) {
            throw new Missing(sha256);
        }
        FileChannel channel;
        try {
            channel = FileChannel.open(dir.resolve(sha256), StandardOpenOption.READ);
        } catch (NoSuchFileException missing) {
            throw new Missing(sha256);
        }
        try {
            long size = channel.size();
            if (offset < 0 || offset > size) {
                throw new IllegalArgumentException("offset " + offset + " is outside the blob's " + size + " bytes");
            }
            channel.position(offset);
            return Channels.newInputStream(channel);
        } catch (IOException | RuntimeException e) {
            channel.close();
            throw e;
        }
    }

    @Override
    public boolean delete(String sha256) throws IOException {
        return HashingCopy.isSha256(sha256) && Files.deleteIfExists(dir.resolve(sha256));
    }

    /**
     * A list, read from the directory when asked: a blob is about a hundred bytes here, so even a hundred
     * thousand blobs are a few MiB, and a list cannot leak an open directory handle the way a lazy walk can.
     */
    @Override
    public Iterable<Blob> all() {
        List<Blob> blobs = new ArrayList<>();
        try (DirectoryStream<Path> files = Files.newDirectoryStream(dir)) {
            for (Path file : files) {
                String name = file.getFileName().toString();
                if (HashingCopy.isSha256(name)) {
                    try {
                        blobs.add(describe(name, file));
                    } catch (NoSuchFileException deletedMeanwhile) {
                        // removed between the listing and the look: it is not stored any more
                    }
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return blobs;
    }

    private static Blob describe(String sha256, Path file) throws IOException {
        BasicFileAttributes attributes = Files.readAttributes(file, BasicFileAttributes.class);
        return new Blob(sha256, attributes.size(), attributes.lastModifiedTime().toInstant());
    }
}
