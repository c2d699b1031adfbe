package io.pgstitch.it;

import io.pgstitch.it.support.PostgresCluster;
import io.pgstitch.it.support.PostgresExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** `pgstitch run` as its own process: SIGHUP reloads the file, SIGTERM drains, a second signal stops it. */
@ExtendWith(PostgresExtension.class)
class RunCommandIT {

    @Test
    void sighupReloadsAndSigtermStops(PostgresCluster cluster, @TempDir Path dir) throws Exception {
        Tenants.create(cluster.shard(1), "hup", "hup", "shard1");
        Tenants.create(cluster.shard(2), "hup", "hup", "shard2");
        int port = freePort();
        Path file = dir.resolve("pgstitch.yaml");
        String before = TestProxy.config(cluster, "routes:\n  hup: shard1\n").replace("port: 0", "port: " + port);
        Files.writeString(file, before);
        Process proxy = run(file, dir, "--no-watch");
        try {
            String url = "jdbc:postgresql://127.0.0.1:" + port + "/hup";
            awaitListening(port, proxy, dir);
            assertThat(tenantShard(url)).isEqualTo("shard1");

            Files.writeString(file, before.replace("hup: shard1", "hup: shard2"));
            assertThat(tenantShard(url)).as("--no-watch: an edit alone changes nothing").isEqualTo("shard1");

            signal(proxy, "HUP");
            String after = "shard1";
            for (int i = 0; i < 100 && after.equals("shard1"); i++) {
                Thread.sleep(100); // the reload happens on the JVM's signal thread
                after = tenantShard(url);
            }
            assertThat(after).isEqualTo("shard2");

            signal(proxy, "TERM");
            assertThat(proxy.waitFor(30, TimeUnit.SECONDS)).as("stopped by SIGTERM").isTrue();
            assertThat(Files.readString(dir.resolve("proxy.log"))).contains("SIGHUP: configuration reloaded")
                    .contains("shutting down");
        } finally {
            proxy.destroyForcibly();
        }
    }

    @Test
    void sigtermDrainsOpenSessionsAndASecondSignalEndsThem(PostgresCluster cluster, @TempDir Path dir)
            throws Exception {
        Tenants.ensure(cluster);
        int port = freePort();
        Path file = dir.resolve("pgstitch.yaml");
        Files.writeString(file, TestProxy.standardRoutes(cluster).replace("port: 0", "port: " + port)
                .replace("listen: { host: 127.0.0.1,", "listen: { shutdown_timeout: 120s, host: 127.0.0.1,"));
        String url = "jdbc:postgresql://127.0.0.1:" + port + "/tenant_a";
        Process proxy = run(file, dir);
        try {
            awaitListening(port, proxy, dir);
            try (Connection open = DriverManager.getConnection(url, "postgres", "")) {
                signal(proxy, "TERM");
                awaitLog(dir, "no longer accepting clients");
                assertThatThrownBy(() -> DriverManager.getConnection(url, "postgres", "").close())
                        .as("new clients are refused").isInstanceOf(java.sql.SQLException.class);
                try (ResultSet rs = open.createStatement().executeQuery("select tenant from whoami")) {
                    rs.next();
                    assertThat(rs.getString(1)).as("the open session goes on").isEqualTo("tenant_a");
                }
                assertThat(proxy.isAlive()).isTrue();
                signal(proxy, "INT");
                // well before the 120 s shutdown_timeout
                assertThat(proxy.waitFor(60, TimeUnit.SECONDS)).as("the second signal ends it").isTrue();
            }
            assertThat(Files.readString(dir.resolve("proxy.log"))).contains("second signal");
        } finally {
            proxy.destroyForcibly();
        }
    }

    @Test
    void sigtermWithNoSessionLeftStopsAtOnce(PostgresCluster cluster, @TempDir Path dir) throws Exception {
        int port = freePort();
        Path file = dir.resolve("pgstitch.yaml");
        Files.writeString(file, TestProxy.standardRoutes(cluster).replace("port: 0", "port: " + port)
                .replace("listen: { host: 127.0.0.1,", "listen: { shutdown_timeout: 120s, host: 127.0.0.1,"));
        Process proxy = run(file, dir);
        try {
            awaitListening(port, proxy, dir);
            Connection open = DriverManager.getConnection("jdbc:postgresql://127.0.0.1:" + port + "/tenant_a",
                    "postgres", "");
            signal(proxy, "TERM");
            awaitLog(dir, "no longer accepting clients");
            open.close(); // the last session ends: the proxy need not wait for the timeout
            assertThat(proxy.waitFor(60, TimeUnit.SECONDS)).isTrue();
            assertThat(proxy.exitValue()).isZero();
        } finally {
            proxy.destroyForcibly();
        }
    }

    private static Process run(Path file, Path dir, String... options) throws Exception {
        java.util.List<String> command = new java.util.ArrayList<>(java.util.List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp", System.getProperty("java.class.path"), "io.pgstitch.proxy.cli.Main",
                "run", "--config", file.toString()));
        command.addAll(java.util.List.of(options));
        return new ProcessBuilder(command).redirectErrorStream(true)
                .redirectOutput(dir.resolve("proxy.log").toFile()).start();
    }

    private static void signal(Process process, String signal) throws Exception {
        new ProcessBuilder("kill", "-" + signal, Long.toString(process.pid())).start().waitFor(10, TimeUnit.SECONDS);
    }

    private static int freePort() throws Exception {
        try (ServerSocket socket = new ServerSocket(0)) {
            return socket.getLocalPort();
        }
    }

    private static void awaitLog(Path dir, String text) throws Exception {
        for (int i = 0; i < 300; i++) {
            if (Files.readString(dir.resolve("proxy.log")).contains(text)) {
                return;
            }
            Thread.sleep(50);
        }
        throw new AssertionError("never logged \"" + text + "\": " + Files.readString(dir.resolve("proxy.log")));
    }

    private static String tenantShard(String url) throws Exception {
        try (Connection connection = DriverManager.getConnection(url, "postgres", "");
             ResultSet rs = connection.createStatement().executeQuery("select shard from whoami")) {
            rs.next();
            return rs.getString(1);
        }
    }

    private static void awaitListening(int port, Process proxy, Path dir) throws Exception {
        for (int i = 0; i < 300; i++) {
            try (java.net.Socket socket = new java.net.Socket("127.0.0.1", port)) {
                return;
            } catch (java.io.IOException notYet) {
                if (!proxy.isAlive()) {
                    throw new AssertionError("pgstitch run exited: " + Files.readString(dir.resolve("proxy.log")));
                }
                Thread.sleep(100);
            }
        }
        throw new AssertionError("pgstitch run did not listen: " + Files.readString(dir.resolve("proxy.log")));
    }
}
