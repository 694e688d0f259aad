package dev.tether.gateway.worker.process;

import java.io.IOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.PosixFilePermissions;

/**
 * Per-worker working directories under {@code worker.process.work_root}. Blocking file I/O: never
 * call on an event loop. Stateless.
 */
final class WorkDirs {

    private WorkDirs() {}

    /** A fresh directory {@code root/w-<random>}, readable by its owner only; the root is created if needed. */
    static Path create(Path root) throws IOException {
        Files.createDirectories(root);
        return Files.createTempDirectory(root, "w-");
    }

    /**
     * Makes exactly {@code dir} (its parent, the work root, is created if needed), readable by its
     * owner only; false when it exists (a previous worker's, not yet removed).
     */
    static boolean createExactly(Path dir) throws IOException {
        Files.createDirectories(dir.getParent());
        try {
            Files.createDirectory(
                    dir, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
            return true;
        } catch (FileAlreadyExistsException e) {
            return false;
        }
    }

    /**
     * Deletes {@code dir} and everything below it. Symbolic links are deleted, never followed, so a
     * worker cannot make the gateway delete anything outside its directory. A missing directory is
     * fine.
     */
    static void deleteRecursively(Path dir) throws IOException {
        delete(dir, true);
    }

    private static void delete(Path dir, boolean retry) throws IOException {
        if (!Files.exists(dir, LinkOption.NOFOLLOW_LINKS)) {
            return;
        }
        // walkFileTree without FOLLOW_LINKS reports a link as a file: visitFile deletes the link itself.
        Files.walkFileTree(dir, new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
                deleteIfExists(file);
                return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult visitFileFailed(Path file, IOException e) throws IOException {
                if (e instanceof NoSuchFileException) {
                    return FileVisitResult.CONTINUE;
                }
                if (!retry) {
                    throw e;
                }
                // An unreadable directory left by the worker: make it ours again and try once more.
                file.toFile().setReadable(true, true);
                file.toFile().setWritable(true, true);
                file.toFile().setExecutable(true, true);
                delete(file, false);
                return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult postVisitDirectory(Path d, IOException e) throws IOException {
                deleteIfExists(d);
                return FileVisitResult.CONTINUE;
            }
        });
    }

    private static void deleteIfExists(Path path) throws IOException {
        try {
            Files.deleteIfExists(path);
        } catch (AccessDeniedException e) {
            Path parent = path.getParent();
            if (parent == null) {
                throw e;
            }
            parent.toFile().setWritable(true, true);
            parent.toFile().setExecutable(true, true);
            Files.deleteIfExists(path);
        }
    }
}
