package io.pgstitch.it;

import io.pgstitch.it.support.FaultyRelay;
import io.pgstitch.it.support.PostgresCluster;
import io.pgstitch.it.support.PostgresExtension;
import io.pgstitch.it.support.ProcessResult;
import io.pgstitch.it.support.Psql;
import io.pgstitch.proxy.pool.BackendPool;
import io.pgstitch.proxy.pool.PoolKey;
import io.pgstitch.proxy.rpc.RpcMetrics;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.postgresql.PGStatement;
import org.postgresql.util.PSQLException;

import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.DriverManager;
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
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowable;

/**
 * RPC isolation and result stitching with real PostgreSQL, psql and PgJDBC. Each premise test shows what
 * PostgreSQL does when connected to directly, then what pgstitch does with the same statements.
 */
@ExtendWith(PostgresExtension.class)
class RpcIT {

    private static final String DB = RpcEngine.DATABASE;

    private static PostgresCluster cluster;
    private static RpcEngine engine;
    private static TestProxy proxy;

    @BeforeAll
    static void start(PostgresCluster postgres) throws Exception {
        cluster = postgres;
        engine = RpcEngine.start(cluster.shard(1));
        proxy = TestProxy.start(config(cluster.shard(1).port(), ""));
    }

    @AfterAll
    static void stop() throws Exception {
        if (proxy != null) {
            proxy.close();
        }
        if (engine != null) {
            engine.close();
        }
    }

    private static String config(int shardPort, String rpcSettings) {
        return """
                listen: { host: 127.0.0.1, port: 0 }
                shards:
                  shard1: { host: 127.0.0.1, port: %d, user: postgres }
                routes:
                  %s: shard1
                rpc: { functions: ["iasql_*"] %s }
                """.formatted(shardPort, DB, rpcSettings.isEmpty() ? "" : ", " + rpcSettings);
    }

    private static Connection direct() throws SQLException {
        return direct(new Properties());
    }

    private static Connection direct(Properties properties) throws SQLException {
        Properties all = new Properties();
        all.setProperty("user", "postgres");
        all.putAll(properties);
        return DriverManager.getConnection(cluster.shard(1).jdbcUrl(DB), all);
    }

    private static Properties simpleProtocol() {
        Properties properties = new Properties();
        properties.setProperty("preferQueryMode", "simple");
        return properties;
    }

    /** Runs {@code sql} with execute() and collects every result: update counts and first values of result sets. */
    private static List<String> results(Connection connection, String sql) throws SQLException {
        List<String> results = new ArrayList<>();
        try (Statement statement = connection.createStatement()) {
            boolean isResultSet = statement.execute(sql);
            while (true) {
                if (isResultSet) {
                    try (ResultSet rs = statement.getResultSet()) {
                        StringBuilder rows = new StringBuilder("rows:");
                        while (rs.next()) {
                            rows.append(' ').append(rs.getString(1));
                        }
                        results.add(rows.toString());
                    }
                } else if (statement.getUpdateCount() >= 0) {
                    results.add("count: " + statement.getUpdateCount());
                } else {
                    return results;
                }
                isResultSet = statement.getMoreResults();
            }
        }
    }

    private static String scalar(Connection connection, String sql) throws SQLException {
        try (Statement statement = connection.createStatement(); ResultSet rs = statement.executeQuery(sql)) {
            rs.next();
            return rs.getString(1);
        }
    }

    private static long instances() throws SQLException {
        return engine.count("SELECT count(*) FROM instance");
    }

    /** An error's position counts from the start of the client's Query, not of the segment that ran it. */
    @Test
    void errorPositionsAreThoseOfTheWholeQuery() throws Exception {
        List<String> queries = List.of(
                "select 'été'; select iasql_noop(); select 1 +;",          // a syntax error after an RPC call
                "select '日本'; select iasql_echo('x'::int)",              // in the RPC call's own statement
                "select iasql_noop();\n  select no_such_column from instance"); // in a later session segment
        for (String sql : queries) {
            Integer direct;
            Integer proxied;
            try (Connection connection = direct(simpleProtocol())) {
                direct = position(connection, sql);
            }
            try (Connection connection = proxy.connect(DB, simpleProtocol())) {
                proxied = position(connection, sql);
            }
            assertThat(direct).as(sql).isPositive();
            assertThat(proxied).as(sql).isEqualTo(direct);
        }
    }

