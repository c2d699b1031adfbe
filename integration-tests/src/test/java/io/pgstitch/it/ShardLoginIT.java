package io.pgstitch.it;

import io.pgstitch.proxy.postgres.LocalPostgres;
import io.pgstitch.proxy.postgres.PostgresBinaries;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.DataInputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.HashMap;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * pgstitch logging in to shards that demand a password: SCRAM-SHA-256, MD5 and cleartext, each checked on
 * the server side (pg_stat_activity shows the login) and refused cleanly with a wrong password.
 */
class ShardLoginIT {

    private static final String PASSWORD = "shard-secret";
    private static final Map<String, LocalPostgres> servers = new HashMap<>();

    @BeforeAll
    static void start() throws Exception {
        PostgresBinaries binaries = PostgresBinaries.resolve();
        for (String method : new String[] {"scram-sha-256", "md5", "password"}) {
            servers.put(method, LocalPostgres.builder(binaries).name("auth-" + method).password(PASSWORD)
                    .hostAuth(method).start());
        }
    }

    @AfterAll
    static void stop() {
        servers.values().forEach(LocalPostgres::close);
    }

    private static String config(LocalPostgres server, String password) {
        return """
                listen: { host: 127.0.0.1, port: 0 }
                shards:
                  locked: { host: 127.0.0.1, port: %d, user: postgres, password: '%s' }
                default_route: locked
                """.formatted(server.port(), password);
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"scram-sha-256", "md5", "password"})
    void logsInWithTheShardsPassword(String method) throws Exception {
        LocalPostgres server = servers.get(method);
        try (TestProxy proxy = TestProxy.start(config(server, PASSWORD));
             Connection connection = proxy.connect("postgres");
             ResultSet rs = connection.createStatement().executeQuery(
                     "select current_user, current_setting('port')::int, "
                             + "(select rolpassword like 'md5%' from pg_authid where rolname = current_user)")) {
            assertThat(rs.next()).isTrue();
            assertThat(rs.getString(1)).isEqualTo("postgres");
            assertThat(rs.getInt(2)).isEqualTo(server.port());
            assertThat(rs.getBoolean(3)).as("stored as an MD5 hash").isEqualTo(method.equals("md5"));
        }
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"scram-sha-256", "md5", "password"})
    void aWrongShardPasswordIsReportedAsTheShardsRefusal(String method) throws Exception {
        try (TestProxy proxy = TestProxy.start(config(servers.get(method), "wrong"))) {
            assertThatThrownBy(() -> proxy.connect("postgres")).isInstanceOfSatisfying(SQLException.class, e -> {
                assertThat(e.getSQLState()).isEqualTo("28P01");
                assertThat(e.getMessage()).contains("password authentication failed for user \"postgres\"");
            });
        }
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"scram-sha-256"})
    void aMissingShardPasswordNamesTheSetting(String method) throws Exception {
        String yaml = """
                listen: { host: 127.0.0.1, port: 0 }
                shards:
                  locked: { host: 127.0.0.1, port: %d, user: postgres }
                default_route: locked
                """.formatted(servers.get(method).port());
        try (TestProxy proxy = TestProxy.start(yaml)) {
            assertThatThrownBy(() -> proxy.connect("postgres")).isInstanceOfSatisfying(SQLException.class, e -> {
                assertThat(e.getSQLState()).isEqualTo("08001");
                assertThat(e.getMessage()).contains("shards.locked.password is not set");
            });
        }
    }

    /**
     * A shard (or a man in the middle) that answers client-first with AuthenticationOk, skipping the server's
     * proof: pgstitch must not take that as a login.
     */
    @Test
    void aShardThatSkipsTheScramProofIsRefused() throws Exception {
        try (ServerSocket listener = new ServerSocket(0, 10, InetAddress.getByName("127.0.0.1"))) {
            Thread fake = new Thread(() -> {
                try (Socket socket = listener.accept();
                     DataInputStream in = new DataInputStream(socket.getInputStream());
                     OutputStream out = socket.getOutputStream()) {
                    in.readNBytes(in.readInt() - 4); // the startup packet
                    byte[] mechanisms = "SCRAM-SHA-256\0\0".getBytes(StandardCharsets.US_ASCII);
                    out.write(ByteBuffer.allocate(9 + mechanisms.length).put((byte) 'R')
                            .putInt(8 + mechanisms.length).putInt(10).put(mechanisms).array());
                    out.flush();
                    in.readByte(); // SASLInitialResponse
                    in.readNBytes(in.readInt() - 4);
                    out.write(ByteBuffer.allocate(9).put((byte) 'R').putInt(8).putInt(0).array()); // "Ok"
                    out.write(ByteBuffer.allocate(6).put((byte) 'Z').putInt(5).put((byte) 'I').array());
                    out.flush();
                    in.read(); // until pgstitch gives up
                } catch (IOException e) {
                    // closed
                }
            }, "fake-scram-shard");
            fake.setDaemon(true);
            fake.start();
            String yaml = """
                    listen: { host: 127.0.0.1, port: 0 }
                    shards:
                      fake: { host: 127.0.0.1, port: %d, user: postgres, password: secret }
                    default_route: fake
                    """.formatted(listener.getLocalPort());
            try (TestProxy proxy = TestProxy.start(yaml)) {
                assertThatThrownBy(() -> proxy.connect("postgres")).isInstanceOfSatisfying(SQLException.class,
                        e -> assertThat(e.getMessage()).contains("pgstitch cannot log in to shard \"fake\": the "
                                + "server ended SCRAM authentication without proving it knows the password"));
            }
        }
    }
}
