package io.pgstitch.it;

import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.pgstitch.conf.ConfigLoader;
import io.pgstitch.it.support.PostgresCluster;
import io.pgstitch.it.support.PostgresExtension;
import io.pgstitch.it.support.ProcessResult;
import io.pgstitch.it.support.Psql;
import io.pgstitch.proxy.server.ProxyRuntime;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.ResultSetMetaData;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The admin console (database pgstitch, and pgbouncer) with psql and PgJDBC: SHOW commands answered with real
 * result sets, refusal of non-admin users, RELOAD of an invalid file, PAUSE/RESUME holding transactions, KILL,
 * RECONNECT, SHUTDOWN, and errors that name the command.
 */
@ExtendWith(PostgresExtension.class)
class AdminConsoleIT {

    @TempDir
    static Path dir;
    static Path file;
    static String yaml;
    static ProxyRuntime runtime;
    static final CountDownLatch shutdownAsked = new CountDownLatch(1);

    @BeforeAll
    static void start(PostgresCluster cluster) throws Exception {
        Tenants.ensure(cluster);
        file = dir.resolve("pgstitch.yaml");
        yaml = TestProxy.standardRoutes(cluster) + "admin: { users: [admin] }\n";
        Files.writeString(file, yaml);
        runtime = ProxyRuntime.start(file, ConfigLoader.load(file), false,
                new PrometheusMeterRegistry(PrometheusConfig.DEFAULT));
        runtime.server().admin().onShutdown(shutdownAsked::countDown);
    }

    @AfterAll
    static void stop() {
        if (runtime != null) {
            runtime.close();
        }
    }

    private static int port() {
        return runtime.server().port();
    }

    static Connection console(String database) throws SQLException {
        Properties properties = new Properties();
        properties.setProperty("user", "admin");
        properties.setProperty("preferQueryMode", "simple");
        return DriverManager.getConnection("jdbc:postgresql://127.0.0.1:" + port() + "/" + database, properties);
    }

    static Connection tenant(String database) throws SQLException {
        return DriverManager.getConnection("jdbc:postgresql://127.0.0.1:" + port() + "/" + database, "postgres", "");
    }

    static List<String> columns(Connection console, String command) throws SQLException {
        try (Statement statement = console.createStatement(); ResultSet rs = statement.executeQuery(command)) {
            ResultSetMetaData meta = rs.getMetaData();
            List<String> names = new ArrayList<>();
            for (int i = 1; i <= meta.getColumnCount(); i++) {
                names.add(meta.getColumnName(i));
            }
            return names;
        }
    }

    static List<Map<String, String>> rows(Connection console, String command) throws SQLException {
        try (Statement statement = console.createStatement(); ResultSet rs = statement.executeQuery(command)) {
            ResultSetMetaData meta = rs.getMetaData();
            List<Map<String, String>> rows = new ArrayList<>();
            while (rs.next()) {
                Map<String, String> row = new LinkedHashMap<>();
                for (int i = 1; i <= meta.getColumnCount(); i++) {
                    row.put(meta.getColumnName(i), rs.getString(i));
                }
                rows.add(row);
            }
            return rows;
        }
    }

    private static Psql psql(String user, String database) {
        return Psql.at("127.0.0.1", port()).user(user).database(database);
    }

    private static void await(String what, BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (!condition.getAsBoolean()) {
            assertThat(System.nanoTime()).as("waiting for " + what).isLessThan(deadline);
            Thread.sleep(20);
        }
    }

    @Test
    void psqlReadsEveryShowCommand() {
        Psql.assumeAvailable();
        ProcessResult version = psql("admin", "pgstitch").run("-At", "-c", "SHOW VERSION");
        assertThat(version.exitCode()).as(version.stderr()).isZero();
        assertThat(version.stdout()).startsWith("pgstitch ");
        for (String command : List.of("CONFIG", "DATABASES", "SHARDS", "POOLS", "CLIENTS", "SERVERS", "STATS", "RPC",
                "LISTS")) {
            ProcessResult result = psql("admin", "pgbouncer").run("-c", "SHOW " + command + ";");
            assertThat(result.exitCode()).as(command + ": " + result.stderr()).isZero();
            assertThat(result.stdout()).as(command).contains("row");
        }
        ProcessResult help = psql("admin", "pgstitch").run("-c", "show help");
        assertThat(help.exitCode()).isZero();
        assertThat(help.stderr()).contains("NOTICE:  Console usage").contains("PAUSE [<db>]");
        ProcessResult lists = psql("admin", "pgstitch").run("-At", "-F", "=", "-c", "SHOW LISTS");
        assertThat(lists.stdout()).contains("databases=4").contains("shards=2");
    }

