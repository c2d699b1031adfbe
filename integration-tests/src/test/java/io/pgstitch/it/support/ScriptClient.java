package io.pgstitch.it.support;

import org.junit.jupiter.api.Assumptions;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * A client driver run as the application would run it: a Python script with Debian's psycopg2 or asyncpg
 * ({@code /usr/bin/python3}, which another python3 earlier on PATH would not have them), or a node script with
 * node-postgres and pg-cursor from {@code src/test/node/node_modules} ({@code .ci/run} installs them). The script
 * gets the host, port and database as its first arguments and prints what the test compares; a missing
 * interpreter or module skips the test, saying what to install.
 */
public final class ScriptClient {

    private static final long TIMEOUT_SECONDS = 120;
    private static final Path PYTHON = Path.of("/usr/bin/python3");
    private static final Path NODE_MODULES = Path.of("src/test/node/node_modules").toAbsolutePath();

    private final List<String> command;

    private ScriptClient(List<String> command) {
        this.command = command;
    }

    /** Debian's python3 with {@code module} importable, or the calling test is skipped. */
    public static ScriptClient python(String module) {
        Assumptions.assumeTrue(Files.isExecutable(PYTHON), PYTHON + " is missing: apt-get install python3");
        ProcessResult probe = new ScriptClient(List.of(PYTHON.toString(), "-c", "import " + module)).run("");
        Assumptions.assumeTrue(probe.exitCode() == 0, "python3 module " + module + " is missing: apt-get install"
                + " python3-" + module);
        return new ScriptClient(List.of(PYTHON.toString(), "-c"));
    }

    /** node with {@code module} installed in src/test/node, or the calling test is skipped. */
    public static ScriptClient node(String module) {
        Assumptions.assumeTrue(ClientProcess.onPath("node"), "node is not on PATH: apt-get install nodejs");
        Assumptions.assumeTrue(Files.isDirectory(NODE_MODULES.resolve(module)), "node module " + module
                + " is missing: npm install --prefix integration-tests/src/test/node");
        return new ScriptClient(List.of("node", "-e"));
    }

    /** Runs {@code script} against host 127.0.0.1, {@code port}, {@code database}, as user postgres. */
    public ProcessResult run(String script, int port, String database) {
        return run(script, "127.0.0.1", Integer.toString(port), database);
    }

    private ProcessResult run(String script, String... args) {
        List<String> all = new ArrayList<>(command);
        all.add(script);
        if (command.get(0).equals("node")) {
            all.add("--"); // node -e takes what follows as process.argv[1...]
        }
        all.addAll(List.of(args));
        ProcessBuilder builder = new ProcessBuilder(all);
        builder.environment().put("NODE_PATH", NODE_MODULES.toString());
        builder.environment().put("PGCONNECT_TIMEOUT", "10");
        try {
            Process process = builder.redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")))
                    .start();
            CompletableFuture<String> stdout = read(process.getInputStream());
            CompletableFuture<String> stderr = read(process.getErrorStream());
            if (!process.waitFor(TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
                process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
                throw new AssertionError(all.get(0) + " did not finish within " + TIMEOUT_SECONDS + " s");
            }
            return new ProcessResult(process.exitValue(), stdout.join(), stderr.join());
        } catch (IOException e) {
            throw new IllegalStateException("cannot run " + all.get(0) + ": " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
    }

    private static CompletableFuture<String> read(InputStream in) {
        return CompletableFuture.supplyAsync(() -> {
            try {
                return new String(in.readAllBytes(), StandardCharsets.UTF_8);
            } catch (IOException e) {
                return "(unreadable: " + e.getMessage() + ")";
            }
        });
    }
}
