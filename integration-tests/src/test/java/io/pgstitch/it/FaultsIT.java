package io.pgstitch.it;

import io.pgstitch.proxy.postgres.LocalPostgres;
import io.pgstitch.proxy.postgres.PostgresBinaries;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.net.InetAddress;
import java.net.ServerSocket;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Shards that fail: one of its own (so killing it disturbs no other test) next to a healthy one, and a port
 * that accepts connections but never answers.
 */
class FaultsIT {

    private static LocalPostgres fragile;
    private static LocalPostgres healthy;
    private static ServerSocket blackhole;
    private static TestProxy proxy;

    @BeforeAll
    static void start() throws Exception {
        PostgresBinaries binaries = PostgresBinaries.resolve();
        fragile = LocalPostgres.builder(binaries).name("fragile").start();
        healthy = LocalPostgres.builder(binaries).name("healthy").start();
        // listens (the kernel completes handshakes into the backlog) but never accepts or answers
        blackhole = new ServerSocket(0, 50, InetAddress.getByName("127.0.0.1"));
        proxy = TestProxy.start("""
                listen: { host: 127.0.0.1, port: 0 }
                shards:
                  fragile: { host: 127.0.0.1, port: %d, user: postgres, pool: { size: 4 } }
                  healthy: { host: 127.0.0.1, port: %d, user: postgres }
                  silent: { host: 127.0.0.1, port: %d, user: postgres, pool: { connect_timeout: 1s } }
                routes:
                  breaks: { shard: fragile, database: postgres }
                  stays: { shard: healthy, database: postgres }
                  hangs: { shard: silent, database: postgres }
                """.formatted(fragile.port(), healthy.port(), blackhole.getLocalPort()));
    }

    @AfterAll
    static void stop() throws Exception {
        proxy.close();
        blackhole.close();
        fragile.close();
        healthy.close();
    }

    private static int query(Connection connection, String sql) throws SQLException {
        try (ResultSet rs = connection.createStatement().executeQuery(sql)) {
            rs.next();
            return rs.getInt(1);
        }
    }

    @Test
    void aShardThatNeverAnswersHitsConnectTimeout() {
        assertThatThrownBy(() -> proxy.connect("hangs")).isInstanceOfSatisfying(SQLException.class, e -> {
            assertThat(e.getSQLState()).isEqualTo("08006");
            assertThat(e.getMessage()).contains("shard \"silent\"").contains("within 1000 ms");
        });
    }

    @Test
    void aBackendKilledMidQueryFailsTheClientAtOnceAndTheShardRecovers() throws Exception {
        try (Connection bystander = proxy.connect("stays");
             Connection victim = proxy.connect("breaks")) {
            int pid = query(victim, "select pg_backend_pid()");
            CompletableFuture<Throwable> running = CompletableFuture.supplyAsync(() -> {
                try {
                    query(victim, "select pg_sleep(60)::text::int");
                    return null;
                } catch (SQLException e) {
                    return e;
                }
            });
            awaitActive(pid);
            new ProcessBuilder("kill", "-9", Integer.toString(pid)).start().waitFor(10, TimeUnit.SECONDS);
            Throwable failure = running.get(30, TimeUnit.SECONDS); // a hang would time out here
            assertThat(failure).isInstanceOfSatisfying(SQLException.class,
                    e -> assertThat(e.getSQLState()).startsWith("08").as("connection exception"));
            assertThat(query(bystander, "select 7")).as("another shard's client is untouched").isEqualTo(7);
        }
        awaitShardTakesLogins();
    }

    @Test
    void aShardThatGoesDownIsReportedAndUsedAgainWhenItReturns() throws Exception {
        fragile.stop();
        try {
            assertThatThrownBy(() -> proxy.connect("breaks")).isInstanceOfSatisfying(SQLException.class, e -> {
                assertThat(e.getSQLState()).isIn("08006", "57P01", "57P03");
                assertThat(e.getMessage()).contains("fragile");
            });
            try (Connection other = proxy.connect("stays")) {
                assertThat(query(other, "select 1")).isEqualTo(1);
            }
        } finally {
            fragile.restart();
        }
        awaitShardTakesLogins();
    }

    /** After a crash the shard restarts itself; new connections through the same proxy succeed again. */
    private static void awaitShardTakesLogins() throws Exception {
        SQLException last = null;
        for (int i = 0; i < 200; i++) {
            try (Connection connection = proxy.connect("breaks")) {
                assertThat(query(connection, "select 42")).isEqualTo(42);
                return;
            } catch (SQLException e) {
                last = e;
                Thread.sleep(50);
            }
        }
        throw new AssertionError("the shard did not come back", last);
    }

    private static void awaitActive(int pid) throws Exception {
        try (Connection direct = DriverManager.getConnection(fragile.jdbcUrl("postgres"), "postgres", "")) {
            for (int i = 0; i < 400; i++) {
                if (query(direct, "select count(*) from pg_stat_activity where pid = " + pid
                        + " and state = 'active'") == 1) {
                    return;
                }
                Thread.sleep(25);
            }
        }
        throw new AssertionError("the query never started");
    }
}