    @Test
    void unknownCommandsGetAnErrorNamingThemAndTheSessionGoesOn() {
        Psql.assumeAvailable();
        ProcessResult result = psql("admin", "pgstitch").run("-v", "VERBOSITY=verbose", "-c", "SHOW FOO",
                "-c", "FROBNICATE tenant_a", "-c", "SHOW VERSION");
        assertThat(result.stderr()).contains("ERROR:  42601: unknown admin console command: \"SHOW FOO\"")
                .contains("HINT:  SHOW HELP lists the commands.")
                .contains("unknown admin console command: \"FROBNICATE tenant_a\"");
        assertThat(result.stdout()).as("the session goes on after an error").contains("pgstitch ");
    }

    @Test
    void theExtendedProtocolIsRefusedWithAHint() throws Exception {
        try (Connection extended = DriverManager.getConnection("jdbc:postgresql://127.0.0.1:" + port()
                + "/pgstitch", "admin", "")) {
            assertThatThrownBy(() -> extended.createStatement().executeQuery("SHOW VERSION"))
                    .hasMessageContaining("the admin console speaks the simple query protocol only");
            extended.setAutoCommit(true);
        }
    }

    @Test
    void onlyAdminUsersGetIn() {
        Psql.assumeAvailable();
        for (String database : List.of("pgstitch", "pgbouncer")) {
            ProcessResult refused = psql("postgres", database).run("-c", "SHOW POOLS");
            assertThat(refused.exitCode()).isNotZero();
            assertThat(refused.stderr()).contains("FATAL:  user \"postgres\" may not use the admin console "
                    + "(database \"" + database + "\")").contains("HINT:  Admin console users are listed in admin.users.");
            assertThatThrownBy(() -> tenant(database)).isInstanceOf(SQLException.class)
                    .satisfies(e -> assertThat(((SQLException) e).getSQLState()).isEqualTo("28000"));
        }
    }

    @Test
    void pgjdbcSeesClientsPoolsServersAndStats() throws Exception {
        try (Connection app = tenant("tenant_a"); Connection console = console("pgstitch")) {
            for (int i = 0; i < 5; i++) {
                try (ResultSet rs = app.createStatement().executeQuery("select tenant from whoami")) {
                    rs.next();
                }
            }
            List<Map<String, String>> clients = rows(console, "SHOW CLIENTS");
            assertThat(clients).anySatisfy(row -> {
                assertThat(row.get("database")).isEqualTo("tenant_a");
                assertThat(row.get("state")).isEqualTo("active");
                assertThat(row.get("shard")).isEqualTo("shard1");
                assertThat(Long.parseLong(row.get("query_count"))).isGreaterThanOrEqualTo(5);
            });
            assertThat(clients).anySatisfy(row -> assertThat(row.get("database")).isEqualTo("pgstitch"));
            List<Map<String, String>> pools = rows(console, "SHOW POOLS");
            assertThat(pools).anySatisfy(row -> {
                assertThat(row.get("database")).isEqualTo("tenant_a");
                assertThat(row.get("user")).isEqualTo("postgres");
                assertThat(row.get("cl_active")).isEqualTo("1");
                assertThat(row.get("sv_active")).isEqualTo("1");
                assertThat(row.get("pool_mode")).isEqualTo("session");
            });
            long pid;
            try (ResultSet rs = app.createStatement().executeQuery("select pg_backend_pid()")) {
                rs.next();
                pid = rs.getLong(1);
            }
            assertThat(rows(console, "SHOW SERVERS")).anySatisfy(row -> {
                assertThat(row.get("state")).isEqualTo("active");
                assertThat(Long.parseLong(row.get("remote_pid"))).isEqualTo(pid);
                assertThat(row.get("link")).startsWith("c");
            });
        }
        try (Connection console = console("pgbouncer")) {
            await("SHOW STATS counts tenant_a's queries", () -> {
                try {
                    return rows(console, "SHOW STATS").stream().anyMatch(row -> row.get("database").equals("tenant_a")
                            && Long.parseLong(row.get("total_query_count")) >= 6
                            && Long.parseLong(row.get("total_xact_count")) >= 6
                            && Long.parseLong(row.get("total_received")) > 0);
                } catch (SQLException e) {
                    throw new IllegalStateException(e);
                }
            });
            assertThat(rows(console, "SHOW DATABASES")).anySatisfy(row -> {
                assertThat(row.get("name")).isEqualTo("tenant_b");
                assertThat(row.get("database")).isEqualTo("tb_db");
                assertThat(row.get("shard")).isEqualTo("shard2");
            });
            assertThat(columns(console, "SHOW VERSION")).containsExactly("version");
            assertThat(rows(console, "SHOW RPC")).extracting(row -> row.get("outcome"))
                    .containsExactly("ok", "error", "rejected");
            try (Connection other = tenant("tenant_b")) { // a shard is up once a client has reached it
                assertThat(query(other, "select tenant from whoami")).isEqualTo("tenant_b");
            }
            await("SHOW SHARDS has both shards up", () -> {
                try {
                    return rows(console, "SHOW SHARDS").stream().allMatch(row -> row.get("status").equals("up"));
                } catch (SQLException e) {
                    throw new IllegalStateException(e);
                }
            });
        }
    }

