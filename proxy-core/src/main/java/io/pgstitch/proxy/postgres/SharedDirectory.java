package io.pgstitch.proxy.postgres;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Comparator;
import java.util.HexFormat;

/**
 * A directory under {@code /tmp/pgstitch-pg} that is filled once and then shared by every JVM on the machine:
 * the unpacked binaries, the initdb templates. Filling is safe against concurrent JVMs: each fills a directory
 * of its own and renames it into place, so the name appears complete or not at all; the loser of that race
 * deletes its copy and uses the winner's, which holds the same.
 */
final class SharedDirectory {

    static final Path DEFAULT_ROOT = Path.of(System.getProperty("java.io.tmpdir"), "pgstitch-pg");

    private static final Logger log = LoggerFactory.getLogger(SharedDirectory.class);
    /** The first 16 hex digits of a SHA-256 name a directory: enough to tell contents apart, short in logs. */
    private static final int KEY_BYTES = 8;

    /** Writes the content of a fresh directory. */
    @FunctionalInterface
    interface Filler {
        void fill(Path dir) throws IOException;
    }

    private SharedDirectory() {
    }

    /** {@code root/name}, filled by {@code filler} unless some JVM did so before. */
    static Path create(Path root, String name, Filler filler) throws IOException {
        Path target = root.resolve(name);
        if (Files.isDirectory(target)) {
            return target;
        }
        if (!Files.isDirectory(root)) {
            Files.createDirectories(root);
            publicDirectory(root); // the servers may run as nobody, who must reach what is inside
        }
        Path temp = Files.createTempDirectory(root, "." + name + "-");
        publicDirectory(temp);
        try {
            filler.fill(temp);
            Files.move(temp, target, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException | RuntimeException e) {
            deleteRecursively(temp);
            // rename(2) onto a non-empty directory fails with ENOTEMPTY, which Java reports as a plain
            // FileSystemException: another JVM won the race
            if (!Files.isDirectory(target)) {
                throw e;
            }
        }
        return target;
    }

    /** rwxr-xr-x: readable and traversable by nobody. */
    static void publicDirectory(Path dir) throws IOException {
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));
    }

    static String key(byte[] content) {
        try {
            byte[] digest = MessageDigest.getInstance("SHA-256").digest(content);
            return HexFormat.of().formatHex(digest, 0, KEY_BYTES);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JVM has SHA-256", e);
        }
    }

    /** Deletes {@code root} and everything in it, as far as it can; what is left is logged, not thrown. */
    static void deleteRecursively(Path root) {
        if (!Files.exists(root)) {
            return;
        }
        try (var paths = Files.walk(root)) {
            paths.sorted(Comparator.reverseOrder()).forEach(path -> {
                try {
                    Files.deleteIfExists(path);
                } catch (IOException e) {
                    log.debug("could not delete {}", path, e);
                }
            });
        } catch (IOException e) {
            log.debug("could not delete {}", root, e);
        }
    }
}
