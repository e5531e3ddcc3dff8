package com.maddatum.worker.cache;

import com.maddatum.worker.cache.CacheFailure.Kind;
import com.maddatum.worker.client.BlobRefusedException;
import com.maddatum.worker.client.BossBlobs;
import com.maddatum.worker.client.BossUnavailableException;
import com.maddatum.worker.common.Sha256;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.util.function.BooleanSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One blob from the Boss into the cache directory: streamed to {@code <sha256>.part} while its SHA-256 is
 * computed, and renamed to {@code <sha256>} only when the hash matches, so a file under a blob's name is
 * always the blob. A part left by an interrupted download (a cut connection, a stalled Boss, a Worker
 * restart) is resumed with {@code Range: bytes=N-}: its bytes are hashed again first, since the hash
 * covers the whole file. A Boss that answers the range with a 200 sends the whole blob, which replaces
 * the part; one that answers from another byte than the part's length gets the part deleted and the blob
 * asked again from zero. A resumed download whose hash does not match is tried once more from zero (the
 * part may be what was wrong); a fresh one that does not match is corrupt, and deleted. The size the Boss
 * announces (else the one the job states) is what the cache reserves, and more bytes than it are refused.
 */
final class BlobDownload {

    private static final Logger log = LoggerFactory.getLogger(BlobDownload.class);
    /** Resumes within one fetch after a transfer that moved bytes and then broke. */
    static final int MAX_RESUMES = 3;
    private static final int CHUNK = 256 * 1024;

    /** Called once the blob's size is known, before its bytes are written: room is made, or refused. */
    interface Room {
        void reserve(String sha256, long size, long have) throws CacheFailure;
    }

    private final BossBlobs boss;
    private final Path dir;
    private final long maxBytes;

    BlobDownload(BossBlobs boss, Path dir, long maxBytes) {
        this.boss = boss;
        this.dir = dir;
        this.maxBytes = maxBytes;
    }

    /** A transfer that broke after {@code progress} bytes in this try (network, stall, a short answer). */
    private static final class Cut extends Exception {
        final long progress;

        Cut(long progress, String message) {
            super(message, null, false, false);
            this.progress = progress;
        }
    }

    /**
     * Fetches the blob into {@code <dir>/<sha256>} and returns its size. {@code expected}: the size the job
     * says (-1: it does not). The part is kept when the fetch is stopped or the Boss fails, for a resume.
     */
    long fetch(String sha256, long expected, BooleanSupplier stopped, Room room) throws CacheFailure, InterruptedException {
        if (expected > maxBytes) {
            throw tooLarge(sha256, expected); // the job says so: no need to ask the Boss
        }
        Path part = dir.resolve(sha256 + ".part");
        boolean reserved = false;
        boolean restarted = false;
        int resumes = 0;
        while (true) {
            long have = size(part);
            try (BossBlobs.Download download = boss.download(sha256, have)) {
                checkSize(sha256, download.size(), expected, part);
                // The size the Boss announced, else the one the job states (-1: neither says).
                long size = download.size() >= 0 ? download.size() : expected;
                long from = download.offset();
                if (from != 0 && from != have) {
                    if (have == 0) {
                        throw new Cut(0, "the Boss answered from byte " + from + " when asked for the whole blob");
                    }
                    // The part held here is not what the Boss goes on from: start over, or every resume fails alike.
                    log.warn("the Boss answered a resume from another byte; fetching it again from zero sha256={} "
                            + "asked={} answered={}", sha256, have, from);
                    delete(part);
                    continue;
                }
                if (!reserved) {
                    room.reserve(sha256, Math.max(0, size), have);
                    reserved = true;
                }
                if (have > 0) {
                    log.info("resuming a blob download sha256={} from={} size={} ranged={}", sha256, have, size, from > 0);
                }
                MessageDigest digest = digestOf(part, from);
                long length = copy(download.body(), part, from, size, digest, stopped);
                String actual = Sha256.hex(digest);
                if (!actual.equals(sha256)) {
                    delete(part);
                    if (from > 0 && !restarted) {
                        log.warn("a resumed blob download did not match its hash; fetching it again from zero sha256={} got={}",
                                sha256, actual);
                        restarted = true;
                        continue;
                    }
                    throw new CacheFailure(Kind.CORRUPT, "the " + length + " bytes the Boss sent for blob " + sha256
                            + " hash to " + actual + ": not used");
                }
                place(part, dir.resolve(sha256));
                return length;
            } catch (BlobRefusedException e) {
                throw new CacheFailure(Kind.MISSING, "the Boss has no blob " + sha256 + " (" + e.getMessage() + ")");
            } catch (BossUnavailableException e) {
                throw new CacheFailure(Kind.UNAVAILABLE, "cannot fetch blob " + sha256 + ": " + e.getMessage());
            } catch (Cut e) {
                if (e.progress == 0 || ++resumes > MAX_RESUMES) {
                    throw new CacheFailure(Kind.UNAVAILABLE, "the download of blob " + sha256 + " broke off: "
                            + e.getMessage() + "; it resumes from the " + size(part) + " bytes kept");
                }
                log.warn("a blob download broke off; resuming sha256={} kept={} resume={} error={}", sha256, size(part),
                        resumes, e.getMessage());
            }
        }
    }