    @Test
    void reloadReportsAnInvalidFileAndKeepsTheRunningConfiguration() throws Exception {
        try (Connection console = console("pgstitch")) {
            Files.writeString(file, yaml.replace("tenant_a: shard1", "tenant_a: shard9"));
            assertThatThrownBy(() -> console.createStatement().execute("RELOAD"))
                    .isInstanceOf(SQLException.class)
                    .satisfies(e -> {
                        assertThat(((SQLException) e).getSQLState()).isEqualTo("F0000");
                        assertThat(e.getMessage()).contains("rejected; the running configuration stays in force")
                                .contains("routes.tenant_a: unknown shard \"shard9\"");
                    });
            try (Connection app = tenant("tenant_a"); ResultSet rs = app.createStatement()
                    .executeQuery("select shard from whoami")) {
                rs.next();
                assertThat(rs.getString(1)).as("the running configuration stays").isEqualTo("shard1");
            }
            Files.writeString(file, yaml);
            console.createStatement().execute("RELOAD");
        }
        assertThat(runtime.server().admin().lastReloadError()).isNull();
    }

    @Test
    void pauseWaitsForRunningTransactionsAndHoldsNewOnesUntilResume() throws Exception {
        try (Connection inTransaction = tenant("tenant_a"); Connection later = tenant("tenant_a");
             Connection console = console("pgstitch"); Connection resumer = console("pgstitch")) {
            inTransaction.setAutoCommit(false);
            inTransaction.createStatement().execute("select 1");

            CompletableFuture<Void> pause = CompletableFuture.runAsync(() -> execute(console, "PAUSE tenant_a"));
            await("the console's PAUSE to be under way", () -> runtime.server().admin().views().liveClients()
                    .stream().anyMatch(client -> "pgstitch".equals(client.database()))
                    && runtime.server().admin().views().databases().rows().stream()
                    .anyMatch(row -> row[0].equals("tenant_a") && ((Number) row[11]).intValue() == 1));
            CompletableFuture<String> held = CompletableFuture.supplyAsync(() -> query(later,
                    "select tenant from whoami"));
            await("the new transaction to be held", () -> {
                try {
                    return rows(resumer, "SHOW CLIENTS").stream().anyMatch(row -> "waiting".equals(row.get("state")));
                } catch (SQLException e) {
                    throw new IllegalStateException(e);
                }
            });
            assertThat(pause).as("PAUSE waits while a transaction runs").isNotDone();
            assertThat(held).isNotDone();
            inTransaction.createStatement().execute("select 2"); // still inside: PAUSE still waits
            assertThat(pause).isNotDone();
            inTransaction.commit();
            pause.get(30, TimeUnit.SECONDS);
            assertThat(held).as("held until RESUME, not refused").isNotDone();

            resumer.createStatement().execute("RESUME tenant_a");
            assertThat(held.get(30, TimeUnit.SECONDS)).isEqualTo("tenant_a");
            assertThatThrownBy(() -> resumer.createStatement().execute("RESUME tenant_a"))
                    .hasMessageContaining("database \"tenant_a\" is not paused");
            assertThatThrownBy(() -> resumer.createStatement().execute("PAUSE nowhere"))
                    .hasMessageContaining("no such database: nowhere");
        }
    }

