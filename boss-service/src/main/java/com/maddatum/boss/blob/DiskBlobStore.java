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
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Blobs as files: {@code <dir>/<sha256>}, the embedded store's choice (see {@link BlobStoreConfiguration}
 * for why not GridFS there). A put streams into {@code <dir>/tmp/} while hashing, forces the bytes to
 * disk, and only then renames the file to its hash: a file named by a hash always holds those bytes, and a
 * crash mid-put leaves only a temporary file, which the next start removes.
 *
 * <p>A blob's {@code storedAt} is its file's modification time, set from the Boss's clock. The rename that
 * names a put, a touch, and the collector's delete (which re-reads that time under it) take the same lock,
 * one per hash: a delete can never land between a put's "stored" and the answer that says so. Only one Boss
 * uses an embedded store's directory, so a lock in this process is enough.
 */
final class DiskBlobStore implements BlobStore {

    private static final Logger log = LoggerFactory.getLogger(DiskBlobStore.class);

    /** Locks by the hash's first byte: a put and a delete of one blob meet, others rarely wait on each other. */
    private static final int LOCKS = 256;

    private final Path dir;
    private final Path tmp;
    private final Clock clock;
    private final Object[] locks = new Object[LOCKS];
    /** The bytes of every named blob: kept up to date by put and delete, counted once at start. */
    private final AtomicLong total = new AtomicLong();

    DiskBlobStore(Path dir, Clock clock) {
        this.dir = dir;
        this.tmp = dir.resolve("tmp");
        this.clock = clock;
        for (int i = 0; i < LOCKS; i++) {
            locks[i] = new Object();
        }
        try {
            Files.createDirectories(tmp);
            sweepTemporaryFiles();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot prepare the blob directory " + dir, e);
        }
        all().forEach(blob -> total.addAndGet(blob.size()));
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

    private Object lockFor(String sha256) {
        return locks[Integer.parseInt(sha256, 0, 2, 16)];
    }

    @Override
    public Blob put(InputStream in, String expectedSha256, Limits limits, Consumer<ChunkView> onChunk)
            throws IOException {
        Path temp = Files.createTempFile(tmp, "put-", ".part");
        boolean moved = false;
        try {
            HashingCopy.Copied copied = copyToDisk(in, temp, limits.maxBytes(), onChunk);
            HashingCopy.checkExpected(expectedSha256, copied.sha256());
            // Stamped before it is named: storedAt is the Boss's clock, as touch() and the collector's cutoff are.
            Instant now = clock.instant();
            Files.setLastModifiedTime(temp, FileTime.from(now));
            Path target = dir.resolve(copied.sha256());
            synchronized (lockFor(copied.sha256())) {
                boolean existed = Files.exists(target);
                if (!existed) {
                    reserve(copied.size(), limits.quotaBytes());
                }
                try {
                    // Stored already: the same bytes replace the file, which makes the blob young again for a
                    // collector's grace. Nothing can delete it in between: the delete takes this lock.
                    Files.move(temp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
                    moved = true;
                } catch (IOException e) {
                    throw StoreFull.translate(e);
                } finally {
                    if (!moved && !existed) {
                        total.addAndGet(-copied.size());
                    }
                }
            }
            forceDirectory();
            return new Blob(copied.sha256(), copied.size(), now);
        } finally {
            if (!moved) {
                Files.deleteIfExists(temp);
            }
        }
    }

    private static HashingCopy.Copied copyToDisk(InputStream in, Path temp, long maxBytes, Consumer<ChunkView> onChunk)
            throws IOException {
        try (FileChannel out = FileChannel.open(temp, StandardOpenOption.WRITE)) {
            HashingCopy.Copied copied = HashingCopy.copy(in, maxBytes, onChunk, (bytes, offset, length) -> {
                ByteBuffer buffer = ByteBuffer.wrap(bytes, offset, length);
                try {
                    while (buffer.hasRemaining()) {
                        out.write(buffer);
                    }
                } catch (IOException e) {
                    throw StoreFull.translate(e);
                }
            });
            try {
                // On disk before it is named: a crash after the rename must not leave a named, short file.
                out.force(true);
            } catch (IOException e) {
                throw StoreFull.translate(e);
            }
            return copied;
        }
    }

    /** Counts new bytes into the total, or refuses them when they would take it past the quota. */
    private void reserve(long size, long quota) throws OverQuota {
        long after = total.addAndGet(size);
        if (after > quota || after < 0) {
            total.addAndGet(-size);
            throw new OverQuota(quota, after - size, size);
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
    public Optional<Blob> touch(String sha256) throws IOException {
        if (!HashingCopy.isSha256(sha256)) {
            return Optional.empty();
        }
        Path file = dir.resolve(sha256);
        synchronized (lockFor(sha256)) {
            try {
                Files.setLastModifiedTime(file, FileTime.from(clock.instant()));
                return Optional.of(describe(sha256, file));
            } catch (NoSuchFileException deleted) {
                return Optional.empty();
            }
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
    public boolean delete(String sha256, Instant storedBefore) throws IOException {
        if (!HashingCopy.isSha256(sha256)) {
            return false;
        }
        Path file = dir.resolve(sha256);
        synchronized (lockFor(sha256)) {
            BasicFileAttributes attributes;
            try {
                attributes = Files.readAttributes(file, BasicFileAttributes.class);
            } catch (NoSuchFileException missing) {
                return false;
            }
            if (!attributes.lastModifiedTime().toInstant().isBefore(storedBefore) || !Files.deleteIfExists(file)) {
                return false;
            }
            total.addAndGet(-attributes.size());
            return true;
        }
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

    @Override
    public long totalBytes() {
        return total.get();
    }

    private static Blob describe(String sha256, Path file) throws IOException {
        BasicFileAttributes attributes = Files.readAttributes(file, BasicFileAttributes.class);
        return new Blob(sha256, attributes.size(), attributes.lastModifiedTime().toInstant());
    }
}
