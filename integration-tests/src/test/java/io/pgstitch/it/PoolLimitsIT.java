package io.pgstitch.it;

import io.pgstitch.it.support.PostgresCluster;
import io.pgstitch.it.support.PostgresExtension;
import io.pgstitch.proxy.pool.BackendPool;
import io.pgstitch.proxy.postgres.LocalPostgres;
import io.pgstitch.proxy.postgres.PostgresBinaries;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Predicate;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** idle_timeout, max_lifetime, min_idle and max_client_connections, each on a proxy of its own. */
@ExtendWith(PostgresExtension.class)
class PoolLimitsIT {

    private static String config(PostgresCluster cluster, String listen, String pool) {
        return """
                listen: { host: 127.0.0.1, port: 0 %s }
                shards:
                  shard1: { host: 127.0.0.1, port: %d, user: postgres, pool: { %s } }
                routes:
                  tenant_a: shard1
                """.formatted(listen, cluster.shard(1).port(), pool);
    }

    private static int pid(TestProxy proxy) throws SQLException {
        try (Connection connection = proxy.connect("tenant_a");
             ResultSet rs = connection.createStatement().executeQuery("select pg_backend_pid()")) {
            rs.next();
            return rs.getInt(1);
        }
    }

    private static BackendPool pool(TestProxy proxy) {
        return proxy.server().pools().pools().iterator().next();
    }

    /**
     * Polls the pool (the sweeper runs once a second) until {@code condition} holds, up to 15 s. The pool is looked
     * up once: a pool left empty for its idle timeout is retired from the list, and still answers.
     */
    private static boolean await(TestProxy proxy, Predicate<BackendPool> condition) throws InterruptedException {
        BackendPool pool = pool(proxy);
        for (int i = 0; i < 300; i++) {
            if (condition.test(pool)) {
                return true;
            }
            Thread.sleep(50);
        }
        return false;
    }

    @Test
    void idleConnectionsPastIdleTimeoutAreClosed(PostgresCluster cluster) throws Exception {
        Tenants.ensure(cluster);
        try (TestProxy proxy = TestProxy.start(config(cluster, "", "idle_timeout: 1s"))) {
            int first = pid(proxy);
            assertThat(await(proxy, pool -> pool.idleConnections() == 1)).isTrue();
            assertThat(await(proxy, pool -> pool.openConnections() == 0)).as("closed by the sweeper").isTrue();
            assertThat(pid(proxy)).isNotEqualTo(first);
        }
    }

    @Test
    void connectionsPastMaxLifetimeAreNotReused(PostgresCluster cluster) throws Exception {
        Tenants.ensure(cluster);
        try (TestProxy proxy = TestProxy.start(config(cluster, "", "max_lifetime: 1s"))) {
            int first;
            try (Connection connection = proxy.connect("tenant_a")) {
                try (ResultSet rs = connection.createStatement().executeQuery(
                        "select pg_backend_pid() from pg_sleep(1.2)")) {
                    rs.next();
                    first = rs.getInt(1);
                }
            } // released older than max_lifetime: closed, not pooled
            assertThat(await(proxy, pool -> pool.openConnections() == 0)).isTrue();
            assertThat(pid(proxy)).isNotEqualTo(first);
        }
    }

    @Test
    void minIdleConnectionsAreOpenedAhead(PostgresCluster cluster) throws Exception {
        Tenants.ensure(cluster);
        try (TestProxy proxy = TestProxy.start(config(cluster, "", "min_idle: 3, size: 5"))) {
            pid(proxy); // the pool exists once used
            assertThat(await(proxy, pool -> pool.idleConnections() == 3)).isTrue();
            assertThat(pool(proxy).openConnections()).isEqualTo(3);
        }
    }

    @Test
    void theGlobalClientLimitRefusesWith53300(PostgresCluster cluster) throws Exception {
        Tenants.ensure(cluster);
        try (TestProxy proxy = TestProxy.start(config(cluster, ", max_client_connections: 2", "size: 5"));
             Connection first = proxy.connect("tenant_a");
             Connection second = proxy.connect("tenant_a")) {
            assertThatThrownBy(() -> proxy.connect("tenant_a")).isInstanceOfSatisfying(SQLException.class, e -> {
                assertThat(e.getSQLState()).isEqualTo("53300");
                assertThat(e.getMessage()).contains("too many clients").contains("max_client_connections");
            });
            assertThat(first.isValid(2) && second.isValid(2)).isTrue();
        }
    }

