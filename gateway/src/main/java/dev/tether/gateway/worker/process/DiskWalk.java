package dev.tether.gateway.worker.process;

import static java.util.Objects.requireNonNull;

import java.io.IOException;
import java.nio.file.DirectoryIteratorException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.SecureDirectoryStream;
import java.nio.file.attribute.BasicFileAttributeView;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.Iterator;

/**
 * Measures the disk a worker's working directory takes, a bounded number of entries at a time: each
 * {@link #advance} visits at most its budget of entries and the next call resumes where it stopped,
 * so one measurement (a pass over the whole tree) may take several calls however many files the
 * worker makes. Blocking file I/O: never call on an event loop. Not thread-safe: one thread at a time.
 *
 * <p>An entry counts its size rounded up to {@code blockSize} (Java does not expose {@code
 * st_blocks}): exact for ordinary files and directories, more than the disk used for a sparse file.
 * Symbolic links are never followed (a link counts as itself), directories are opened relative to
 * their parent's open descriptor without following links, so a link swapped in during the walk
 * cannot lead it outside, and a directory on another device than the root is not entered. A hard
 * link counts each time it is met. Directories deeper than {@link #MAX_DEPTH} below the root count
 * as entries but are not entered (each level holds one open descriptor).
 */
final class DiskWalk implements AutoCloseable {

    /** Directory levels below the root that are entered. */
    static final int MAX_DEPTH = 128;

    /** What one {@link #advance} found. */
    record Step(long bytes, boolean complete, int visited) {}

    private final Path root;
    private final long blockSize;
    private final Deque<Level> open = new ArrayDeque<>();
    private Object rootDevice;
    private long partial;

    private record Level(DirectoryStream<Path> stream, Iterator<Path> entries) {}

    DiskWalk(Path root, long blockSize) {
        this.root = requireNonNull(root, "root");
        if (blockSize < 1) {
            throw new IllegalArgumentException("blockSize " + blockSize);
        }
        this.blockSize = blockSize;
    }

    /**
     * Visits at most {@code budget} entries. Returns the bytes counted so far in the current pass (a
     * lower bound of the directory's usage while the pass runs), or the pass's total when it ended
     * with this call ({@code complete}); the next call then starts a new pass.
     */
    Step advance(int budget) {
        int visited = 0;
        if (open.isEmpty()) {
            if (!begin()) {
                return new Step(0, true, 1);
            }
            visited++;
        }
        while (visited < budget && !open.isEmpty()) {
            Level level = open.peek();
            Path entry;
            try {
                if (!level.entries().hasNext()) {
                    closeTop();
                    continue;
                }
                entry = level.entries().next();
            } catch (DirectoryIteratorException e) {
                closeTop();
                continue;
            }
            visited++;
            visit(level.stream(), entry.getFileName());
        }
        if (open.isEmpty()) {
            long total = partial;
            partial = 0;
            return new Step(total, true, visited);
        }
        return new Step(partial, false, visited);
    }

    /**
     * The root's entries. The stream outlives this call on purpose: a pass reads it across several
     * steps, {@link #open} owns it from here, and it is closed when its level is done or the walk is
     * closed (so no try-with-resources here).
     */
    private DirectoryStream<Path> openRoot() throws IOException {
        return root.getFileSystem().provider().newDirectoryStream(root, entry -> true);
    }

    /** Starts a pass: counts and opens the root; false when there is no directory to walk. */
    private boolean begin() {
        partial = 0;
        try {
            BasicFileAttributes attributes =
                    Files.readAttributes(root, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
            if (!attributes.isDirectory()) {
                return false;
            }
            DirectoryStream<Path> stream = openRoot();
            if (!(stream instanceof SecureDirectoryStream<Path> secure) || !sameFile(secure, attributes.fileKey())) {
                stream.close();
                return false;
            }
            rootDevice = device(attributes.fileKey());
            partial += allocated(attributes.size());
            open.push(new Level(stream, stream.iterator()));
            return true;
        } catch (IOException | RuntimeException e) {
            return false;
        }
    }

    private void visit(DirectoryStream<Path> parent, Path name) {
        SecureDirectoryStream<Path> dir = (SecureDirectoryStream<Path>) parent;
        try {
            BasicFileAttributes attributes = dir.getFileAttributeView(
                            name, BasicFileAttributeView.class, LinkOption.NOFOLLOW_LINKS)
                    .readAttributes();
            partial += allocated(attributes.size());
            if (attributes.isDirectory()
                    && open.size() < MAX_DEPTH + 1
                    && rootDevice != null
                    && rootDevice.equals(device(attributes.fileKey()))) {
                SecureDirectoryStream<Path> child = dir.newDirectoryStream(name, LinkOption.NOFOLLOW_LINKS);
                if (sameFile(child, attributes.fileKey())) {
                    open.push(new Level(child, child.iterator()));
                } else {
                    child.close();
                }
            }
        } catch (IOException | RuntimeException e) {
            // Gone or unreadable since it was listed: counted as nothing.
        }
    }

    /** Whether the directory open as {@code stream} is the one whose attributes were read (not swapped since). */
    private static boolean sameFile(SecureDirectoryStream<Path> stream, Object fileKey) throws IOException {
        Object opened = stream.getFileAttributeView(BasicFileAttributeView.class)
                .readAttributes()
                .fileKey();
        return fileKey != null && fileKey.equals(opened);
    }

    /** The device part of a Unix file key, "(dev=…,ino=…)". */
    private static Object device(Object fileKey) {
        if (fileKey == null) {
            return null;
        }
        String key = fileKey.toString();
        int comma = key.indexOf(',');
        return comma < 0 ? key : key.substring(0, comma);
    }

    private long allocated(long size) {
        if (size <= 0) {
            return 0;
        }
        long blocks = (size + blockSize - 1) / blockSize;
        return blocks > Long.MAX_VALUE / blockSize ? Long.MAX_VALUE : blocks * blockSize;
    }

    private void closeTop() {
        Level level = open.pop();
        try {
            level.stream().close();
        } catch (IOException e) {
            // Nothing to do: the descriptor is released either way.
        }
    }

    /** Ends the current pass, releasing its open directories. Idempotent. */
    @Override
    public void close() {
        while (!open.isEmpty()) {
            closeTop();
        }
        partial = 0;
    }
}
