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

/** `pgstitch run` as its own process: SIGHUP reloads the file, SIGTERM stops it cleanly. */
@ExtendWith(PostgresExtension.class)
class RunCommandIT {

    @Test
    void sighupReloadsAndSigtermStops(PostgresCluster cluster, @TempDir Path dir) throws Exception {
        Tenants.create(cluster.shard(1), "hup", "hup", "shard1");
        Tenants.create(cluster.shard(2), "hup", "hup", "shard2");
        int port;
        try (ServerSocket socket = new ServerSocket(0)) {
            port = socket.getLocalPort();
        }
        Path file = dir.resolve("pgstitch.yaml");
        String before = TestProxy.config(cluster, "routes:\n  hup: shard1\n").replace("port: 0", "port: " + port);
        Files.writeString(file, before);
        Process proxy = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp", System.getProperty("java.class.path"), "io.pgstitch.proxy.cli.Main",
                "run", "--config", file.toString(), "--no-watch")
                .redirectErrorStream(true).redirectOutput(dir.resolve("proxy.log").toFile()).start();
        try {
            String url = "jdbc:postgresql://127.0.0.1:" + port + "/hup";
            awaitListening(port, proxy, dir);
            assertThat(tenantShard(url)).isEqualTo("shard1");

            Files.writeString(file, before.replace("hup: shard1", "hup: shard2"));
            assertThat(tenantShard(url)).as("--no-watch: an edit alone changes nothing").isEqualTo("shard1");

            new ProcessBuilder("kill", "-HUP", Long.toString(proxy.pid())).start().waitFor(10, TimeUnit.SECONDS);
            String after = "shard1";
            for (int i = 0; i < 100 && after.equals("shard1"); i++) {
                Thread.sleep(100); // the reload happens on the JVM's signal thread
                after = tenantShard(url);
            }
            assertThat(after).isEqualTo("shard2");

            new ProcessBuilder("kill", "-TERM", Long.toString(proxy.pid())).start().waitFor(10, TimeUnit.SECONDS);
            assertThat(proxy.waitFor(30, TimeUnit.SECONDS)).as("stopped by SIGTERM").isTrue();
            assertThat(Files.readString(dir.resolve("proxy.log"))).contains("SIGHUP: configuration reloaded")
                    .contains("shutting down");
        } finally {
            proxy.destroyForcibly();
        }
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
