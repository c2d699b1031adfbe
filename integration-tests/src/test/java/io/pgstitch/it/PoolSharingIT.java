package io.pgstitch.it;

import io.pgstitch.it.support.PostgresCluster;
import io.pgstitch.it.support.PostgresExtension;
import io.pgstitch.proxy.pool.BackendPool;
import io.pgstitch.proxy.pool.PoolMeters;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.postgresql.PGConnection;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Pools are per (shard, database, user): clients that differ only in their startup parameters share one, and
 * each still gets exactly its own settings, reported back as PostgreSQL would (ParameterStatus), never another
 * client's. The shard's total caps every pool of the shard together.
 */
@ExtendWith(PostgresExtension.class)
class PoolSharingIT {

    private static final int CLIENTS = 1000;
    private static TestProxy proxy;

    @BeforeAll
    static void start(PostgresCluster cluster) throws Exception {
        Tenants.create(cluster.shard(1), "shared", "shared", "shard1");
        Tenants.create(cluster.shard(1), "shared_other", "shared_other", "shard1");
        proxy = TestProxy.start("""
                listen: { host: 127.0.0.1, port: 0 }
                shards:
                  shard1:
                    host: 127.0.0.1
                    port: %d
                    user: postgres
                    pool: { size: 4, wait_timeout: 2s }
                routes:
                  shared: shard1
                  shared_other: shard1
                """.formatted(cluster.shard(1).port()));
    }

    @AfterAll
    static void stop() {
        proxy.close();
    }

    private static Properties named(String applicationName) {
        Properties properties = new Properties();
        properties.setProperty("ApplicationName", applicationName);
        // in the startup packet (PgJDBC sends it with a SET after login unless it may assume PostgreSQL 9.0+)
        properties.setProperty("assumeMinServerVersion", "10");
        return properties;
    }

    private static String single(Connection connection, String sql) throws SQLException {
        try (Statement statement = connection.createStatement(); ResultSet rs = statement.executeQuery(sql)) {
            rs.next();
            return rs.getString(1);
        }
    }

    @Test
    void clientsWithDistinctApplicationNamesShareOnePoolAndEachSeesItsOwnSettings() throws Exception {
        PoolMeters meters = proxy.server().pools().meters();
        double before = meters.count(PoolMeters.Served.NEW);
        for (int i = 0; i < CLIENTS; i++) {
            String name = "client-" + i;
            try (Connection connection = proxy.connect("shared", named(name))) {
                assertThat(single(connection, "select current_setting('application_name')")).isEqualTo(name);
                assertThat(((PGConnection) connection).getParameterStatus("application_name")).isEqualTo(name);
            }
        }
        List<BackendPool> pools = new ArrayList<>();
        proxy.server().pools().pools().forEach(pool -> {
            if (pool.key().database().equals("shared")) {
                pools.add(pool);
            }
        });
        assertThat(pools).as("one pool for every application_name").hasSize(1);
        assertThat(meters.count(PoolMeters.Served.NEW) - before)
                .as("backends opened for %d sequential clients", CLIENTS).isLessThanOrEqualTo(4);
        System.out.printf("%d clients with distinct application_name: %d pool(s); backends served from the "
                        + "client's own loop %.0f, from another loop %.0f, newly opened %.0f%n", CLIENTS, pools.size(),
                meters.count(PoolMeters.Served.SAME_LOOP), meters.count(PoolMeters.Served.OTHER_LOOP),
                meters.count(PoolMeters.Served.NEW));
    }

    @Test
    void startupOptionsAreAppliedAndNeverLeakToTheNextClient() throws Exception {
        Properties options = named("with-options");
        options.setProperty("options", "-c search_path=pg_catalog -c statement_timeout=1234");
        String pid;
        try (Connection first = proxy.connect("shared", options)) {
            assertThat(single(first, "show statement_timeout")).isEqualTo("1234ms");
            assertThat(single(first, "show search_path")).isEqualTo("pg_catalog");
            pid = single(first, "select pg_backend_pid()");
        }
        boolean sawSameBackend = false;
        for (int i = 0; i < 8 && !sawSameBackend; i++) {
            try (Connection next = proxy.connect("shared", named("plain"))) {
                sawSameBackend = pid.equals(single(next, "select pg_backend_pid()"));
                assertThat(single(next, "show statement_timeout")).isEqualTo("0");
                assertThat(single(next, "show search_path")).isEqualTo("\"$user\", public");
            }
        }
        assertThat(sawSameBackend).as("the backend of the client with options served another").isTrue();
    }

    @Test
    void aStartupParameterTheServerRejectsIsTheClientsFatalError() {
        Properties bad = named("bad");
        bad.setProperty("options", "-c no_such_setting_here=1");
        assertThatThrownBy(() -> proxy.connect("shared", bad).close()).isInstanceOfSatisfying(SQLException.class,
                e -> {
                    assertThat(e.getSQLState()).isEqualTo("42704");
                    assertThat(e.getMessage()).contains("no_such_setting_here");
                });
    }
}