    private static Integer position(Connection connection, String sql) {
        Throwable error = catchThrowable(() -> results(connection, sql));
        assertThat(error).as(sql).isInstanceOf(PSQLException.class);
        return ((PSQLException) error).getServerErrorMessage().getPosition();
    }

    @Test
    void theEngineSeesAnInsertMadeEarlierInTheSameQueryOnlyThroughPgstitch() throws Exception {
        String sql = "INSERT INTO instance (name) VALUES ('web'); SELECT iasql_apply();";
        for (Properties mode : List.of(simpleProtocol(), new Properties())) {
            long before = instances();
            try (Connection connection = direct(mode)) {
                assertThat(results(connection, sql)).as("directly: one implicit transaction, the engine is blind")
                        .containsExactly("count: 1", "rows: instances=" + before);
            }
            try (Connection connection = proxy.connect(DB, mode)) {
                assertThat(results(connection, sql)).as("through pgstitch: the INSERT is committed first")
                        .containsExactly("count: 1", "rows: instances=" + (before + 2));
            }
        }
    }

    @Test
    void aRepeatableReadQuerySeesTheEngineRowsOnlyThroughPgstitch() throws Exception {
        Psql.assumeAvailable();
        String sql = "SELECT count(*) FROM installed; SELECT module FROM iasql_install('m1'); "
                + "SELECT count(*) FROM installed;";
        long before = engine.count("SELECT count(*) FROM installed");
        ProcessResult direct = Psql.at("127.0.0.1", cluster.shard(1).port()).database(DB)
                .env("PGOPTIONS", "-c default_transaction_isolation=repeatable\\ read")
                .run("-X", "-A", "-t", "-c", sql);
        assertThat(direct.exitCode()).as(direct.stderr()).isZero();
        assertThat(direct.stdout().lines()).as("directly: one snapshot for the whole query, the count is stale")
                .containsExactly(Long.toString(before), "m1", Long.toString(before));

        ProcessResult viaProxy = Psql.at("127.0.0.1", proxy.port()).database(DB)
                .env("PGOPTIONS", "-c default_transaction_isolation=repeatable\\ read")
                .run("-X", "-A", "-t", "-c", sql);
        assertThat(viaProxy.exitCode()).as(viaProxy.stderr()).isZero();
        assertThat(viaProxy.stdout().lines()).as("through pgstitch: the last count sees the engine's rows")
                .containsExactly(Long.toString(before + 3), "m1", Long.toString(before + 6));
    }

    @Test
    void psqlShowsWhatPostgresShowsForTheStatementsRunOneByOne() {
        Psql.assumeAvailable();
        ProcessResult oneByOne = Psql.at("127.0.0.1", cluster.shard(1).port()).database(DB)
                .run("-X", "-c", "select 1 as a", "-c", "select iasql_noop()", "-c", "select 'x' as b, 2 as c",
                        "-c", "do $$ begin raise notice 'hello'; end $$");
        ProcessResult stitched = Psql.at("127.0.0.1", proxy.port()).database(DB)
                .run("-X", "-c", "select 1 as a; select iasql_noop(); select 'x' as b, 2 as c;"
                        + " do $$ begin raise notice 'hello'; end $$");
        assertThat(oneByOne.exitCode()).as(oneByOne.stderr()).isZero();
        assertThat(stitched.exitCode()).as(stitched.stderr()).isZero();
        assertThat(stitched.stdout()).isEqualTo(oneByOne.stdout()).contains("iasql_noop").contains(" ok");
        assertThat(stitched.stderr()).isEqualTo(oneByOne.stderr()).contains("NOTICE:  hello");
    }

