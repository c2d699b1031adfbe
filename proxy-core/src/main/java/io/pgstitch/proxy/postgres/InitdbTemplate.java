package io.pgstitch.proxy.postgres;

import java.io.IOException;
import java.io.InterruptedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * initdb is the slow half of starting a server (about 0.5 s of CPU, more on a busy machine) while copying what
 * it made takes a tenth of that. So each combination of binaries, account and initdb options is initdb'd once
 * into {@code /tmp/pgstitch-pg/initdb-<key>/data}, a {@link SharedDirectory} used by every JVM, and each server
 * starts from a copy made with {@code cp -a}, which keeps the owner (nobody, when we are root) and the 0700
 * mode that postgres insists on.
 */
final class InitdbTemplate {

    private static final int INITDB_TIMEOUT_SECONDS = 120;
    private static final String DATA = "data";

    private final PostgresBinaries binaries;
    private final ServerUser user;
    private final Path root;

    InitdbTemplate(PostgresBinaries binaries, ServerUser user, Path root) {
        this.binaries = binaries;
        this.user = user;
        this.root = root;
    }

    /**
     * Makes {@code dataDir} a fresh cluster as {@code initdb options} would, {@code password} (or null) being
     * the superuser's: it goes through {@code --pwfile}, and into the key, so that templates with different
     * passwords stay apart.
     */
    void copyTo(Path dataDir, List<String> options, String password) throws IOException, InterruptedException {
        String key = SharedDirectory.key((binaries.binDir() + "\n" + binaries.version() + "\n" + user.asNobody()
                + "\n" + options + "\n" + password).getBytes(StandardCharsets.UTF_8));
        Path template = SharedDirectory.create(root, "initdb-" + key, dir -> initdb(dir, options, password));
        Process copy = new ProcessBuilder("cp", "-a", template.resolve(DATA).toString(), dataDir.toString())
                .redirectErrorStream(true).start();
        String output = new String(copy.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (copy.waitFor() != 0) {
            throw new IOException("cannot copy " + template.resolve(DATA) + " to " + dataDir + ": " + output);
        }
    }

    private void initdb(Path dir, List<String> options, String password) throws IOException {
        user.own(dir); // initdb, perhaps as nobody, creates dir/data
        List<String> command = new ArrayList<>(List.of(binaries.bin("initdb").toString(), "-D",
                dir.resolve(DATA).toString()));
        command.addAll(options);
        Path passwordFile = dir.resolve("password");
        if (password != null) {
            Files.writeString(passwordFile, password + "\n");
            Files.setPosixFilePermissions(passwordFile, PosixFilePermissions.fromString("rw-r--r--"));
            command.add("--pwfile=" + passwordFile);
        }
        Path log = dir.resolve("initdb.log");
        try {
            Process initdb = new ProcessBuilder(user.command(command)).redirectErrorStream(true)
                    .redirectOutput(log.toFile()).start();
            if (!initdb.waitFor(INITDB_TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
                initdb.destroyForcibly();
                throw new IOException("initdb did not finish within " + INITDB_TIMEOUT_SECONDS + " s:\n"
                        + LocalPostgres.tail(log));
            }
            if (initdb.exitValue() != 0) {
                throw new IOException("initdb failed: " + command + "\n" + LocalPostgres.tail(log));
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw (IOException) new InterruptedIOException("interrupted during initdb").initCause(e);
        } finally {
            Files.deleteIfExists(passwordFile);
        }
    }
}