    @Test
    void killDisconnectsTheDatabasesClientsAndNewOnesWaitForResume() throws Exception {
        try (Connection victim = tenant("org_acme"); Connection console = console("pgstitch")) {
            assertThat(query(victim, "select tenant from whoami")).isEqualTo("org_acme");
            console.createStatement().execute("KILL org_acme");
            assertThatThrownBy(() -> query(victim, "select 1")).isInstanceOf(IllegalStateException.class);
            CompletableFuture<String> newcomer = CompletableFuture.supplyAsync(() -> {
                try (Connection late = tenant("org_acme")) {
                    return query(late, "select tenant from whoami");
                } catch (SQLException e) {
                    throw new IllegalStateException(e);
                }
            });
            await("the newcomer to wait", () -> runtime.server().admin().views().liveClients().stream()
                    .anyMatch(client -> "org_acme".equals(client.database())
                            && client.phase() == io.pgstitch.proxy.frontend.LiveClient.Phase.WAITING));
            assertThat(newcomer).isNotDone();
            console.createStatement().execute("RESUME org_acme");
            assertThat(newcomer.get(30, TimeUnit.SECONDS)).isEqualTo("org_acme");
        }
        assertThatThrownBy(() -> console("pgstitch").createStatement().execute("KILL"))
                .hasMessageContaining("KILL needs a database name");
    }

    @Test
    void reconnectReplacesServerConnectionsOnceReleased() throws Exception {
        String first;
        String second;
        try (Connection one = tenant("tenant_b"); Connection two = tenant("tenant_b")) {
            first = query(one, "select pg_backend_pid()");
            second = query(two, "select pg_backend_pid()");
        }
        String kept;
        try (Connection app = tenant("tenant_b"); Connection console = console("pgstitch")) {
            kept = query(app, "select pg_backend_pid()");
            console.createStatement().execute("RECONNECT tenant_b");
            assertThat(query(app, "select 'still served'")).as("a connection in use is not cut")
                    .isEqualTo("still served");
        }
        String pids = first + ", " + second + ", " + kept;
        try (Connection shard = DriverManager.getConnection("jdbc:postgresql://127.0.0.1:"
                + runtime.server().config().shards().get("shard2").port() + "/tb_db", "postgres", "")) {
            await("the shard to see every old server connection closed", () -> query(shard,
                    "select count(*) from pg_stat_activity where pid in (" + pids + ")").equals("0"));
        }
        try (Connection app = tenant("tenant_b")) {
            assertThat(query(app, "select tenant from whoami")).as("new connections are opened").isEqualTo("tenant_b");
        }
    }

    @Test
    void shutdownAnswersThenStopsTheProxy() throws Exception {
        try (Connection console = console("pgstitch")) {
            console.createStatement().execute("SHUTDOWN");
        }
        assertThat(shutdownAsked.await(30, TimeUnit.SECONDS)).isTrue();
        runtime.server().admin().shuttingDown(false); // this test's proxy goes on for the other tests
    }

    private static void execute(Connection connection, String sql) {
        try {
            connection.createStatement().execute(sql);
        } catch (SQLException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The first column of the first row of {@code sql}'s result. */
    static String query(Connection connection, String sql) {
        try (ResultSet rs = connection.createStatement().executeQuery(sql)) {
            rs.next();
            return rs.getString(1);
        } catch (SQLException e) {
            throw new IllegalStateException(e);
        }
    }
}
