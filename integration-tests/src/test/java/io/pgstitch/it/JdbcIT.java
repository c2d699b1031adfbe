package io.pgstitch.it;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import org.junit.jupiter.api.Test;
import org.postgresql.PGConnection;
import org.postgresql.PGNotification;

import java.sql.Connection;
import java.sql.DatabaseMetaData;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** PgJDBC and HikariCP through pgstitch: what an ORM-backed application does. */
class JdbcIT extends ProxiedTest {

    @Test
    void simpleQueryProtocolStatements() throws Exception {
        Properties simple = new Properties();
        simple.setProperty("preferQueryMode", "simple");
        try (Connection connection = proxy.connect("tenant_a", simple); Statement statement = connection.createStatement()) {
            statement.execute("create temp table t (id int primary key, name text)");
            assertThat(statement.executeUpdate("insert into t values (1, 'one'), (2, 'two')")).isEqualTo(2);
            try (ResultSet rs = statement.executeQuery("select name from t order by id")) {
                assertThat(rs.next()).isTrue();
                assertThat(rs.getString(1)).isEqualTo("one");
                assertThat(rs.next()).isTrue();
                assertThat(rs.getString(1)).isEqualTo("two");
                assertThat(rs.next()).isFalse();
            }
        }
    }

    @Test
    void preparedStatementsPastThePrepareThresholdUseNamedServerStatements() throws Exception {
        Properties props = new Properties();
        props.setProperty("prepareThreshold", "3");
        try (Connection connection = proxy.connect("tenant_a", props);
             PreparedStatement statement = connection.prepareStatement("select ?::int * 2, pg_backend_pid()")) {
            for (int i = 0; i < 10; i++) {
                statement.setInt(1, i);
                try (ResultSet rs = statement.executeQuery()) {
                    assertThat(rs.next()).isTrue();
                    assertThat(rs.getInt(1)).isEqualTo(i * 2);
                }
            }
            assertThat(statement.unwrap(org.postgresql.PGStatement.class).isUseServerPrepare()).isTrue();
            try (ResultSet rs = connection.createStatement().executeQuery(
                    "select count(*) from pg_prepared_statements where not from_sql")) {
                rs.next();
                assertThat(rs.getInt(1)).as("a named statement exists on the backend").isGreaterThanOrEqualTo(1);
            }
        }
    }

    @Test
    void batchesAndTransactions() throws Exception {
        try (Connection connection = proxy.connect("tenant_a")) {
            connection.createStatement().execute("create temp table b (id int)");
            connection.setAutoCommit(false);
            try (PreparedStatement insert = connection.prepareStatement("insert into b values (?)")) {
                for (int i = 0; i < 500; i++) {
                    insert.setInt(1, i);
                    insert.addBatch();
                }
                int[] counts = insert.executeBatch();
                assertThat(counts).hasSize(500).containsOnly(1);
            }
            connection.rollback();
            connection.setAutoCommit(true);
            try (ResultSet rs = connection.createStatement().executeQuery("select count(*) from b")) {
                rs.next();
                assertThat(rs.getInt(1)).as("rolled back").isZero();
            }
        }
    }

    @Test
    void errorsReachTheClientAndTheSessionStaysUsable() throws Exception {
        try (Connection connection = proxy.connect("tenant_a"); Statement statement = connection.createStatement()) {
            assertThatThrownBy(() -> statement.execute("select * from no_such_table"))
                    .isInstanceOfSatisfying(SQLException.class, e -> assertThat(e.getSQLState()).isEqualTo("42P01"));
            try (ResultSet rs = statement.executeQuery("select 1")) {
                assertThat(rs.next()).isTrue();
            }
        }
    }

    @Test
    void metadataCalls() throws Exception {
        try (Connection connection = proxy.connect("tenant_a")) {
            DatabaseMetaData meta = connection.getMetaData();
            assertThat(meta.getDatabaseProductName()).isEqualTo("PostgreSQL");
            try (ResultSet tables = meta.getTables(null, "public", "whoami", new String[] {"TABLE"})) {
                assertThat(tables.next()).isTrue();
                assertThat(tables.getString("TABLE_NAME")).isEqualTo("whoami");
            }
            List<String> columns = new ArrayList<>();
            try (ResultSet rs = meta.getColumns(null, "public", "whoami", null)) {
                while (rs.next()) {
                    columns.add(rs.getString("COLUMN_NAME"));
                }
            }
            assertThat(columns).containsExactly("tenant", "shard");
            try (ResultSet rs = meta.getSchemas()) {
                assertThat(rs.next()).isTrue();
            }
        }
    }

