package io.pgstitch.it;

import io.pgstitch.it.support.FaultyRelay;
import io.pgstitch.it.support.PostgresCluster;
import io.pgstitch.it.support.PostgresExtension;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The network between pgstitch and a shard misbehaves: resets, stalls, connections cut mid-result. */
@ExtendWith(PostgresExtension.class)
class RelayFaultsIT {

    private FaultyRelay relay;
    private TestProxy proxy;

    @BeforeEach
    void start(PostgresCluster cluster) throws Exception {
        Tenants.ensure(cluster);
        relay = new FaultyRelay("127.0.0.1", cluster.shard(1).port());
        proxy = TestProxy.start("""
                listen: { host: 127.0.0.1, port: 0 }
                shards:
                  flaky: { host: 127.0.0.1, port: %d, user: postgres, pool: { connect_timeout: 2s } }
                routes:
                  tenant_a: flaky
                """.formatted(relay.port()));
    }

    @AfterEach
    void stop() throws Exception {
        proxy.close();
        relay.close();
    }

    @Test
    void aResetMidQueryFailsTheClientAtOnce() throws Exception {
        try (Connection connection = proxy.connect("tenant_a")) {
            CompletableFuture<Throwable> running = CompletableFuture.supplyAsync(() -> {
                try (Statement statement = connection.createStatement()) {
                    statement.execute("select pg_sleep(60)");
                    return null;
                } catch (SQLException e) {
                    return e;
                }
            });
            Thread.sleep(300); // let the query reach the server; the assertion below does not depend on it
            relay.resetAll();
            Throwable failure = running.get(30, TimeUnit.SECONDS); // never a hang
            assertThat(failure).isInstanceOfSatisfying(SQLException.class, e -> {
                assertThat(e.getSQLState()).isEqualTo("08006");
                assertThat(e.getMessage()).contains("shard \"flaky\"");
            });
        }
    }

    @Test
    void aConnectionCutMidResultFailsTheClientAtOnce() throws Exception {
        try (Connection connection = proxy.connect("tenant_a"); Statement statement = connection.createStatement()) {
            relay.dropAfterServerBytes(100_000);
            assertThatThrownBy(() -> {
                try (ResultSet rs = statement.executeQuery("select repeat('x', 100) from generate_series(1, 100000)")) {
                    while (rs.next()) {
                        rs.getString(1);
                    }
                }
            }).isInstanceOfSatisfying(SQLException.class, e -> assertThat(e.getSQLState()).isEqualTo("08006"));
        }
        relay.pass();
        try (Connection fresh = proxy.connect("tenant_a");
             ResultSet rs = fresh.createStatement().executeQuery("select 1")) {
            assertThat(rs.next()).as("new connections work once the network does").isTrue();
        }
    }

    @Test
    void aStalledShardHitsConnectTimeoutAtLogin() {
        relay.stall();
        assertThatThrownBy(() -> proxy.connect("tenant_a")).isInstanceOfSatisfying(SQLException.class, e -> {
            assertThat(e.getSQLState()).isEqualTo("08006");
            assertThat(e.getMessage()).contains("did not complete the login within 2000 ms");
        });
    }
}