    /**
     * shards.NAME.max_connections caps every pool of the shard together: a third database waits while two
     * clients hold both connections, and gets one as soon as another pool's connection is idle (closed for it).
     */
    @Test
    void theShardTotalCapsEveryPoolTogether(PostgresCluster cluster) throws Exception {
        Tenants.ensure(cluster);
        Tenants.create(cluster.shard(1), "capped_other", "capped_other", "shard1");
        try (TestProxy proxy = TestProxy.start("""
                listen: { host: 127.0.0.1, port: 0 }
                shards:
                  shard1: { host: 127.0.0.1, port: %d, user: postgres, max_connections: 2,
                            pool: { size: 5, wait_timeout: 1s } }
                routes:
                  tenant_a: shard1
                  capped_other: shard1
                """.formatted(cluster.shard(1).port()))) {
            Connection first = proxy.connect("tenant_a");
            try (Connection second = proxy.connect("tenant_a")) {
                assertThatThrownBy(() -> proxy.connect("capped_other").close())
                        .isInstanceOfSatisfying(SQLException.class, e -> {
                            assertThat(e.getSQLState()).isEqualTo("53300");
                            assertThat(e.getMessage()).contains("shards.shard1.max_connections");
                        });
                assertThat(proxy.server().pools().shardConnections("shard1")).isEqualTo(2);
            }
            // second's connection is idle in tenant_a's pool now: capped_other's client closes it and goes on
            try (Connection other = proxy.connect("capped_other");
                 ResultSet rs = other.createStatement().executeQuery("select tenant from whoami")) {
                rs.next();
                assertThat(rs.getString(1)).isEqualTo("capped_other");
                assertThat(proxy.server().pools().shardConnections("shard1")).isLessThanOrEqualTo(2);
            }
            first.close();
        }
    }

    /**
     * A server with max_connections 8 and 3 reserved for superusers: pgstitch opens at most 5, even as a superuser
     * (PostgreSQL would give it the reserved ones too) and with a configured total of 90.
     */
    @Test
    void theShardTotalIsBelowWhatTheServerAllows() throws Exception {
        try (LocalPostgres small = LocalPostgres.builder(PostgresBinaries.resolve()).name("few-connections")
                .setting("max_connections", "8").setting("superuser_reserved_connections", "3").start();
             TestProxy proxy = TestProxy.start("""
                     listen: { host: 127.0.0.1, port: 0 }
                     shards:
                       small: { host: 127.0.0.1, port: %d, user: postgres, pool: { size: 20, wait_timeout: 1s } }
                     routes:
                       few: { shard: small, database: postgres }
                     """.formatted(small.port()))) {
            List<Connection> held = new ArrayList<>();
            try {
                for (int i = 0; i < 5; i++) {
                    held.add(proxy.connect("few"));
                }
                assertThatThrownBy(() -> proxy.connect("few").close())
                        .isInstanceOfSatisfying(SQLException.class, e -> {
                            assertThat(e.getSQLState()).isEqualTo("53300");
                            assertThat(e.getMessage()).contains("all its 5 connections open")
                                    .contains("the server's max_connections less its reserved ones");
                        });
                assertThat(proxy.server().pools().shardConnections("small")).isEqualTo(5);
            } finally {
                for (Connection connection : held) {
                    connection.close();
                }
            }
        }
    }

    @Test
    void aPoolLeftEmptyForItsIdleTimeoutIsRemoved(PostgresCluster cluster) throws Exception {
        Tenants.ensure(cluster);
        try (TestProxy proxy = TestProxy.start(config(cluster, "", "idle_timeout: 1s"))) {
            pid(proxy);
            assertThat(proxy.server().pools().pools()).hasSize(1);
            boolean removed = false;
            for (int i = 0; i < 300 && !removed; i++) { // the sweeper runs once a second
                removed = proxy.server().pools().pools().isEmpty();
                if (!removed) {
                    Thread.sleep(50);
                }
            }
            assertThat(removed).as("the empty pool is gone within 15 s").isTrue();
            assertThat(proxy.server().pools().shardConnections("shard1")).isZero();
            assertThat(pid(proxy)).as("a client afterwards gets a new pool").isPositive();
        }
    }
}
