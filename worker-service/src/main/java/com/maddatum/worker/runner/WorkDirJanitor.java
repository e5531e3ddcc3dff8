package com.maddatum.worker.runner;

import com.maddatum.worker.config.WorkerSettings;
import java.io.IOException;
import java.nio.file.DirectoryIteratorException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.SecureDirectoryStream;
import java.nio.file.attribute.PosixFileAttributeView;
import java.nio.file.attribute.PosixFileAttributes;
import java.nio.file.attribute.PosixFilePermission;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.EnumSet;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.stereotype.Component;

/**
 * Keeps only the newest {@code worker.keep-runs} run directories under {@code worker.work-dir}: each
 * holds a run's logs (up to {@code worker.max-log-bytes} per stream) and its artifacts, so without
 * pruning a busy worker would fill its disk. The Outcome and the Boss's log copy outlive them.
 *
 * <p>A directory in use by a running job is never pruned, however old: a long job's directory keeps
 * its start time, so by age alone the short jobs of other slots would push it out while it runs.
 *
 * <p>A run directory holds whatever its script made, and the janitor must never fail the Worker over
 * it: {@link #prune} does not throw. It deletes through open directory handles ({@code openat},
 * {@code unlinkat}), so a tree deeper than a path can name ({@code PATH_MAX}) goes too, and it gives
 * the owner back the permissions a script took away ({@code os.makedirs(p, 0o300)}) before it goes in.
 * What still cannot go (another user's files) is reported once and tried again at the next prune.
 */
@Component
public class WorkDirJanitor {

    private static final Logger log = LoggerFactory.getLogger(WorkDirJanitor.class);
    private static final Set<PosixFilePermission> OWNER_ALL = EnumSet.of(PosixFilePermission.OWNER_READ,
            PosixFilePermission.OWNER_WRITE, PosixFilePermission.OWNER_EXECUTE);
    private static final LinkOption NOFOLLOW = LinkOption.NOFOLLOW_LINKS;

    private final Path workDir;
    private final int keep;
    private final Set<String> inUse = new HashSet<>();
    /** Directories whose removal failed and was logged: later failures are logged at debug only. */
    private final Set<String> reported = new HashSet<>();

    @Autowired
    public WorkDirJanitor(WorkerSettings settings) {
        this(settings.workDir(), settings.keepRuns());
    }

    WorkDirJanitor(Path workDir, int keep) {
        this.workDir = workDir;
        this.keep = keep;
    }

    /** Marks a run directory as in use, before the run creates it, until {@link #release}. */
    public synchronized void use(String runName) {
        inUse.add(runName);
    }

    public synchronized void release(String runName) {
        inUse.remove(runName);
    }

    /**
     * Deletes the oldest run directories beyond the newest {@code keep}, sparing those in use (which
     * count towards {@code keep}); returns how many it removed. Never throws.
     */
    public synchronized int prune() {
        try {
            int removed = 0;
            for (Path old : beyondKeep()) {
                if (delete(old)) {
                    removed++;
                }
            }
            return removed;
        } catch (RuntimeException e) {
            log.warn("pruning run directories failed dir={} error={}", workDir, e.toString());
            return 0;
        }
    }

    private List<Path> beyondKeep() {
        List<Path> runs;
        try (Stream<Path> children = Files.list(workDir)) {
            // A dot-directory is not a run: the blob cache lives in <work-dir>/.cache by default.
            runs = children.filter(Files::isDirectory).filter(dir -> !dir.getFileName().toString().startsWith("."))
                    .filter(dir -> !inUse.contains(dir.getFileName().toString()))
                    .sorted(Comparator.comparingLong(WorkDirJanitor::modified).reversed()).toList();
        } catch (IOException | RuntimeException e) {
            return List.of();
        }
        int room = Math.max(0, keep - inUse.size());
        return runs.subList(Math.min(room, runs.size()), runs.size());
    }

    private static long modified(Path dir) {
        try {
            return Files.getLastModifiedTime(dir).toMillis();
        } catch (IOException e) {
            return Long.MAX_VALUE;
        }
    }

    private boolean delete(Path dir) {
        String name = dir.getFileName().toString();
        try {
            deleteTree(dir);
            reported.remove(name);
            return true;
        } catch (IOException | RuntimeException e) {
            if (reported.add(name)) {
                log.warn("cannot remove old run directory dir={} error={}", dir, e.toString());
            } else {
                log.debug("still cannot remove old run directory dir={} error={}", dir, e.toString());
            }
            return false;
        }
    }

    /** Deletes {@code dir} and everything below it, relative to open directory handles. */
    public static void deleteTree(Path dir) throws IOException {
        allowOwner(Files.getFileAttributeView(dir, PosixFileAttributeView.class, NOFOLLOW), dir);
        try (DirectoryStream<Path> stream = Files.newDirectoryStream(dir)) {
            if (!(stream instanceof SecureDirectoryStream<Path> secure)) {
                throw new IOException("this file system cannot delete relative to a directory handle");
            }
            empty(secure);
        }
        Files.deleteIfExists(dir);
    }

    /** Deletes what {@code dir} holds; carries on past a failure and throws the first one at the end. */
    private static void empty(SecureDirectoryStream<Path> dir) throws IOException {
        List<Path> entries = new ArrayList<>();
        try {
            dir.forEach(entries::add); // full paths, for messages and a chmod when the name is short enough
        } catch (DirectoryIteratorException e) {
            throw e.getCause();
        }
        IOException first = null;
        for (Path entry : entries) {
            Path name = entry.getFileName();
            try {
                PosixFileAttributeView view = dir.getFileAttributeView(name, PosixFileAttributeView.class, NOFOLLOW);
                if (view.readAttributes().isDirectory()) {
                    allowOwner(view, entry);
                    try (SecureDirectoryStream<Path> child = dir.newDirectoryStream(name, NOFOLLOW)) {
                        empty(child);
                    }
                    dir.deleteDirectory(name);
                } else {
                    dir.deleteFile(name); // a symbolic link itself, never what it points to
                }
            } catch (NoSuchFileException gone) {
                // removed meanwhile: what we wanted
            } catch (IOException | DirectoryIteratorException e) {
                IOException failure = e instanceof DirectoryIteratorException d ? d.getCause() : (IOException) e;
                if (first == null) {
                    first = failure;
                } else {
                    first.addSuppressed(failure);
                }
            }
        }
        if (first != null) {
            throw first;
        }
    }

    /**
     * Gives the owner read, write and search on a directory a script locked, so that it can be emptied.
     * Through the handle first; a directory the owner cannot open at all needs its path (if it is short
     * enough). A failure is left for the delete to report.
     */
    private static void allowOwner(PosixFileAttributeView view, Path path) {
        try {
            PosixFileAttributes attributes = view.readAttributes();
            if (attributes.permissions().containsAll(OWNER_ALL)) {
                return;
            }
            Set<PosixFilePermission> wanted = EnumSet.copyOf(OWNER_ALL);
            wanted.addAll(attributes.permissions());
            try {
                view.setPermissions(wanted);
            } catch (IOException cannotOpen) {
                Files.setPosixFilePermissions(path, wanted);
            }
        } catch (IOException | RuntimeException e) {
            log.debug("cannot restore the owner's permissions path={} error={}", path, e.toString());
        }
    }
}
