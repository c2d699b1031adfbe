package io.pgstitch.it.support;

import io.pgstitch.proxy.postgres.LocalPostgres;
import io.pgstitch.proxy.postgres.PostgresBinaries;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The harness itself: LocalPostgres servers of this class's own (one with trust, one with a password), which it
 * may kill and restart without disturbing other tests, and the psql and pgbench runners against the shared
 * shard1 of {@link PostgresExtension}.
 */
@ExtendWith(PostgresExtension.class)
class LocalPostgresIT {

    private static final String PASSWORD = "s3cret'\"";

    private static LocalPostgres trusting;
    private static LocalPostgres guarded;

    @BeforeAll
    static void start() throws Exception {
        PostgresBinaries binaries = PostgresBinaries.resolve();
        trusting = LocalPostgres.builder(binaries).name("harness-trust").start();
        guarded = LocalPostgres.builder(binaries).name("harness-password").password(PASSWORD).start();
    }

    @AfterAll
    static void stop() {
        if (trusting != null) {
            trusting.close();
        }
        if (guarded != null) {
            guarded.close();
        }
    }

    private static String queryOne(Connection connection, String sql) throws SQLException {
        try (Statement statement = connection.createStatement(); ResultSet rs = statement.executeQuery(sql)) {
            assertThat(rs.next()).as("a row from %s", sql).isTrue();
            return rs.getString(1);
        }
    }

    @Test
    void twoServersAnswerOnTheirOwnLoopbackPorts() throws Exception {
        assertThat(trusting.port()).isNotEqualTo(guarded.port()).isPositive();
        assertThat(trusting.host()).isEqualTo("127.0.0.1");
        try (Connection a = DriverManager.getConnection(trusting.jdbcUrl("postgres"), "postgres", "");
             Connection b = DriverManager.getConnection(guarded.jdbcUrl("postgres"), "postgres", PASSWORD)) {
            assertThat(queryOne(a, "select version()")).startsWith("PostgreSQL ");
            assertThat(queryOne(b, "select version()")).startsWith("PostgreSQL ");
            assertThat(queryOne(a, "select inet_server_port()")).isEqualTo(Integer.toString(trusting.port()));
            assertThat(queryOne(b, "select inet_server_port()")).isEqualTo(Integer.toString(guarded.port()));
            assertThat(queryOne(a, "show fsync")).isEqualTo("off");
            assertThat(queryOne(a, "show max_connections")).isEqualTo("200");
            assertThat(queryOne(a, "show listen_addresses")).isEqualTo("127.0.0.1");
        }
    }

    @Test
    void aPasswordIsRequiredOverTcpWhenOneIsSet() {
        assertThatThrownBy(() -> DriverManager.getConnection(guarded.jdbcUrl("postgres"), "postgres", "wrong"))
                .isInstanceOfSatisfying(SQLException.class, e -> assertThat(e.getSQLState()).isEqualTo("28P01"));
    }

    @Test
    void createDatabaseAndExecuteWorkWithAndWithoutAPassword() throws Exception {
        for (LocalPostgres server : new LocalPostgres[] {trusting, guarded}) {
            String password = server == guarded ? PASSWORD : "";
            server.createDatabase("harness_made");
            server.execute("harness_made", "create table made (id int); insert into made values (1), (2)");
            try (Connection connection = DriverManager.getConnection(server.jdbcUrl("harness_made"), "postgres",
                    password)) {
                assertThat(queryOne(connection, "select sum(id) from made")).isEqualTo("3");
            }
        }
    }

    @Test
    void executeFailsWithPsqlsMessage() {
        assertThatThrownBy(() -> trusting.execute("postgres", "select * from no_such_table"))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("harness-trust/postgres")
                .hasMessageContaining("relation \"no_such_table\" does not exist");
        assertThatThrownBy(() -> trusting.createDatabase("postgres"))
                .hasMessageContaining("database \"postgres\" already exists");
    }

