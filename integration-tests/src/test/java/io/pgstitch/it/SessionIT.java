package io.pgstitch.it;

import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.SQLWarning;
import java.sql.Statement;
import java.util.Map;
import java.util.Properties;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** What a session carries through the proxy: startup parameters, notices, ParameterStatus, and its end. */
class SessionIT extends ProxiedTest {

    private static String single(Connection connection, String sql) throws SQLException {
        try (Statement statement = connection.createStatement(); ResultSet rs = statement.executeQuery(sql)) {
            rs.next();
            return rs.getString(1);
        }
    }

    @Test
    void startupParametersReachTheBackend() throws Exception {
        Properties props = new Properties();
        props.setProperty("ApplicationName", "pgstitch-session-test");
        props.setProperty("options", "-c search_path=pg_catalog,public -c statement_timeout=12345");
        try (Connection connection = proxy.connect("tenant_a", props)) {
            assertThat(single(connection, "show application_name")).isEqualTo("pgstitch-session-test");
            assertThat(single(connection, "show search_path")).isEqualTo("pg_catalog,public");
            assertThat(single(connection, "show statement_timeout")).isEqualTo("12345ms");
        }
    }

    @Test
    void noticesReachTheClient() throws Exception {
        try (Connection connection = proxy.connect("tenant_a"); Statement statement = connection.createStatement()) {
            statement.execute("do $$ begin raise notice 'hello from %', current_database(); end $$");
            SQLWarning warning = statement.getWarnings();
            assertThat((Object) warning).isNotNull();
            assertThat(warning.getMessage()).contains("hello from tenant_a");
        }
    }

    @Test
    void parameterStatusChangesAreRelayed() throws Exception {
        try (RawClient client = RawClient.connect(proxy.port())) {
            client.sendStartup(Map.of("user", "postgres", "database", "tenant_a"));
            RawClient.Message status;
            boolean sawServerVersion = false;
            do {
                status = client.read();
                sawServerVersion |= status.type() == 'S' && new String(status.body(), StandardCharsets.UTF_8)
                        .startsWith("server_version\0");
            } while (status.type() != 'Z');
            assertThat(sawServerVersion).as("the backend's ParameterStatus set at login").isTrue();

            client.send('Q', "set application_name = 'renamed'\0".getBytes(StandardCharsets.UTF_8));
            RawClient.Message changed = client.readUntil('S');
            assertThat(new String(changed.body(), StandardCharsets.UTF_8)).isEqualTo("application_name\0renamed\0");
            assertThat(client.readUntil('Z').body()).containsExactly('I');
        }
    }

    @Test
    void transactionStatusIsTheBackendsOwn() throws Exception {
        try (RawClient client = RawClient.connect(proxy.port())) {
            client.sendStartup(Map.of("user", "postgres", "database", "tenant_a"));
            client.readUntil('Z');
            client.send('Q', "begin\0".getBytes(StandardCharsets.UTF_8));
            assertThat(client.readUntil('Z').body()).containsExactly('T');
            client.send('Q', "select 1/0\0".getBytes(StandardCharsets.UTF_8));
            assertThat(client.readUntil('E').sqlState()).isEqualTo("22012");
            assertThat(client.readUntil('Z').body()).containsExactly('E');
            client.send('Q', "rollback\0".getBytes(StandardCharsets.UTF_8));
            assertThat(client.readUntil('Z').body()).containsExactly('I');
        }
    }

    @Test
    void aBackendTerminatedByTheServerEndsTheClientWithTheServersReason() throws Exception {
        String application = "pgstitch-victim-" + System.nanoTime();
        Properties props = new Properties();
        props.setProperty("ApplicationName", application);
        try (Connection victim = proxy.connect("tenant_a", props)) {
            try (Connection admin = DriverManager.getConnection(cluster.shard(1).jdbcUrl("tenant_a"), "postgres", "")) {
                single(admin, "select pg_terminate_backend(pid)::text from pg_stat_activity where application_name = '"
                        + application + "'");
            }
            assertThatThrownBy(() -> single(victim, "select 1")).isInstanceOfSatisfying(SQLException.class,
                    e -> assertThat(e.getSQLState()).isIn("57P01", "08006"));
            assertThat(victim.isValid(2)).isFalse();
        }
        try (Connection fresh = proxy.connect("tenant_a")) {
            assertThat(single(fresh, "select 'still serving'")).isEqualTo("still serving");
        }
    }
}
