package io.pgstitch.it;

import io.pgstitch.it.support.PostgresCluster;
import io.pgstitch.it.support.PostgresExtension;
import io.pgstitch.it.support.ProcessResult;
import io.pgstitch.it.support.Psql;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Tools written for PgBouncer's console read pgstitch's unchanged: for every SHOW command both have, a real
 * PgBouncer's columns (names and order) come first in pgstitch's answer; SHOW LISTS has PgBouncer's rows first.
 * Needs the pgbouncer binary (Debian package pgbouncer, which .ci/run installs); skipped, saying so, without it.
 */
@ExtendWith(PostgresExtension.class)
class PgBouncerColumnsIT {

    private static final List<String> COMMANDS = List.of("POOLS", "STATS", "CLIENTS", "SERVERS", "DATABASES",
            "LISTS", "CONFIG", "VERSION");

    @Test
    void pgstitchAnswersWithPgBouncersColumnsFirst(PostgresCluster cluster, @TempDir Path dir) throws Exception {
        Path binary = pgbouncer();
        Psql.assumeAvailable();
        Assumptions.assumeTrue(binary != null, "pgbouncer is not installed (apt-get install pgbouncer): skipping "
                + "the comparison with a real PgBouncer");
        Tenants.ensure(cluster);
        Process bouncer = startPgBouncer(binary, dir, cluster.shard(1).port());
        try (TestProxy proxy = TestProxy.start(TestProxy.standardRoutes(cluster) + "admin: { users: [admin] }\n")) {
            int bouncerPort = awaitPort(dir, bouncer);
            try (Connection client = proxy.connect("tenant_a")) {
                client.createStatement().execute("select 1"); // so that pools, servers and stats have rows
                for (String command : COMMANDS) {
                    List<String> expected = show(bouncerPort, command).get(0);
                    List<String> actual = show(proxy.port(), command).get(0);
                    assertThat(actual).as("SHOW " + command + " starts with PgBouncer's columns, in order")
                            .startsWith(expected.toArray(String[]::new));
                }
                List<String> theirLists = show(bouncerPort, "LISTS").stream().skip(1).map(row -> row.get(0)).toList();
                List<String> ourLists = show(proxy.port(), "LISTS").stream().skip(1).map(row -> row.get(0)).toList();
                assertThat(ourLists).startsWith(theirLists.toArray(String[]::new));
            }
        } finally {
            bouncer.destroy();
            bouncer.waitFor(10, TimeUnit.SECONDS);
        }
    }

    /**
     * {@code SHOW command} on a console through psql (PgJDBC's connection-time SET is refused by PgBouncer's
     * console): the header line, then each row, split at '|'.
     */
    private static List<List<String>> show(int port, String command) {
        ProcessResult result = Psql.at("127.0.0.1", port).user("admin").database("pgbouncer")
                .run("-A", "-F", "|", "-P", "footer=off", "-c", "SHOW " + command);
        assertThat(result.exitCode()).as("SHOW " + command + " on port " + port + ": " + result.stderr()).isZero();
        return result.stdout().lines().map(line -> List.of(line.split("\\|", -1))).toList();
    }

    private static Path pgbouncer() {
        for (String directory : (System.getenv("PATH") + ":/usr/sbin:/usr/local/sbin").split(":")) {
            Path candidate = Path.of(directory, "pgbouncer");
            if (Files.isExecutable(candidate)) {
                return candidate;
            }
        }
        return null;
    }

    /** PgBouncer in the foreground, as nobody when the tests run as root (it refuses to run as root). */
    private static Process startPgBouncer(Path binary, Path dir, int shardPort) throws IOException {
        int port;
        try (ServerSocket socket = new ServerSocket(0)) {
            port = socket.getLocalPort();
        }
        Files.writeString(dir.resolve("users.txt"), "\"admin\" \"\"\n");
        Files.writeString(dir.resolve("pgbouncer.ini"), """
                [databases]
                tenant_a = host=127.0.0.1 port=%d dbname=tenant_a user=postgres
                [pgbouncer]
                listen_addr = 127.0.0.1
                listen_port = %d
                auth_type = trust
                auth_file = %s
                admin_users = admin
                pool_mode = session
                """.formatted(shardPort, port, dir.resolve("users.txt")));
        Files.writeString(dir.resolve("port"), Integer.toString(port));
        List<String> command = new ArrayList<>();
        if ("root".equals(System.getProperty("user.name"))) {
            command.addAll(List.of("setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups"));
            dir.toFile().setReadable(true, false);
            dir.toFile().setExecutable(true, false);
            for (String name : List.of("users.txt", "pgbouncer.ini")) {
                dir.resolve(name).toFile().setReadable(true, false);
            }
        }
        command.add(binary.toString());
        command.add(dir.resolve("pgbouncer.ini").toString());
        ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true)
                .redirectOutput(dir.resolve("pgbouncer.log").toFile());
        builder.environment().putAll(Map.of("LC_ALL", "C"));
        return builder.start();
    }

    private static int awaitPort(Path dir, Process bouncer) throws Exception {
        int port = Integer.parseInt(Files.readString(dir.resolve("port")));
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (true) {
            try (java.net.Socket socket = new java.net.Socket("127.0.0.1", port)) {
                return port;
            } catch (IOException e) {
                if (!bouncer.isAlive() || System.nanoTime() > deadline) {
                    throw new AssertionError("pgbouncer did not start: " + Files.readString(dir.resolve("pgbouncer.log")),
                            e);
                }
                Thread.sleep(50);
            }
        }
    }
}
