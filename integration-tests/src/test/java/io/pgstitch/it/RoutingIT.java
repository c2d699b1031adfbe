package io.pgstitch.it;

import io.pgstitch.conf.ConfigLoader;
import io.pgstitch.conf.ConfigWatcher;
import io.pgstitch.conf.ProxyConfig;
import io.pgstitch.conf.RoutingTable;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.HashSet;

import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Where connections land: exact routes, backend database renames, globs, the hash default, refusals, reload. */
class RoutingIT extends ProxiedTest {

    /** Where a connection really is: backend port, backend database and the marker row's tenant. */
    record Landing(int port, String database, String tenant) {
    }

    static Landing landing(Connection connection) throws SQLException {
        try (Statement statement = connection.createStatement();
             ResultSet rs = statement.executeQuery(
                     "select current_setting('port')::int, current_database(), (select tenant from whoami)")) {
            rs.next();
            return new Landing(rs.getInt(1), rs.getString(2), rs.getString(3));
        }
    }

    @Test
    void tenantAReachesShard1() throws Exception {
        try (Connection connection = proxy.connect("tenant_a")) {
            assertThat(landing(connection)).isEqualTo(new Landing(cluster.shard(1).port(), "tenant_a", "tenant_a"));
        }
    }

    @Test
    void tenantBReachesItsBackendDatabaseOnShard2() throws Exception {
        try (Connection connection = proxy.connect("tenant_b")) {
            assertThat(landing(connection)).isEqualTo(new Landing(cluster.shard(2).port(), "tb_db", "tenant_b"));
        }
    }

    @Test
    void globRouteReachesShard2() throws Exception {
        try (Connection connection = proxy.connect("org_acme")) {
            assertThat(landing(connection)).isEqualTo(new Landing(cluster.shard(2).port(), "org_acme", "org_acme"));
        }
    }

    @Test
    void unroutedDatabaseIsRefusedWithInvalidCatalogName() {
        assertThatThrownBy(() -> proxy.connect("nobody_routes_me"))
                .isInstanceOfSatisfying(SQLException.class, e -> {
                    assertThat(e.getSQLState()).isEqualTo("3D000");
                    assertThat(e.getMessage()).contains("\"nobody_routes_me\"").contains("not routed");
                });
    }

    @Test
    void hashDefaultSpreadsUnlistedDatabasesOverTheListedShards() throws Exception {
        String yaml = TestProxy.config(cluster, "default_route: { hash: [shard1, shard2] }\n");
        RoutingTable table = RoutingTable.of(TestProxy.parse(yaml));
        Set<Integer> portsSeen = new HashSet<>();
        try (TestProxy hashing = TestProxy.start(yaml)) {
            for (int i = 0; i < 6; i++) {
                String name = "hashed_" + i;
                int expectedShard = table.route(name).orElseThrow().shard().name().equals("shard1") ? 1 : 2;
                Tenants.create(cluster.shard(expectedShard), name, name, "shard" + expectedShard);
                try (Connection connection = hashing.connect(name)) {
                    Landing landing = landing(connection);
                    assertThat(landing).isEqualTo(new Landing(cluster.shard(expectedShard).port(), name, name));
                    portsSeen.add(landing.port());
                }
            }
        }
        assertThat(portsSeen).as("six names over two shards use both").hasSize(2);
    }

    @Test
    void aShardThatIsDownGetsAnErrorNamingIt() throws Exception {
        int closedPort;
        try (ServerSocket socket = new ServerSocket(0)) {
            closedPort = socket.getLocalPort();
        }
        String yaml = TestProxy.config(cluster, """
                  shard3: { host: 127.0.0.1, port: %d, user: postgres }
                routes:
                  tenant_a: shard1
                  down_tenant: shard3
                """.formatted(closedPort));
        try (TestProxy withDeadShard = TestProxy.start(yaml)) {
            assertThatThrownBy(() -> withDeadShard.connect("down_tenant"))
                    .isInstanceOfSatisfying(SQLException.class, e -> {
                        assertThat(e.getSQLState()).isEqualTo("08006");
                        assertThat(e.getMessage()).contains("shard \"shard3\"");
                    });
            try (Connection healthy = withDeadShard.connect("tenant_a")) {
                assertThat(landing(healthy).port()).isEqualTo(cluster.shard(1).port());
            }
        }
    }

    @Test
    void aMissingBackendDatabaseIsReportedByTheShard() {
        assertThatThrownBy(() -> proxy.connect("org_does_not_exist"))
                .isInstanceOfSatisfying(SQLException.class, e -> {
                    assertThat(e.getSQLState()).isEqualTo("3D000");
                    assertThat(e.getMessage()).contains("org_does_not_exist");
                });
    }

    @Test
    void editingTheFileMovesATenantForNewConnectionsOnly(@TempDir Path dir) throws Exception {
        Tenants.create(cluster.shard(1), "moving", "moving", "shard1");
        Tenants.create(cluster.shard(2), "moving", "moving", "shard2");
        Path file = dir.resolve("pgstitch.yaml");
        Files.writeString(file, TestProxy.config(cluster, "routes:\n  moving: shard1\n"));
        ProxyConfig initial = ConfigLoader.load(file);
        try (TestProxy reloading = TestProxy.start(Files.readString(file));
             ConfigWatcher watcher = new ConfigWatcher(file, initial, reloading.server()::apply);
             Connection before = reloading.connect("moving")) {
            watcher.start();
            assertThat(landing(before).port()).isEqualTo(cluster.shard(1).port());

            Path edited = dir.resolve("pgstitch.yaml.new");
            Files.writeString(edited, TestProxy.config(cluster, "routes:\n  moving: shard2\n"));
            Files.move(edited, file, java.nio.file.StandardCopyOption.ATOMIC_MOVE,
                    java.nio.file.StandardCopyOption.REPLACE_EXISTING);

            int after = awaitLanding(reloading, "moving", cluster.shard(2).port());
            assertThat(after).isEqualTo(cluster.shard(2).port());
            assertThat(landing(before).port()).as("the open session keeps its backend")
                    .isEqualTo(cluster.shard(1).port());
        }
    }

    @Test
    void anInvalidEditKeepsTheRunningConfiguration(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("pgstitch.yaml");
        Files.writeString(file, TestProxy.standardRoutes(cluster));
        ProxyConfig initial = ConfigLoader.load(file);
        try (TestProxy reloading = TestProxy.start(Files.readString(file));
             ConfigWatcher watcher = new ConfigWatcher(file, initial, reloading.server()::apply)) {
            Files.writeString(file, TestProxy.config(cluster, "routes:\n  tenant_a: shard9\n"));
            ConfigWatcher.ReloadResult result = watcher.reloadNow();
            assertThat(result.applied()).isFalse();
            assertThat(result.problems()).anySatisfy(p -> assertThat(p).contains("shard9"));
            try (Connection connection = reloading.connect("tenant_a")) {
                assertThat(landing(connection).port()).isEqualTo(cluster.shard(1).port());
            }
        }
    }

    /** Connects until {@code database} lands on {@code port} (the watcher works asynchronously), up to 20 s. */
    private static int awaitLanding(TestProxy proxy, String database, int port) throws Exception {
        long deadline = System.nanoTime() + 20_000_000_000L;
        int seen;
        do {
            try (Connection connection = proxy.connect(database)) {
                seen = landing(connection).port();
            }
            if (seen == port) {
                return seen;
            }
            Thread.sleep(100);
        } while (System.nanoTime() < deadline);
        return seen;
    }

}