    @Test
    void pgjdbcSeesEveryResultInStatementOrder() throws Exception {
        String sql = "INSERT INTO side_effect VALUES ('order'); SELECT iasql_noop(); SELECT 2; "
                + "UPDATE side_effect SET note = note WHERE false";
        for (Properties mode : List.of(simpleProtocol(), new Properties())) {
            try (Connection connection = proxy.connect(DB, mode)) {
                assertThat(results(connection, sql))
                        .containsExactly("count: 1", "rows: ok", "rows: 2", "count: 0");
                assertThat(scalar(connection, "select 'still usable'")).isEqualTo("still usable");
            }
        }
    }

    @Test
    void theFirstErrorStopsTheBatchAndTheSessionStaysUsable() throws Exception {
        for (Properties mode : List.of(simpleProtocol(), new Properties())) {
            String tag = mode.isEmpty() ? "extended" : "simple";
            try (Connection connection = proxy.connect(DB, mode)) {
                assertThatThrownBy(() -> results(connection, "INSERT INTO side_effect VALUES ('before-" + tag
                        + "'); SELECT iasql_fail(); INSERT INTO side_effect VALUES ('after-" + tag + "')"))
                        .isInstanceOfSatisfying(SQLException.class, e -> {
                            assertThat(e.getSQLState()).isEqualTo("P0001");
                            assertThat(e.getMessage()).contains("the engine refused").contains("Fix the module");
                        });
                assertThat(scalar(connection, "select count(*) from side_effect where note = 'before-" + tag + "'"))
                        .as("the segment before the call was committed").isEqualTo("1");
                assertThat(scalar(connection, "select count(*) from side_effect where note = 'after-" + tag + "'"))
                        .as("nothing after the error ran").isEqualTo("0");

                long jobs = engine.count("SELECT count(*) FROM jobs");
                assertThatThrownBy(() -> results(connection, "SELECT 1/0; SELECT iasql_apply()"))
                        .isInstanceOfSatisfying(SQLException.class,
                                e -> assertThat(e.getSQLState()).isEqualTo("22012"));
                assertThat(engine.count("SELECT count(*) FROM jobs")).as("the RPC call never ran").isEqualTo(jobs);
                assertThat(scalar(connection, "select 'the session backend answers'"))
                        .isEqualTo("the session backend answers");
                assertThat(scalar(connection, "select iasql_noop()")).isEqualTo("ok");
            }
        }
    }

    @Test
    void anRpcCallInsideATransactionBlockIsRejectedAndAbortsIt() throws Exception {
        try (Connection connection = proxy.connect(DB)) {
            connection.setAutoCommit(false);
            connection.createStatement().execute("INSERT INTO side_effect VALUES ('in-tx')");
            assertThatThrownBy(() -> scalar(connection, "select iasql_noop()"))
                    .isInstanceOfSatisfying(SQLException.class, e -> {
                        assertThat(e.getSQLState()).isEqualTo("25001");
                        assertThat(e.getMessage()).contains("iasql_noop").contains("COMMIT or ROLLBACK first");
                    });
            assertThatThrownBy(() -> scalar(connection, "select 1")).as("the transaction is aborted")
                    .isInstanceOfSatisfying(SQLException.class, e -> assertThat(e.getSQLState()).isEqualTo("25P02"));
            connection.rollback();
            connection.setAutoCommit(true);
            assertThat(scalar(connection, "select count(*) from side_effect where note = 'in-tx'")).isEqualTo("0");
            assertThat(scalar(connection, "select iasql_noop()")).isEqualTo("ok");
        }
        Psql.assumeAvailable();
        ProcessResult begunInTheBatch = Psql.at("127.0.0.1", proxy.port()).database(DB)
                .run("-X", "-c", "BEGIN; INSERT INTO side_effect VALUES ('batch-tx'); SELECT iasql_noop(); COMMIT;");
        assertThat(begunInTheBatch.exitCode()).isNotZero();
        assertThat(begunInTheBatch.stderr()).contains("ERROR:  RPC function iasql_noop cannot run inside a "
                + "transaction block").contains("HINT:");
        assertThat(engine.count("select count(*) from side_effect where note = 'batch-tx'")).isZero();
    }