    @Test
    void aMillionRowResultArrivesWhole() throws Exception {
        try (Connection connection = proxy.connect("tenant_a"); Statement statement = connection.createStatement()) {
            connection.setAutoCommit(false);
            statement.setFetchSize(10_000); // a portal read in chunks: Execute with a row limit, PortalSuspended
            long rows = 0;
            long sum = 0;
            try (ResultSet rs = statement.executeQuery("select g, repeat('x', 20) from generate_series(1, 1000000) g")) {
                while (rs.next()) {
                    rows++;
                    sum += rs.getLong(1);
                }
            }
            connection.commit();
            assertThat(rows).isEqualTo(1_000_000);
            assertThat(sum).isEqualTo(1_000_000L * 1_000_001L / 2);
        }
    }

    @Test
    void listenNotifyAcrossTwoClientSessions() throws Exception {
        try (Connection listener = proxy.connect("tenant_a"); Connection notifier = proxy.connect("tenant_a")) {
            listener.createStatement().execute("listen pgstitch_events");
            notifier.createStatement().execute("notify pgstitch_events, 'hello'");
            PGNotification[] notifications = listener.unwrap(PGConnection.class).getNotifications(10_000);
            assertThat(notifications).isNotNull().hasSize(1);
            assertThat(notifications[0].getName()).isEqualTo("pgstitch_events");
            assertThat(notifications[0].getParameter()).isEqualTo("hello");
        }
    }

    @Test
    void hikariPoolPointedAtTheProxy() throws Exception {
        HikariConfig config = new HikariConfig();
        config.setJdbcUrl(proxy.jdbcUrl("tenant_b"));
        config.setUsername("postgres");
        config.setMaximumPoolSize(4);
        config.setConnectionTimeout(10_000);
        try (HikariDataSource pool = new HikariDataSource(config)) {
            ExecutorService threads = Executors.newFixedThreadPool(8);
            try {
                List<Future<String>> results = new ArrayList<>();
                for (int i = 0; i < 64; i++) {
                    results.add(threads.submit(() -> {
                        try (Connection connection = pool.getConnection();
                             ResultSet rs = connection.createStatement().executeQuery("select tenant from whoami")) {
                            rs.next();
                            return rs.getString(1);
                        }
                    }));
                }
                for (Future<String> result : results) {
                    assertThat(result.get()).isEqualTo("tenant_b");
                }
            } finally {
                threads.shutdownNow();
            }
        }
    }

    @Test
    void statementCancelStopsALongQuery() throws Exception {
        try (Connection connection = proxy.connect("tenant_a"); Statement statement = connection.createStatement()) {
            ExecutorService canceller = Executors.newSingleThreadExecutor();
            try {
                Future<?> cancel = canceller.submit(() -> {
                    awaitBackendRunning();
                    statement.cancel();
                    return null;
                });
                assertThatThrownBy(() -> statement.execute("select pg_sleep(60)"))
                        .isInstanceOfSatisfying(SQLException.class, e -> assertThat(e.getSQLState()).isEqualTo("57014"));
                cancel.get();
            } finally {
                canceller.shutdownNow();
            }
            try (ResultSet rs = statement.executeQuery("select 1")) {
                assertThat(rs.next()).isTrue();
            }
        }
    }

    /** Waits until a pg_sleep of the shard is running, seen from a second connection. */
    private static void awaitBackendRunning() throws Exception {
        try (Connection observer = proxy.connect("tenant_a")) {
            for (int i = 0; i < 200; i++) {
                try (ResultSet rs = observer.createStatement().executeQuery(
                        "select count(*) from pg_stat_activity where query = 'select pg_sleep(60)' and state = 'active'")) {
                    rs.next();
                    if (rs.getInt(1) > 0) {
                        return;
                    }
                }
                Thread.sleep(50);
            }
        }
    }
}