    @Test
    void killResetsConnectionsAndRestartRecoversTheDataOnTheSamePort() throws Exception {
        LocalPostgres server = LocalPostgres.builder(PostgresBinaries.resolve()).name("harness-kill").start();
        try (server) {
            int port = server.port();
            // synchronous_commit=off is the default here: ask for this commit's WAL to reach the OS before the kill
            server.execute("postgres", "set synchronous_commit = on; create table survivor as select 42 as answer");
            Connection before = DriverManager.getConnection(server.jdbcUrl("postgres"), "postgres", "");
            try (before) {
                server.kill();
                assertThatThrownBy(() -> queryOne(before, "select 1")).isInstanceOf(SQLException.class);
            }

            server.restart();
            assertThat(server.port()).isEqualTo(port);
            try (Connection after = DriverManager.getConnection(server.jdbcUrl("postgres"), "postgres", "")) {
                assertThat(queryOne(after, "select answer from survivor")).isEqualTo("42");
            }

            server.restart(); // while running: a fast shutdown, then the same data again
            try (Connection again = DriverManager.getConnection(server.jdbcUrl("postgres"), "postgres", "")) {
                assertThat(queryOne(again, "select answer from survivor")).isEqualTo("42");
            }
        }
    }

    @Test
    void aServerThatCannotStartFailsWithItsLogAndLeavesNothingBehind() throws IOException {
        assertThatThrownBy(() -> LocalPostgres.builder(PostgresBinaries.resolve()).name("harness-broken")
                .setting("no_such_setting", "1").start())
                .isInstanceOf(IOException.class)
                .hasMessageContaining("harness-broken")
                .hasMessageContaining("unrecognized configuration parameter \"no_such_setting\"");
        try (var left = Files.list(Path.of(System.getProperty("java.io.tmpdir")))) {
            assertThat(left.map(path -> path.getFileName().toString()))
                    .noneMatch(name -> name.startsWith("pgstitch-harness-broken-"));
        }
        assertThat(ProcessHandle.current().children().filter(ProcessHandle::isAlive)
                .map(child -> child.info().commandLine().orElse("")))
                .noneMatch(command -> command.contains("pgstitch-harness-broken-"));
    }

    @Test
    void theExtensionNamesItsShards(PostgresCluster cluster) {
        assertThat(cluster.size()).isGreaterThanOrEqualTo(2);
        assertThat(cluster.shard("shard1")).isSameAs(cluster.shard(1));
        assertThat(cluster.shard("shard2")).isSameAs(cluster.shard(2)).isNotSameAs(cluster.shard(1));
        assertThatThrownBy(() -> cluster.shard("shard0")).hasMessageContaining("no shard shard0");
        assertThat(cluster.description()).contains("PostgreSQL");
    }

    @Test
    void psqlRunsArgumentsAndScriptsAndReportsErrors(PostgresCluster cluster) {
        Psql.assumeAvailable();
        Psql psql = Psql.at(cluster.shard(1).host(), cluster.shard(1).port()).user("postgres").database("postgres");

        ProcessResult select = psql.run("-At", "-c", "select 6 * 7");
        assertThat(select.exitCode()).as("stderr: %s", select.stderr()).isZero();
        assertThat(select.stdout().trim()).isEqualTo("42");

        ProcessResult script = psql.script("select 'from'; select 'stdin';", "-At");
        assertThat(script.exitCode()).as("stderr: %s", script.stderr()).isZero();
        assertThat(script.stdout().lines()).containsExactly("from", "stdin");

        ProcessResult failed = psql.script("select 1/0; select 'never';", "-At");
        assertThat(failed.exitCode()).isEqualTo(3); // psql's "error in a script with ON_ERROR_STOP"
        assertThat(failed.stderr()).contains("division by zero");
        assertThat(failed.stdout()).doesNotContain("never");
    }

    @Test
    void pgbenchInitialisesAndRunsWithoutFailures(PostgresCluster cluster) {
        Pgbench.assumeAvailable();
        var shard = cluster.shard(1);
        shard.execute("postgres", "drop database if exists harness_bench");
        shard.createDatabase("harness_bench");
        Pgbench pgbench = Pgbench.at(shard.host(), shard.port()).user("postgres").database("harness_bench");

        ProcessResult init = pgbench.run("-i", "-s", "1", "-q");
        assertThat(init.exitCode()).as("pgbench -i; stderr: %s", init.stderr()).isZero();

        ProcessResult run = pgbench.run("-S", "-T", "2", "-c", "2");
        assertThat(run.exitCode()).as("pgbench -S; stderr: %s", run.stderr()).isZero();
        Pgbench.Report report = Pgbench.Report.of(run);
        assertThat(report.failed()).isZero();
        assertThat(report.processed()).isPositive();
        assertThat(report.tps()).isPositive();
    }
}