    @Test
    void isolateRunsTheCallInsideATransactionBlockAnyway() throws Exception {
        try (TestProxy isolating = TestProxy.start(config(cluster.shard(1).port(), "in_transaction: isolate"));
             Connection connection = isolating.connect(DB)) {
            connection.setAutoCommit(false);
            connection.createStatement().execute("INSERT INTO instance (name) VALUES ('uncommitted')");
            long committed = instances();
            assertThat(scalar(connection, "select iasql_apply()")).as("the engine cannot see this transaction")
                    .isEqualTo("instances=" + committed);
            connection.rollback();
        }
    }

    @Test
    void preparedStatementsRunOnRpcConnectionsPastThePrepareThreshold() throws Exception {
        try (Connection connection = proxy.connect(DB)) {
            int sessionPid = Integer.parseInt(scalar(connection, "select pg_backend_pid()"));
            try (PreparedStatement apply = connection.prepareStatement("select iasql_apply()");
                 PreparedStatement install = connection.prepareStatement("select * from iasql_install(?)");
                 PreparedStatement whoami = connection.prepareStatement("select pid from iasql_whoami()")) {
                for (int i = 0; i < 7; i++) {
                    connection.createStatement().execute("INSERT INTO instance (name) VALUES ('p" + i + "')");
                    try (ResultSet rs = apply.executeQuery()) {
                        assertThat(rs.next()).isTrue();
                        assertThat(rs.getString(1)).isEqualTo("instances=" + instances());
                    }
                    install.setString(1, "prep" + i);
                    try (ResultSet rs = install.executeQuery()) {
                        assertThat(rs.next()).isTrue();
                        assertThat(rs.getString("module")).isEqualTo("prep" + i);
                        assertThat(rs.getInt("items")).isEqualTo(3);
                        assertThat(rs.next()).isFalse();
                    }
                    try (ResultSet rs = whoami.executeQuery()) {
                        rs.next();
                        assertThat(rs.getInt(1)).as("an RPC connection, not the session's").isNotEqualTo(sessionPid);
                    }
                }
                assertThat(apply.unwrap(PGStatement.class).isUseServerPrepare())
                        .as("named server-side statements by now").isTrue();
            }
            assertThat(engine.count("select count(*) from installed where module like 'prep%'")).isEqualTo(21);
        }
    }

    @Test
    void theRpcConnectionGetsTheStartupParametersAndTheCurrentSearchPath() throws Exception {
        Properties properties = new Properties();
        properties.setProperty("ApplicationName", "stitch-test");
        try (Connection connection = proxy.connect(DB, properties)) {
            int sessionPid = Integer.parseInt(scalar(connection, "select pg_backend_pid()"));
            connection.createStatement().execute("SET search_path = elsewhere, public");
            try (ResultSet rs = connection.createStatement().executeQuery("select * from iasql_whoami()")) {
                rs.next();
                assertThat(rs.getInt("pid")).isNotEqualTo(sessionPid);
                assertThat(rs.getString("search_path")).isEqualTo("elsewhere, public");
                assertThat(rs.getString("app")).isEqualTo("stitch-test");
            }
            connection.createStatement().execute("RESET search_path");
            assertThat(scalar(connection, "select search_path from iasql_whoami()")).isEqualTo("\"$user\", public");
        }
    }

