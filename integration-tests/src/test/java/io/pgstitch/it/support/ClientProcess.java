package io.pgstitch.it.support;

import org.junit.jupiter.api.Assumptions;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * Runs a libpq client binary (psql, pgbench) from PATH against one server, with a hard time limit after which
 * the process is killed and the test fails. {@code PGCONNECT_TIMEOUT=10}; plaintext unless told otherwise.
 */
abstract class ClientProcess<T extends ClientProcess<T>> {

    private static final long TIMEOUT_SECONDS = Long.getLong("it.process.timeout", 180);

    private final String binary;
    private final String host;
    private final int port;
    private String user = "postgres";
    private String database = "postgres";
    private final Map<String, String> environment = new HashMap<>();

    ClientProcess(String binary, String host, int port) {
        this.binary = binary;
        this.host = host;
        this.port = port;
    }

    @SuppressWarnings("unchecked")
    private T self() {
        return (T) this;
    }

    public T user(String value) {
        user = value;
        return self();
    }

    public T database(String value) {
        database = value;
        return self();
    }

    public T env(String name, String value) {
        environment.put(name, value);
        return self();
    }

    /** Runs the binary with connection options first, then {@code args}; its stdin is empty. */
    public ProcessResult run(String... args) {
        return runWithInput("", args);
    }

    /** Runs the binary with {@code input} on its stdin, e.g. a script for {@code psql -f -}. */
    public ProcessResult runWithInput(String input, String... args) {
        List<String> command = new ArrayList<>(List.of(binary, "-h", host, "-p", Integer.toString(port),
                "-U", user));
        command.addAll(arguments(database, List.of(args)));
        ProcessBuilder builder = new ProcessBuilder(command);
        builder.environment().put("PGCONNECT_TIMEOUT", "10");
        builder.environment().put("PGSSLMODE", "disable");
        builder.environment().putAll(environment);
        try {
            Process process = builder.start();
            CompletableFuture<String> stdout = read(process.getInputStream());
            CompletableFuture<String> stderr = read(process.getErrorStream());
            CompletableFuture.runAsync(() -> write(process, input)); // a binary that never reads must not block us
            if (!process.waitFor(TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
                process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
                throw new AssertionError(binary + " did not finish within " + TIMEOUT_SECONDS + " s: " + command);
            }
            return new ProcessResult(process.exitValue(), stdout.join(), stderr.join());
        } catch (IOException e) {
            throw new IllegalStateException("cannot run " + binary + ": " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while running " + binary, e);
        }
    }

    /** What follows host, port and user: the database and {@code args}, in the order the binary wants. */
    abstract List<String> arguments(String database, List<String> args);

    private static void write(Process process, String input) {
        try (var stdin = process.getOutputStream()) {
            stdin.write(input.getBytes(StandardCharsets.UTF_8));
        } catch (IOException e) {
            // the binary exited without reading all of it; its exit code and stderr tell why
        }
    }

    private static CompletableFuture<String> read(java.io.InputStream in) {
        return CompletableFuture.supplyAsync(() -> {
            try {
                return new String(in.readAllBytes(), StandardCharsets.UTF_8);
            } catch (IOException e) {
                return "(unreadable: " + e.getMessage() + ")";
            }
        });
    }

    static boolean onPath(String binary) {
        String path = System.getenv("PATH");
        if (path == null) {
            return false;
        }
        for (String dir : path.split(java.io.File.pathSeparator)) {
            if (Files.isExecutable(Path.of(dir, binary))) {
                return true;
            }
        }
        return false;
    }

    static void assumeOnPath(String binary) {
        Assumptions.assumeTrue(onPath(binary), binary + " is not on PATH; install the PostgreSQL client tools "
                + "(e.g. apt-get install postgresql-client) to run this test");
    }
}
