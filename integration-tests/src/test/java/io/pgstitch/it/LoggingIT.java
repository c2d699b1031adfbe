package io.pgstitch.it;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
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
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * {@code logging.format} in a real {@code pgstitch run}: with json every line is a JSON object, with text a line;
 * either way a session's lines carry the client's id, database and user, and no line carries a password or a query
 * parameter.
 */
@ExtendWith(PostgresExtension.class)
class LoggingIT {

    private static final String PASSWORD = "pw-never-logged-7781";
    private static final String PARAMETER = "param-never-logged-5523";

    /** What a test checks in the log of {@link #runSessions}, while pgstitch still runs. */
    @FunctionalInterface
    private interface LogCheck {
        void check(Path dir, Process proxy) throws Exception;
    }

    @Test
    void jsonLinesCarryTheSessionAndNoSecrets(PostgresCluster cluster, @TempDir Path dir) throws Exception {
        runSessions(cluster, dir, "json", (logDir, proxy) -> {
            List<JsonNode> lines = awaitLine(logDir, proxy, "closing client");
            JsonNode refused = lines.stream().filter(line -> line.path("formattedMessage").asText()
                    .startsWith("closing client")).findFirst().orElseThrow();
            assertThat(refused.at("/mdc/database").asText()).isEqualTo("nowhere");
            assertThat(refused.at("/mdc/user").asText()).isEqualTo("alice");
            assertThat(refused.at("/mdc/client").asLong()).isPositive();
            assertThat(refused.path("level").asText()).isEqualTo("INFO");
            awaitLine(logDir, proxy, "admin console: user admin");
        });
    }

    /** logging.format: text (the default) ends each line of a session with its client id, database and user. */
    @Test
    void textLinesCarryTheSessionAndNoSecrets(PostgresCluster cluster, @TempDir Path dir) throws Exception {
        runSessions(cluster, dir, "text", (logDir, proxy) -> {
            assertThat(awaitLog(logDir, proxy, "closing client", line -> line.contains(" - closing client")))
                    .matches(".* INFO .* - closing client .*\\[client \\d+ database nowhere user alice]");
            assertThat(awaitLog(logDir, proxy, "admin console",
                    line -> line.contains(" - admin console: user admin")))
                    .matches(".* - admin console: user admin .*\\[client \\d+ database pgstitch user admin]");
        });
    }

    /**
     * Runs {@code pgstitch run} with {@code logging.format: format}: alice's query with a parameter, her refusal
     * from an unrouted database, an admin console session; then {@code check}, and that the log has no secret.
     */
    private static void runSessions(PostgresCluster cluster, Path dir, String format, LogCheck check)
            throws Exception {
        Tenants.ensure(cluster);
        int port;
        try (ServerSocket socket = new ServerSocket(0)) {
            port = socket.getLocalPort();
        }
        Files.writeString(dir.resolve("users.txt"), "\"alice\" \"" + PASSWORD + "\"\n\"admin\" \"" + PASSWORD + "\"\n");
        Path file = dir.resolve("pgstitch.yaml");
        Files.writeString(file, TestProxy.standardRoutes(cluster).replace("port: 0", "port: " + port)
                .replace("auth: { method: trust }", "auth: { method: scram-sha-256, users_file: users.txt }")
                + "admin: { users: [admin] }\nlogging: { format: " + format + " }\n");
        List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java")
                        .toString(), "-Dlogback.configurationFile=logback.xml", "-cp",
                System.getProperty("java.class.path"), "io.pgstitch.proxy.cli.Main", "run", "--config", file.toString()));
        Process proxy = new ProcessBuilder(command).redirectErrorStream(true)
                .redirectOutput(dir.resolve("proxy.log").toFile()).start();
        try {
            awaitListening(port, proxy, dir);
            String url = "jdbc:postgresql://127.0.0.1:" + port + "/";
            try (Connection alice = DriverManager.getConnection(url + "tenant_a", "alice", PASSWORD);
                 PreparedStatement statement = alice.prepareStatement("select tenant from whoami where tenant <> ?")) {
                statement.setString(1, PARAMETER);
                try (ResultSet rs = statement.executeQuery()) {
                    assertThat(rs.next()).isTrue();
                }
            }
            assertThatThrownBy(() -> DriverManager.getConnection(url + "nowhere", "alice", PASSWORD))
                    .isInstanceOf(SQLException.class).hasMessageContaining("is not routed");
            try (Connection admin = DriverManager.getConnection(url + "pgstitch?preferQueryMode=simple", "admin",
                    PASSWORD)) {
                admin.createStatement().execute("SHOW VERSION");
            }
            check.check(dir, proxy);
            String log = Files.readString(dir.resolve("proxy.log"));
            assertThat(log).doesNotContain(PASSWORD).doesNotContain(PARAMETER);
        } finally {
            proxy.destroy();
            proxy.waitFor(30, TimeUnit.SECONDS);
        }
    }

    /** Every line of the log as JSON (each must parse), once a line's message starts with {@code text}. */
    private static List<JsonNode> awaitLine(Path dir, Process proxy, String text) throws Exception {
        ObjectMapper json = new ObjectMapper();
        List<JsonNode> lines = new ArrayList<>();
        awaitLog(dir, proxy, text, line -> {
            try {
                return json.readTree(line).path("formattedMessage").asText().startsWith(text);
            } catch (java.io.IOException e) {
                throw new AssertionError("not a JSON line: " + line, e);
            }
        });
        for (String line : Files.readAllLines(dir.resolve("proxy.log"))) {
            if (!line.isBlank()) {
                lines.add(json.readTree(line)); // a line that is not JSON fails here
            }
        }
        return lines;
    }

    /** The first line of the log that {@code matches}, once there is one; {@code what} says what it looks for. */
    private static String awaitLog(Path dir, Process proxy, String what, Predicate<String> matches)
            throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (true) {
            for (String line : Files.readAllLines(dir.resolve("proxy.log"))) {
                if (!line.isBlank() && matches.test(line)) {
                    return line;
                }
            }
            assertThat(System.nanoTime()).as("a log line with " + what + ": "
                    + Files.readString(dir.resolve("proxy.log"))).isLessThan(deadline);
            assertThat(proxy.isAlive()).isTrue();
            Thread.sleep(50);
        }
    }

    private static void awaitListening(int port, Process proxy, Path dir) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (true) {
            try (java.net.Socket socket = new java.net.Socket("127.0.0.1", port)) {
                return;
            } catch (java.io.IOException notYet) {
                if (!proxy.isAlive() || System.nanoTime() > deadline) {
                    throw new AssertionError("pgstitch run did not listen: " + Files.readString(dir.resolve("proxy.log")));
                }
                Thread.sleep(100);
            }
        }
    }
}