    @Test
    void statementCancelStopsTheRpcCall() throws Exception {
        try (Connection connection = proxy.connect(DB); Statement statement = connection.createStatement()) {
            ExecutorService canceller = Executors.newSingleThreadExecutor();
            try {
                Future<?> cancel = canceller.submit(() -> {
                    awaitRunning("select iasql_sleep(60)");
                    statement.cancel();
                    return null;
                });
                long started = System.nanoTime();
                assertThatThrownBy(() -> statement.executeQuery("select iasql_sleep(60)"))
                        .isInstanceOfSatisfying(SQLException.class,
                                e -> assertThat(e.getSQLState()).isEqualTo("57014"));
                cancel.get(30, TimeUnit.SECONDS);
                assertThat(TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - started)).isLessThan(30);
            } finally {
                canceller.shutdownNow();
            }
            assertThat(scalar(connection, "select iasql_noop()")).isEqualTo("ok");
        }
    }

    @Test
    void ctrlCInPsqlStopsTheRpcCall() throws Exception {
        Psql.assumeAvailable();
        Process psql = new ProcessBuilder("psql", "-X", "-h", "127.0.0.1", "-p", Integer.toString(proxy.port()),
                "-U", "postgres", "-d", DB, "-c", "select iasql_sleep(61)").start();
        awaitRunning("select iasql_sleep(61)");
        new ProcessBuilder("kill", "-INT", Long.toString(psql.pid())).start().waitFor();
        assertThat(psql.waitFor(30, TimeUnit.SECONDS)).as("psql returned").isTrue();
        String stderr = new String(psql.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(stderr).contains("canceling statement due to user request");
        assertThat(engine.count("select count(*) from pg_stat_activity where query like '%iasql_sleep(61)%'"
                + " and state = 'active' and pid <> pg_backend_pid()")).isZero();
    }

    /** Waits until {@code query} is active on the shard. */
    private static void awaitRunning(String query) throws Exception {
        for (int i = 0; i < 400; i++) {
            if (engine.count("select count(*) from pg_stat_activity where query = '" + query
                    + "' and state = 'active'") > 0) {
                return;
            }
            Thread.sleep(25);
        }
        throw new AssertionError("never started: " + query);
    }

    @Test
    void twentyClientsShareFourRpcConnectionsAndAWaitBeyondTheTimeoutNamesThePool() throws Exception {
        try (TestProxy small = TestProxy.start(config(cluster.shard(1).port(), "pool_size: 4, timeout: 60s"))) {
            ExecutorService clients = Executors.newFixedThreadPool(20);
            try {
                List<Future<String>> calls = new ArrayList<>();
                for (int i = 0; i < 20; i++) {
                    calls.add(clients.submit(() -> {
                        try (Connection connection = small.connect(DB)) {
                            return scalar(connection, "select iasql_sleep(0.2)");
                        }
                    }));
                }
                for (Future<String> call : calls) {
                    assertThat(call.get(60, TimeUnit.SECONDS)).isEqualTo("slept");
                }
            } finally {
                clients.shutdownNow();
            }
            assertThat(small.server().pools().pools()).filteredOn(pool -> pool.key().purpose() == PoolKey.Purpose.RPC)
                    .singleElement().satisfies(pool -> assertThat(pool.openConnections()).isLessThanOrEqualTo(4));
            assertThat(small.server().meters().get("pgstitch.rpc.calls").tag("outcome", "ok").timer().count())
                    .isEqualTo(20);
        }
        try (TestProxy tiny = TestProxy.start(config(cluster.shard(1).port(), "pool_size: 1, timeout: 300ms"));
             Connection holder = tiny.connect(DB); Connection waiter = tiny.connect(DB)) {
            ExecutorService background = Executors.newSingleThreadExecutor();
            try {
                Future<String> holding = background.submit(() -> scalar(holder, "select iasql_sleep(3)"));
                awaitRunning("select iasql_sleep(3)");
                assertThatThrownBy(() -> scalar(waiter, "select iasql_noop()"))
                        .isInstanceOfSatisfying(SQLException.class, e -> {
                            assertThat(e.getSQLState()).isEqualTo("53300");
                            assertThat(e.getMessage()).contains("RPC pool of shard \"shard1\", database \"" + DB
                                    + "\"").contains("rpc.pool_size");
                        });
                assertThat(scalar(waiter, "select 'session still usable'")).isEqualTo("session still usable");
                assertThat(holding.get(30, TimeUnit.SECONDS)).isEqualTo("slept");
            } finally {
                background.shutdownNow();
            }
            assertThat(tiny.server().meters().get("pgstitch.rpc.calls").tag("outcome",
                    RpcMetrics.Outcome.ERROR.name().toLowerCase()).timer().count()).isEqualTo(1);
        }
    }

    @Test
    void aCancelWhileWaitingForAnRpcConnectionStopsTheCall() throws Exception {
        try (TestProxy tiny = TestProxy.start(config(cluster.shard(1).port(), "pool_size: 1, timeout: 60s"));
             Connection holder = tiny.connect(DB); Connection waiter = tiny.connect(DB);
             Statement waiting = waiter.createStatement()) {
            ExecutorService background = Executors.newFixedThreadPool(2);
            try {
                Future<String> holding = background.submit(() -> scalar(holder, "select iasql_sleep(3)"));
                awaitRunning("select iasql_sleep(3)");
                Future<?> call = background.submit(() -> waiting.executeQuery("select iasql_noop()"));
                BackendPool rpcPool = tiny.server().pools().pools().stream()
                        .filter(pool -> pool.key().purpose() == PoolKey.Purpose.RPC).findFirst().orElseThrow();
                for (int i = 0; i < 400 && rpcPool.waiting() == 0; i++) {
                    Thread.sleep(10);
                }
                assertThat(rpcPool.waiting()).as("the call waits for the only RPC connection").isEqualTo(1);
                waiting.cancel();
                assertThatThrownBy(() -> call.get(30, TimeUnit.SECONDS)).hasCauseInstanceOf(SQLException.class)
                        .cause().satisfies(e -> assertThat(((SQLException) e).getSQLState()).isEqualTo("57014"));
                assertThat(holding.get(30, TimeUnit.SECONDS)).isEqualTo("slept");
                assertThat(scalar(waiter, "select iasql_noop()")).isEqualTo("ok");
            } finally {
                background.shutdownNow();
            }
        }
    }

    @Test
    void splitAlwaysCommitsEveryStatementOnItsOwn() throws Exception {
        String sql = "INSERT INTO side_effect VALUES ('always'); SELECT 1/0";
        try (Connection connection = direct(simpleProtocol())) {
            assertThatThrownBy(() -> results(connection, sql)).isInstanceOf(SQLException.class);
        }
        assertThat(engine.count("select count(*) from side_effect where note = 'always'"))
                .as("directly: the failed query's implicit transaction is rolled back").isZero();
        try (TestProxy always = TestProxy.start(config(cluster.shard(1).port(), "split: always"));
             Connection connection = always.connect(DB, simpleProtocol())) {
            assertThatThrownBy(() -> results(connection, sql)).isInstanceOf(SQLException.class);
            assertThat(scalar(connection, "select count(*) from side_effect where note = 'always'"))
                    .as("split: always: the INSERT was its own transaction").isEqualTo("1");
        }
    }

    @Test
    void splitNeverForwardsBatchesButStillIsolatesALoneCall() throws Exception {
        try (TestProxy never = TestProxy.start(config(cluster.shard(1).port(), "split: never"));
             Connection connection = never.connect(DB, simpleProtocol())) {
            long before = instances();
            assertThat(results(connection, "INSERT INTO instance (name) VALUES ('never'); SELECT iasql_apply();"))
                    .as("forwarded untouched: as blind as directly")
                    .containsExactly("count: 1", "rows: instances=" + before);
            int sessionPid = Integer.parseInt(scalar(connection, "select pg_backend_pid()"));
            assertThat(Integer.parseInt(scalar(connection, "select pid from iasql_whoami()")))
                    .as("a call alone in its query still runs on an RPC connection").isNotEqualTo(sessionPid);
        }
    }

    /** Parse, Bind and Execute of {@code sql}, unnamed, no parameters: what libpq pipelines per query. */
    private static void sendExtended(RawClient client, String sql) throws Exception {
        byte[] text = sql.getBytes(StandardCharsets.UTF_8);
        byte[] parse = new byte[text.length + 4];
        System.arraycopy(text, 0, parse, 1, text.length); // "" \0 sql \0 int16 0
        client.send('P', parse);
        client.send('B', new byte[8]); // "" \0 "" \0 int16 0 int16 0 int16 0
        client.send('E', new byte[5]); // "" \0 int32 0
    }

    private static String types(RawClient client, int count) throws Exception {
        StringBuilder types = new StringBuilder();
        for (int i = 0; i < count; i++) {
            types.append(client.read().type());
        }
        return types.toString();
    }

    @Test
    void aPipelineThatFlushesGetsItsRpcResultsBeforeItSyncs() throws Exception {
        try (RawClient client = RawClient.connect(proxy.port())) {
            client.sendStartup(java.util.Map.of("user", "postgres", "database", DB));
            client.readUntil('Z');
            // libpq's pipeline mode reading a result before PQpipelineSync: Flush, not Sync
            sendExtended(client, "select iasql_noop()");
            client.send('H', new byte[0]);
            assertThat(types(client, 3)).isEqualTo("12D");
            assertThat(client.read().type()).isEqualTo('C');
            sendExtended(client, "select 2");
            client.send('S', new byte[0]);
            assertThat(types(client, 5)).isEqualTo("12DCZ");

            // an error in the flushed part: as in PostgreSQL, the rest up to the Sync is skipped
            sendExtended(client, "select iasql_fail()");
            client.send('H', new byte[0]);
            assertThat(types(client, 2)).isEqualTo("12");
            RawClient.Message error = client.read();
            assertThat(error.type()).isEqualTo('E');
            assertThat(error.message()).isEqualTo("the engine refused");
            sendExtended(client, "insert into side_effect values ('after-flushed-error')");
            client.send('S', new byte[0]);
            RawClient.Message ready = client.read();
            assertThat(ready.type()).as("only the ReadyForQuery of the Sync").isEqualTo('Z');
            assertThat(ready.body()).containsExactly('I');

            // an error of the session before a held part: the held part is skipped, and nothing after the Sync is
            sendExtended(client, "select 1/0");
            client.send('H', new byte[0]);
            assertThat(types(client, 2)).isEqualTo("1E"); // 1/0 fails when Bind plans it
            sendExtended(client, "select iasql_noop()");
            client.send('H', new byte[0]);
            client.send('S', new byte[0]);
            assertThat(client.read().type()).as("the RPC call after the error never ran").isEqualTo('Z');
            client.send('Q', "select iasql_noop()\0".getBytes(StandardCharsets.UTF_8));
            assertThat(types(client, 4)).as("the next request runs in full").isEqualTo("TDCZ");
        }
        assertThat(engine.count("select count(*) from side_effect where note = 'after-flushed-error'")).isZero();
    }

    @Test
    void aQueryWithoutRpcCallReachesPostgresByteIdentical() throws Exception {
        try (FaultyRelay capture = new FaultyRelay("127.0.0.1", cluster.shard(1).port());
             TestProxy relayed = TestProxy.start(config(capture.port(), ""));
             Connection connection = relayed.connect(DB, simpleProtocol())) {
            String sql = "select 'iasql_apply() in a string' /* iasql_noop() */, \"iasql\" from "
                    + "(select 1 as \"iasql\") t; select 2";
            assertThat(results(connection, sql)).containsExactly("rows: iasql_apply() in a string", "rows: 2");
            byte[] text = sql.getBytes(StandardCharsets.UTF_8);
            byte[] query = new byte[text.length + 6];
            query[0] = 'Q';
            int length = text.length + 5;
            query[1] = (byte) (length >>> 24);
            query[2] = (byte) (length >>> 16);
            query[3] = (byte) (length >>> 8);
            query[4] = (byte) length;
            System.arraycopy(text, 0, query, 5, text.length);
            assertThat(indexOf(capture.clientBytes(), query)).as("the Query message, byte for byte").isNotNegative();
            assertThat(relayed.server().meters().get("pgstitch.rpc.calls").tag("outcome", "ok").timer().count())
                    .isZero();
        }
    }

    private static int indexOf(byte[] haystack, byte[] needle) {
        outer:
        for (int i = 0; i <= haystack.length - needle.length; i++) {
            for (int j = 0; j < needle.length; j++) {
                if (haystack[i + j] != needle[j]) {
                    continue outer;
                }
            }
            return i;
        }
        return -1;
    }
}