    /** Refuses a size that contradicts the job's, or that the cache would never keep, before a byte is written. */
    private void checkSize(String sha256, long size, long expected, Path part) throws CacheFailure {
        if (size >= 0 && expected >= 0 && size != expected) {
            throw new CacheFailure(Kind.CORRUPT, "blob " + sha256 + " has " + size + " bytes on the Boss, but the job says "
                    + expected);
        }
        long known = Math.max(size, expected);
        if (known > maxBytes) {
            delete(part);
            throw tooLarge(sha256, known);
        }
    }

    CacheFailure tooLarge(String sha256, long size) {
        return new CacheFailure(Kind.TOO_LARGE, "blob " + sha256 + " has " + size + " bytes, more than this Worker's cache "
                + "may hold (worker.cache.max-bytes = " + maxBytes + " bytes); raise WORKER_CACHE_MAX_BYTES (and give "
                + "the cache the disk) to run jobs on it here");
    }

    /** Appends the body to the part from {@code from} (truncating it there), hashing as it goes; the part's length. */
    private long copy(InputStream body, Path part, long from, long size, MessageDigest digest, BooleanSupplier stopped)
            throws CacheFailure, Cut, InterruptedException {
        long length = from;
        long progress = 0;
        byte[] buffer = new byte[CHUNK];
        try (FileOutputStream out = new FileOutputStream(part.toFile(), from > 0)) {
            if (from > 0) {
                out.getChannel().truncate(from); // a part longer than the range asked (it should not be) ends there
            }
            while (true) {
                if (stopped.getAsBoolean()) {
                    throw new CacheFailure(Kind.STOPPED, "the run was stopped while blob " + part.getFileName()
                            + " was fetched");
                }
                if (Thread.interrupted()) {
                    throw new InterruptedException("interrupted while fetching " + part.getFileName());
                }
                int n;
                try {
                    n = body.read(buffer);
                } catch (IOException e) {
                    throw new Cut(progress, e.toString());
                }
                if (n < 0) {
                    break;
                }
                if (size >= 0 && length + n > size || length + n > maxBytes) {
                    delete(part);
                    throw size >= 0 && length + n > size
                            ? new CacheFailure(Kind.CORRUPT, "the Boss sent more than the " + size + " bytes announced "
                                    + "(or stated by the job) for " + part.getFileName())
                            : tooLarge(part.getFileName().toString().replace(".part", ""), length + n);
                }
                digest.update(buffer, 0, n);
                out.write(buffer, 0, n);
                length += n;
                progress += n;
            }
            out.getFD().sync(); // what is renamed to the blob's name must be on the disk, not in flight
        } catch (IOException e) {
            throw new CacheFailure(Kind.NO_SPACE, "cannot write " + part + ": " + e);
        }
        if (size >= 0 && length < size) {
            throw new Cut(progress, "the answer ended after " + length + " of " + size + " bytes");
        }
        return length;
    }

    /** A digest that has seen the part's first {@code length} bytes. */
    private static MessageDigest digestOf(Path part, long length) throws CacheFailure {
        MessageDigest digest = Sha256.digest();
        if (length == 0) {
            return digest;
        }
        try (InputStream in = Files.newInputStream(part)) {
            Sha256.update(digest, in, length);
            return digest;
        } catch (IOException e) {
            delete(part);
            throw new CacheFailure(Kind.NO_SPACE, "cannot read the partial download " + part + ": " + e);
        }
    }

    /** Renames the verified part to the blob's name, read-only: a script that opens it to write gets an error. */
    private static void place(Path part, Path blob) throws CacheFailure {
        try {
            try {
                Files.setPosixFilePermissions(part, PosixFilePermissions.fromString("r--r--r--"));
            } catch (UnsupportedOperationException notPosix) {
                part.toFile().setReadOnly();
            }
            try {
                Files.move(part, blob, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(part, blob, StandardCopyOption.REPLACE_EXISTING);
            }
        } catch (IOException e) {
            throw new CacheFailure(Kind.NO_SPACE, "cannot move " + part + " into place: " + e);
        }
    }

    static long size(Path file) {
        try {
            return Files.isRegularFile(file) ? Files.size(file) : 0;
        } catch (IOException e) {
            return 0;
        }
    }

    static void delete(Path file) {
        try {
            Files.deleteIfExists(file);
        } catch (IOException e) {
            log.warn("cannot delete file={} error={}", file, e.toString());
        }
    }
}
