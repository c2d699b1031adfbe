package io.pgstitch.proxy.postgres;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.DataInputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * A PostgreSQL server of our own: a fresh data directory under /tmp (a copy of an {@link InitdbTemplate}),
 * {@code postgres} as a child process on a loopback port, stopped (fast shutdown) and deleted on close or JVM
 * exit. Usage: {@code LocalPostgres.builder(PostgresBinaries.resolve()).name("shard1").start()}.
 *
 * <p>PostgreSQL refuses to run as root. When this JVM is root (CI, containers), initdb and postgres run as
 * {@code nobody} (see {@link ServerUser}), in directories owned by nobody.
 *
 * <p>{@link #execute} needs a {@code psql} binary: the binaries' own, else the one on PATH.
 */
public final class LocalPostgres implements PostgresServer {

    private static final Logger log = LoggerFactory.getLogger(LocalPostgres.class);
    private static final String HOST = "127.0.0.1";
    private static final long START_TIMEOUT_NANOS = TimeUnit.SECONDS.toNanos(60);
    private static final int PROTOCOL_VERSION_3 = 196608;
    private static final int PSQL_TIMEOUT_SECONDS = 120;
    private static final int STOP_TIMEOUT_SECONDS = 10;
    /** Attempts at a free port when none was asked for: another process may take the one we picked. */
    private static final int PORT_ATTEMPTS = 3;

    private final PostgresBinaries binaries;
    private final String name;
    private final String superuser;
    private final String password;
    private final String hostAuth;
    private final Map<String, String> settings;
    private final Path runDir;
    private final Path dataDir;
    private final ServerUser user;
    private final boolean pickPort;
    private final Thread shutdownHook;
    private int port;
    private Process process;

    /** Collects settings; {@link #start()} creates the server. */
    public static final class Builder {
        private final PostgresBinaries binaries;
        private String name = "postgres";
        private int port;
        private String superuser = "postgres";
        private String password;
        private String hostAuth = "scram-sha-256";
        private final Map<String, String> settings = new LinkedHashMap<>();

        private Builder(PostgresBinaries binaries) {
            this.binaries = binaries;
            settings.put("fsync", "off");
            settings.put("synchronous_commit", "off");
            settings.put("full_page_writes", "off");
            settings.put("max_connections", "200");
            settings.put("shared_buffers", "32MB");
        }

        public Builder name(String value) {
            name = value;
            return this;
        }

        /** 0 (the default) picks a free loopback port. */
        public Builder port(int value) {
            port = value;
            return this;
        }

        public Builder superuser(String value) {
            superuser = value;
            return this;
        }

        /** When set, TCP connections need this password (see {@link #hostAuth}); otherwise trust. */
        public Builder password(String value) {
            password = value;
            return this;
        }

        /** How TCP logins prove the password: scram-sha-256 (default), md5 or password (cleartext). */
        public Builder hostAuth(String method) {
            hostAuth = method;
            return this;
        }

        public Builder setting(String setting, String value) {
            settings.put(setting, value);
            return this;
        }

        public LocalPostgres start() throws IOException, InterruptedException {
            LocalPostgres server = new LocalPostgres(this);
            try {
                server.initdb();
                server.launchOnFreePort();
                if (password != null && hostAuth.equals("md5")) {
                    // initdb stored a SCRAM verifier, with which "md5" in pg_hba silently means SCRAM
                    server.execute("postgres", "SET password_encryption = 'md5'; ALTER ROLE \"" + superuser
                            + "\" PASSWORD '" + password.replace("'", "''") + "'");
                }
            } catch (IOException | InterruptedException | RuntimeException e) {
                server.close();
                throw e;
            }
            return server;
        }
    }

    public static Builder builder(PostgresBinaries binaries) {
        return new Builder(binaries);
    }

    private LocalPostgres(Builder builder) throws IOException {
        this.binaries = builder.binaries;
        this.name = builder.name;
        this.superuser = builder.superuser;
        this.password = builder.password;
        this.hostAuth = builder.hostAuth;
        this.settings = new LinkedHashMap<>(builder.settings);
        this.pickPort = builder.port == 0;
        this.port = pickPort ? freePort() : builder.port;
        this.user = ServerUser.current();
        // under /tmp, never under /work or /root: nobody must be able to reach it
        this.runDir = Files.createTempDirectory(Path.of(System.getProperty("java.io.tmpdir")),
                "pgstitch-" + name + "-");
        try {
            SharedDirectory.publicDirectory(runDir);
            user.own(runDir);
        } catch (IOException e) {
            SharedDirectory.deleteRecursively(runDir);
            throw e;
        }
        this.dataDir = runDir.resolve("data");
        this.shutdownHook = new Thread(this::close, "stop-" + name);
        Runtime.getRuntime().addShutdownHook(shutdownHook);
    }

    private void initdb() throws IOException, InterruptedException {
        List<String> options = new ArrayList<>(List.of("-U", superuser, "-E", "UTF8", "--no-locale", "--no-sync",
                "--no-instructions"));
        if (password == null) {
            options.add("--auth=trust");
        } else {
            options.addAll(List.of("--auth-local=trust", "--auth-host=" + hostAuth));
        }
        new InitdbTemplate(binaries, user, SharedDirectory.DEFAULT_ROOT).copyTo(dataDir, options, password);
    }

    private void launchOnFreePort() throws IOException, InterruptedException {
        for (int attempt = 1; !launch(); attempt++) {
            if (!pickPort || attempt == PORT_ATTEMPTS) {
                throw new IOException("PostgreSQL " + name + " cannot listen on " + HOST + ":" + port + ":\n"
                        + tail(runDir.resolve("postgres.log")));
            }
            port = freePort();
        }
    }

    /**
     * Starts postgres and waits until it takes logins; false when its port was taken (it exited saying so).
     */
    private boolean launch() throws IOException, InterruptedException {
        List<String> command = new ArrayList<>(List.of(binaries.bin("postgres").toString(), "-D", dataDir.toString(),
                "-p", Integer.toString(port), "-c", "listen_addresses=" + HOST,
                "-c", "unix_socket_directories=" + runDir));
        settings.forEach((setting, value) -> command.addAll(List.of("-c", setting + "=" + value)));
        Path logFile = runDir.resolve("postgres.log");
        process = new ProcessBuilder(user.command(command)).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(logFile.toFile())).start();
        long deadline = System.nanoTime() + START_TIMEOUT_NANOS;
        while (!acceptsLogins()) {
            if (!process.isAlive()) {
                if (tail(logFile).contains("Address already in use")) {
                    return false;
                }
                throw new IOException("PostgreSQL " + name + " exited with " + process.exitValue() + ":\n"
                        + tail(logFile));
            }
            if (System.nanoTime() > deadline) {
                stop();
                throw new IOException("PostgreSQL " + name + " did not start within 60 s:\n" + tail(logFile));
            }
            Thread.sleep(50);
        }
        log.info("PostgreSQL {} ({}) ready on {}:{}{}", name, binaries.version(), HOST, port,
                user.asNobody() ? " (running as nobody)" : "");
        return true;
    }

    /**
     * Sends a StartupMessage and looks at the first reply: an Authentication request ('R') means the server
     * takes logins; an ErrorResponse (57P03 "the database system is starting up") or a refused connection means
     * not yet.
     *
     * <pre>
     * StartupMessage: Int32 length | Int32 196608 (protocol 3.0) | { String name | String value } | Byte1 0
     * </pre>
     */
    private boolean acceptsLogins() {
        try (Socket socket = new Socket()) {
            socket.connect(new InetSocketAddress(HOST, port), 1000);
            socket.setSoTimeout(2000);
            byte[] parameters = ("user\0" + superuser + "\0database\0postgres\0\0").getBytes(StandardCharsets.UTF_8);
            OutputStream out = socket.getOutputStream();
            int length = Integer.BYTES * 2 + parameters.length;
            out.write(ByteBuffer.allocate(length).putInt(length).putInt(PROTOCOL_VERSION_3).put(parameters).array());
            out.flush();
            return new DataInputStream(socket.getInputStream()).readUnsignedByte() == 'R';
        } catch (IOException e) {
            return false;
        }
    }

    @Override
    public String host() {
        return HOST;
    }

    @Override
    public int port() {
        return port;
    }

    public String name() {
        return name;
    }

    public PostgresBinaries binaries() {
        return binaries;
    }

    /**
     * Runs SQL through psql as the superuser: the binaries' psql when they have one (the embedded bundle has
     * none), else psql from PATH. Fails with psql's own message, e.g. {@code ERROR:  relation "x" does not exist}.
     */
    @Override
    public void execute(String database, String sql) {
        Path bundled = binaries.bin("psql");
        String psql = Files.isExecutable(bundled) ? bundled.toString() : "psql";
        ProcessBuilder builder = new ProcessBuilder(psql, "-X", "-q", "-v", "ON_ERROR_STOP=1", "-h", HOST,
                "-p", Integer.toString(port), "-U", superuser, "-d", database, "-c", sql).redirectErrorStream(true);
        builder.environment().put("PGCONNECT_TIMEOUT", "10");
        if (password != null) {
            builder.environment().put("PGPASSWORD", password);
        }
        try {
            Process run = builder.start();
            run.getOutputStream().close();
            // read while it runs, so that a psql that hangs still meets the timeout below
            CompletableFuture<String> output = CompletableFuture.supplyAsync(() -> readAll(run));
            if (!run.waitFor(PSQL_TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
                run.destroyForcibly();
                throw new IllegalStateException("psql did not finish within " + PSQL_TIMEOUT_SECONDS + " s on "
                        + name + "/" + database + ": " + sql);
            }
            if (run.exitValue() != 0) {
                throw new IllegalStateException("SQL failed on " + name + "/" + database + ": "
                        + output.join().trim());
            }
        } catch (IOException e) {
            throw new IllegalStateException("cannot run psql for " + name + " (is it on PATH?): " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while running SQL on " + name, e);
        }
    }

    private static String readAll(Process process) {
        try (var in = process.getInputStream()) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            return "(psql output unreadable: " + e.getMessage() + ")";
        }
    }

    /** Fast shutdown (SIGINT): active sessions are rolled back and disconnected; the data stays. */
    public void stop() {
        signalFastShutdown();
        awaitExit(STOP_TIMEOUT_SECONDS);
    }

    /**
     * SIGKILL to the postmaster and every backend, for fault tests: no shutdown at all, clients see their
     * connections reset. The backends die with it, as in a crash of the whole machine; left alone, orphaned
     * backends would keep the shared memory that {@link #restart()} needs.
     */
    public void kill() {
        if (process == null || !process.isAlive()) {
            return;
        }
        List<ProcessHandle> backends = process.descendants().toList();
        process.destroyForcibly();
        backends.forEach(ProcessHandle::destroyForcibly);
        awaitExit(STOP_TIMEOUT_SECONDS);
        CompletableFuture.allOf(backends.stream().map(ProcessHandle::onExit).toArray(CompletableFuture[]::new))
                .completeOnTimeout(null, STOP_TIMEOUT_SECONDS, TimeUnit.SECONDS).join();
    }

    /**
     * Starts the server again on the same port and data: after {@link #stop()}, after {@link #kill()} (with
     * crash recovery), or while it runs (stopping it first).
     */
    public void restart() throws IOException, InterruptedException {
        stop();
        if (!launch()) {
            throw new IOException("PostgreSQL " + name + " cannot listen on " + HOST + ":" + port
                    + " again: the port was taken while it was down");
        }
    }

    /** SIGINT, PostgreSQL's fast shutdown. Java itself signals only TERM (smart: waits for every client) or KILL. */
    private void signalFastShutdown() {
        if (process == null || !process.isAlive()) {
            return;
        }
        try {
            new ProcessBuilder("kill", "-INT", Long.toString(process.pid())).inheritIO().start()
                    .waitFor(STOP_TIMEOUT_SECONDS, TimeUnit.SECONDS);
        } catch (IOException e) {
            process.destroy();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private void awaitExit(int seconds) {
        try {
            if (process != null && !process.waitFor(seconds, TimeUnit.SECONDS)) {
                process.destroyForcibly().waitFor(seconds, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Stops the server and deletes its directory; also run at JVM exit for servers not closed. */
    @Override
    public void close() {
        stop();
        try {
            Runtime.getRuntime().removeShutdownHook(shutdownHook);
        } catch (IllegalStateException e) {
            // the JVM is already shutting down; the hook is running or ran
        }
        SharedDirectory.deleteRecursively(runDir);
    }

    private static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0, 1, java.net.InetAddress.getByName(HOST))) {
            return socket.getLocalPort();
        }
    }

    static String tail(Path file) {
        try {
            List<String> lines = Files.readAllLines(file);
            return String.join("\n", lines.subList(Math.max(0, lines.size() - 20), lines.size()));
        } catch (IOException e) {
            return "(no log: " + e.getMessage() + ")";
        }
    }

    @Override
    public String toString() {
        return "PostgreSQL " + name + " on " + HOST + ":" + port;
    }
}
