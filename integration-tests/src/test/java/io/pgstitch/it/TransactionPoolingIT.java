package io.pgstitch.it;

import io.pgstitch.it.support.Pgbench;
import io.pgstitch.it.support.PostgresCluster;
import io.pgstitch.it.support.PostgresExtension;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Transaction and statement pooling against real PostgreSQL with real clients: many clients over a few backends,
 * prepared statements, settings and session-only features carried or refused, nothing of one client seen by
 * another. Pools are small (one or four backends) so that backends change hands all the time.
 */
@ExtendWith(PostgresExtension.class)
class TransactionPoolingIT {

    private static PostgresCluster cluster;
    private static TestProxy proxy;
    /** One backend that keeps two prepared statements and refuses session-only features. */
    private static TestProxy strict;
    private static RpcEngine engine;

    @BeforeAll
    static void start(PostgresCluster postgres) throws Exception {
        cluster = postgres;
        Tenants.create(cluster.shard(1), "txpool", "txpool", "shard1");
        proxy = TestProxy.start(config(cluster, "{ mode: transaction, size: 4, wait_timeout: 20s }", """
                  one: { shard: shard1, database: txpool, pool: { size: 1 } }
                  stmt: { shard: shard1, database: txpool, pool: { mode: statement } }
                  session_one: { shard: shard1, database: txpool, pool: { mode: session, size: 1 } }
                  rpc_pool: { shard: shard1, pool: { size: 1 } }
                rpc: { functions: ["iasql_*"] }
                """));
        engine = RpcEngine.start(cluster.shard(1), "rpc_pool");
        strict = TestProxy.start(config(cluster,
                "{ mode: transaction, size: 1, max_prepared_statements: 2, session_features: error }", ""));
    }

    /** One shard with {@code pool}, route txpool to it, then {@code more} (further routes, other sections). */
    private static String config(PostgresCluster cluster, String pool, String more) {
        return """
                listen: { host: 127.0.0.1, port: 0 }
                auth: { method: trust }
                shards:
                  shard1: { host: 127.0.0.1, port: %d, user: postgres, pool: %s }
                routes:
                  txpool: shard1
                """.formatted(cluster.shard(1).port(), pool) + more;
    }

    @AfterAll
    static void stop() throws Exception {
        if (proxy != null) {
            proxy.close();
        }
        if (strict != null) {
            strict.close();
        }
        if (engine != null) {
            engine.close();
        }
    }

    private static Connection connect(String database) throws SQLException {
        return proxy.connect(database);
    }

    private static String single(Connection connection, String sql) throws SQLException {
        try (Statement statement = connection.createStatement(); ResultSet rs = statement.executeQuery(sql)) {
            rs.next();
            return rs.getString(1);
        }
    }

    @ParameterizedTest(name = "pgbench -M {0}, 64 clients over 4 backends")
    @ValueSource(strings = {"simple", "extended", "prepared"})
    void pgbenchLosesNoTransaction(String mode) throws Exception {
        Pgbench.assumeAvailable();
        var init = Pgbench.at("127.0.0.1", proxy.port()).user("postgres").database("txpool")
                .run("-i", "-s", "1", "-q");
        assertThat(init.exitCode()).as("pgbench -i; stderr: %s", init.stderr()).isZero();
        var result = Pgbench.at("127.0.0.1", proxy.port()).user("postgres").database("txpool")
                .run("-M", mode, "-c", "64", "-j", "2", "-t", "30");
        assertThat(result.exitCode()).as("pgbench; stderr: %s", result.stderr()).isZero();
        Pgbench.Report report = Pgbench.Report.of(result);
        assertThat(report.failed()).as("failed transactions; output: %s", result.stdout()).isZero();
        assertThat(report.processed()).isEqualTo(64 * 30);
        try (Connection direct = java.sql.DriverManager.getConnection(cluster.shard(1).jdbcUrl("txpool"),
                "postgres", "")) {
            assertThat(single(direct, "select count(*) from pgbench_history")).as("one history row per transaction")
                    .isEqualTo(String.valueOf(64 * 30));
        }
        assertThat(proxy.server().pools().pools().stream()
                .filter(pool -> pool.key().database().equals("txpool") && pool.key().config().size() == 4)
                .mapToInt(pool -> pool.openConnections()).sum())
                .as("backends open for the 64 clients").isBetween(1, 4);
    }

    /** One backend, two clients: what one sets is never seen by the other, and each keeps its own. */
    @Test
    void settingsStayWithTheirClient() throws Exception {
        try (Connection a = connect("one"); Connection b = connect("one")) {
            String pid = single(a, "select pg_backend_pid()");
            try (Statement s = a.createStatement()) {
                s.execute("set search_path = pg_catalog, public");
                s.execute("set timezone = 'Asia/Tokyo'");
                s.execute("set statement_timeout = '7s'");
                s.execute("set application_name = 'client-a'");
            }
            assertThat(single(b, "select pg_backend_pid()")).as("the same backend").isEqualTo(pid);
            assertThat(single(b, "show search_path")).isEqualTo("\"$user\", public");
            assertThat(single(b, "show timezone")).isNotEqualTo("Asia/Tokyo");
            assertThat(single(b, "show statement_timeout")).isEqualTo("0");
            assertThat(single(b, "show application_name")).isNotEqualTo("client-a");
            for (int i = 0; i < 3; i++) {
                assertThat(single(a, "show search_path")).isEqualTo("pg_catalog, public");
                assertThat(single(a, "show timezone")).isEqualTo("Asia/Tokyo");
                assertThat(single(a, "show statement_timeout")).isEqualTo("7s");
                assertThat(single(a, "show application_name")).isEqualTo("client-a");
                b.createStatement().execute("set statement_timeout = '3s'");
                assertThat(single(b, "show statement_timeout")).isEqualTo("3s");
                assertThat(single(b, "select pg_backend_pid()")).as("still one backend").isEqualTo(pid);
            }
            a.createStatement().execute("reset timezone");
            assertThat(single(a, "show timezone")).isEqualTo(single(b, "show timezone"));
        }
    }

    /**
     * A placeholder variable ({@code set myapp.tenant}) survives every reset as '' where PostgreSQL says NULL:
     * the backend that has one never goes to a client that did not define it, in either mode.
     */
    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"one", "session_one"})
    void placeholderVariablesNeverReachAnotherClient(String database) throws Exception {
        try (Connection a = connect(database)) {
            a.createStatement().execute("set myapp.tenant = 'A'");
            a.createStatement().execute("select set_config('myapp.other', 'O', false)");
            assertThat(single(a, "select current_setting('myapp.tenant', true)")).isEqualTo("A");
            if (database.equals("one")) { // transaction mode: the backend is free between a's transactions
                try (Connection b = connect(database)) {
                    assertThat(single(b, "select current_setting('myapp.tenant', true) is null")).isEqualTo("t");
                    assertThat(single(b, "select current_setting('myapp.other', true) is null")).isEqualTo("t");
                }
            }
            assertThat(single(a, "select current_setting('myapp.tenant', true)")).isEqualTo("A");
            assertThat(single(a, "select current_setting('myapp.other', true)")).isEqualTo("O");
        }
        try (Connection c = connect(database)) {
            assertThat(single(c, "select current_setting('myapp.tenant', true) is null")).isEqualTo("t");
        }
    }

    /** Two clients give one name to different statements; a client prepares, idles, and executes later. */
    @Test
    void preparedStatementsAreTheClientsOwn() throws Exception {
        Properties serverPrepared = new Properties();
        serverPrepared.setProperty("prepareThreshold", "1");
        try (Connection a = proxy.connect("one", serverPrepared); Connection b = proxy.connect("one", serverPrepared);
             PreparedStatement fromA = a.prepareStatement("select 'a:' || ?::text");
             PreparedStatement fromB = b.prepareStatement("select 'b:' || ?::int * 2")) {
            for (int i = 0; i < 5; i++) {
                fromA.setString(1, "x" + i);
                try (ResultSet rs = fromA.executeQuery()) {
                    rs.next();
                    assertThat(rs.getString(1)).isEqualTo("a:x" + i);
                }
                fromB.setInt(1, i);
                try (ResultSet rs = fromB.executeQuery()) {
                    rs.next();
                    assertThat(rs.getString(1)).isEqualTo("b:" + i * 2);
                }
            }
            // both PgJDBC connections named their statement S_1: the same name, two statements
            assertThat(fromA.getMetaData().getColumnCount()).isEqualTo(1);
            assertThat(fromB.getParameterMetaData().getParameterCount()).isEqualTo(1);
        }
    }

    @ParameterizedTest(name = "PgJDBC {0}")
    @ValueSource(strings = {"prepareThreshold=1", "prepareThreshold=5"})
    void fiftyThreadsOverFourBackendsThroughHikari(String driverSettings) throws Exception {
        try (Connection setup = connect("txpool")) {
            setup.createStatement().execute("create table if not exists hikari_rows (id int, thread int)");
            setup.createStatement().execute("truncate hikari_rows");
        }
        com.zaxxer.hikari.HikariConfig config = new com.zaxxer.hikari.HikariConfig();
        config.setJdbcUrl(proxy.jdbcUrl("txpool") + "?" + driverSettings); // 5: PgJDBC's default
        config.setUsername("postgres");
        config.setMaximumPoolSize(50);
        try (com.zaxxer.hikari.HikariDataSource pool = new com.zaxxer.hikari.HikariDataSource(config)) {
            ExecutorService threads = Executors.newFixedThreadPool(50);
            List<Future<Integer>> done = new ArrayList<>();
            for (int t = 0; t < 50; t++) {
                int thread = t;
                done.add(threads.submit(() -> {
                    int rows = 0;
                    for (int i = 0; i < 20; i++) {
                        try (Connection c = pool.getConnection()) {
                            c.setAutoCommit(false);
                            try (PreparedStatement insert = c.prepareStatement(
                                    "insert into hikari_rows values (?, ?)")) {
                                for (int k = 0; k < 5; k++) {
                                    insert.setInt(1, i * 5 + k);
                                    insert.setInt(2, thread);
                                    insert.addBatch();
                                }
                                rows += insert.executeBatch().length;
                            }
                            try (PreparedStatement read = c.prepareStatement(
                                    "select id from hikari_rows where thread = ? order by id")) {
                                read.setFetchSize(2);
                                read.setInt(1, thread);
                                int seen = 0;
                                try (ResultSet rs = read.executeQuery()) {
                                    while (rs.next()) {
                                        seen++;
                                    }
                                }
                                assertThat(seen).isEqualTo(rows);
                                assertThat(read.getMetaData().getColumnName(1)).isEqualTo("id");
                            }
                            c.commit();
                        }
                    }
                    return rows;
                }));
            }
            int total = 0;
            for (Future<Integer> future : done) {
                total += future.get(5, TimeUnit.MINUTES);
            }
            threads.shutdown();
            assertThat(total).isEqualTo(50 * 20 * 5);
        }
        try (Connection check = connect("txpool")) {
            assertThat(single(check, "select count(*) from hikari_rows")).isEqualTo(String.valueOf(50 * 20 * 5));
        }
    }

    @Test
    void listenPinsTheClientToItsBackend() throws Exception {
        try (Connection listener = connect("txpool"); Connection other = connect("txpool")) {
            listener.createStatement().execute("listen pinned_channel");
            String pid = single(listener, "select pg_backend_pid()");
            for (int i = 0; i < 5; i++) {
                single(other, "select 1");
                assertThat(single(listener, "select pg_backend_pid()")).isEqualTo(pid);
            }
            other.createStatement().execute("notify pinned_channel, 'hello'");
            single(listener, "select 1");
            org.postgresql.PGNotification[] notes = listener.unwrap(org.postgresql.PGConnection.class)
                    .getNotifications(10_000);
            assertThat(notes).extracting(org.postgresql.PGNotification::getParameter).containsExactly("hello");
        }
    }

    @Test
    void statementModeRefusesTransactionBlocksByName() throws Exception {
        try (Connection c = connect("stmt")) {
            assertThat(single(c, "select 40 + 2")).isEqualTo("42");
            c.setAutoCommit(false);
            assertThatThrownBy(() -> single(c, "select 1")).isInstanceOfSatisfying(SQLException.class, e -> {
                assertThat(e.getSQLState()).isEqualTo("0A000");
                assertThat(e.getMessage()).contains("statement pooling mode");
            });
        }
    }

    @Test
    void aClientLeavingMidTransactionIsRolledBackAndItsBackendReused() throws Exception {
        try (Connection setup = connect("one")) {
            setup.createStatement().execute("create table if not exists left_open_tx (note text)");
        }
        Set<String> pids = new HashSet<>();
        for (int i = 0; i < 3; i++) {
            try (Connection c = connect("one")) {
                pids.add(single(c, "select pg_backend_pid()"));
                c.setAutoCommit(false);
                c.createStatement().execute("insert into left_open_tx values ('never committed')");
            }
        }
        try (Connection c = connect("one")) {
            assertThat(single(c, "select count(*) from left_open_tx")).isEqualTo("0");
            pids.add(single(c, "select pg_backend_pid()"));
        }
        assertThat(pids).as("one backend served them all").hasSize(1);
    }

    /** A cancel reaches the backend running the client's query, and nothing once it has gone to another client. */
    @Test
    void aCancelReachesTheBackendServingTheClientNow() throws Exception {
        try (Connection a = connect("one"); Connection b = connect("one")) {
            String pid = single(a, "select pg_backend_pid()");
            try (Statement sleeping = a.createStatement()) {
                java.util.concurrent.CompletableFuture<SQLException> cancelled =
                        java.util.concurrent.CompletableFuture.supplyAsync(() -> {
                            try {
                                sleeping.execute("select pg_sleep(60)");
                                return null;
                            } catch (SQLException e) {
                                return e;
                            }
                        });
                try (Connection direct = java.sql.DriverManager.getConnection(
                        cluster.shard(1).jdbcUrl("txpool"), "postgres", "")) {
                    for (int i = 0; i < 3000 && !"active".equals(single(direct,
                            "select coalesce(max(state), '') from pg_stat_activity where pid = " + pid
                                    + " and query like 'select pg_sleep%'")); i++) {
                        Thread.sleep(10);
                    }
                }
                sleeping.cancel();
                SQLException error = cancelled.get(30, TimeUnit.SECONDS);
                assertThat((Object) error).as("the query was cancelled").isNotNull();
                assertThat(error.getSQLState()).isEqualTo("57014");
            }
            // a's cancel after its backend has gone to b must not touch b's query
            try (Statement idle = a.createStatement(); Statement working = b.createStatement()) {
                idle.cancel();
                assertThat(single(b, "select count(*) from pg_sleep(0.5)")).isEqualTo("1");
                working.execute("select 1");
            }
            assertThat(single(a, "select 1")).isEqualTo("1");
        }
    }

    /** An error in the middle of a pipelined batch: what PostgreSQL skips is skipped, and the client goes on. */
    @Test
    void anErrorInAPipelinedBatchEndsLikeDirectly() throws Exception {
        try (Connection a = connect("one"); Statement s = a.createStatement()) {
            s.execute("create table if not exists batch_rows (id int primary key)");
            s.execute("truncate batch_rows");
            a.setAutoCommit(false);
            try (PreparedStatement insert = a.prepareStatement("insert into batch_rows values (?)")) {
                for (int id : new int[] {1, 2, 2, 3}) {
                    insert.setInt(1, id);
                    insert.addBatch();
                }
                assertThatThrownBy(insert::executeBatch).isInstanceOf(java.sql.BatchUpdateException.class);
            }
            a.rollback();
            a.setAutoCommit(true);
            try (PreparedStatement insert = a.prepareStatement("insert into batch_rows values (?)")) {
                insert.setInt(1, 9);
                insert.executeUpdate();
            }
            assertThat(single(a, "select string_agg(id::text, ',') from batch_rows")).isEqualTo("9");
        }
    }

    /** SQL PREPARE pins (so EXECUTE finds it); DISCARD ALL clears the client's own statements, not others'. */
    @Test
    void sqlPreparePinsAndDiscardAllClearsOnlyTheClientsStatements() throws Exception {
        Properties serverPrepared = new Properties();
        serverPrepared.setProperty("prepareThreshold", "1");
        try (Connection a = connect("one"); Connection b = proxy.connect("one", serverPrepared);
             PreparedStatement fromB = b.prepareStatement("select 'b' || ?::text")) {
            fromB.setString(1, "1");
            try (ResultSet rs = fromB.executeQuery()) {
                rs.next();
            }
            a.createStatement().execute("prepare q(int) as select $1 * 10");
            assertThat(single(a, "execute q(4)")).isEqualTo("40");
            b.close(); // a holds the one backend now: b could not run until a leaves
            a.createStatement().execute("discard all");
            assertThatThrownBy(() -> single(a, "execute q(4)")).isInstanceOfSatisfying(SQLException.class,
                    e -> assertThat(e.getSQLState()).isEqualTo("26000"));
        }
        Properties serverPrepared2 = new Properties();
        serverPrepared2.setProperty("prepareThreshold", "1");
        try (Connection c = proxy.connect("one", serverPrepared2);
             PreparedStatement again = c.prepareStatement("select 'c' || ?::text")) {
            for (int i = 0; i < 3; i++) {
                again.setString(1, String.valueOf(i));
                try (ResultSet rs = again.executeQuery()) {
                    rs.next();
                    assertThat(rs.getString(1)).isEqualTo("c" + i);
                }
            }
        }
    }

    @Test
    void sessionFeaturesAreRefusedByNameWhenConfigured() throws Exception {
        try (Connection c = strict.connect("txpool")) {
            for (String sql : List.of("listen nowhere", "create temp table t (a int)",
                    "select pg_advisory_lock(42)", "prepare p as select 1")) {
                assertThatThrownBy(() -> c.createStatement().execute(sql)).as(sql)
                        .isInstanceOfSatisfying(SQLException.class, e -> {
                            assertThat(e.getSQLState()).isEqualTo("0A000");
                            assertThat(e.getMessage()).contains("transaction pooling mode");
                        });
            }
            assertThat(single(c, "select count(*) from pg_listening_channels()")).isEqualTo("0");
        }
    }

    /** Three statements used in turn over a backend that keeps two: each use re-prepares what was evicted. */
    @Test
    void theLeastRecentlyUsedStatementIsEvictedAndPreparedAgainWhenUsed() throws Exception {
        Properties serverPrepared = new Properties();
        serverPrepared.setProperty("prepareThreshold", "1");
        try (Connection c = strict.connect("txpool", serverPrepared)) {
            List<PreparedStatement> statements = new ArrayList<>();
            for (int k = 0; k < 3; k++) {
                statements.add(c.prepareStatement("select " + k + " + ?::int"));
            }
            for (int round = 0; round < 4; round++) {
                for (int k = 0; k < 3; k++) {
                    statements.get(k).setInt(1, round);
                    try (ResultSet rs = statements.get(k).executeQuery()) {
                        rs.next();
                        assertThat(rs.getInt(1)).isEqualTo(k + round);
                    }
                }
            }
            assertThat(single(c, "select count(*) from pg_prepared_statements where name like 'pgstitch_%'"))
                    .as("statements the backend keeps").isEqualTo("2");
            for (PreparedStatement statement : statements) {
                statement.close();
            }
        }
    }

    /** asyncpg names every statement and describes statements it never executes. */
    @Test
    void asyncpgPreparedStatementsAcrossBackends() throws Exception {
        io.pgstitch.it.support.ScriptClient python = io.pgstitch.it.support.ScriptClient.python("asyncpg");
        io.pgstitch.it.support.ProcessResult result = python.run("""
                import sys, asyncio, asyncpg
                host, port, db = sys.argv[1:4]
                async def client(n):
                    conn = await asyncpg.connect(host=host, port=int(port), database=db, user='postgres', ssl=False)
                    total = 0
                    for i in range(30):
                        total += await conn.fetchval("select $1::int + $2::int", i, n)
                        stmt = await conn.prepare("select $1::text || 'x'")
                        assert [a.name for a in stmt.get_attributes()] == ['?column?']
                        async with conn.transaction():
                            total += await conn.fetchval("select count(*) from generate_series(1, $1::int)", 2)
                    await conn.close()
                    return total
                async def main():
                    totals = await asyncio.gather(*[client(n) for n in range(8)])
                    print(sum(totals))
                asyncio.run(main())
                """, proxy.port(), "one");
        assertThat(result.exitCode()).as(result.stderr()).isZero();
        // per client: sum(i + n) over 30 rounds + 2 per round
        long expected = 0;
        for (int n = 0; n < 8; n++) {
            expected += 435 + 30L * n + 60;
        }
        assertThat(result.stdout().strip()).isEqualTo(String.valueOf(expected));
    }

    /**
     * psycopg 3's pipeline mode (many statements, one Sync) with server-side prepared statements from the first
     * execution, four connections over one backend, an error inside a pipeline: the same answers as directly.
     */
    @Test
    void psycopgPipelinesAndPreparedStatementsAnswerAsDirectly() throws Exception {
        io.pgstitch.it.support.ScriptClient python = io.pgstitch.it.support.ScriptClient.python("psycopg");
        String script = """
                import sys, psycopg
                host, port, db = sys.argv[1:4]
                conns = [psycopg.connect(host=host, port=port, dbname=db, user='postgres', sslmode='disable',
                                         autocommit=True, prepare_threshold=0) for _ in range(4)]
                total = 0
                for rnd in range(10):
                    for n, conn in enumerate(conns):
                        with conn.pipeline():
                            a = conn.execute("select %s::int + %s::int", (rnd, n))
                            b = conn.execute("select %s::int * 2", (rnd,))
                            c = conn.execute("select count(*) from generate_series(1, %s::int)", (3,))
                        total += a.fetchone()[0] + b.fetchone()[0] + c.fetchone()[0]
                    try:
                        with conns[0].pipeline():
                            conns[0].execute("select 1 / %s::int", (0,))
                            conns[0].execute("select %s::int", (1,))
                    except psycopg.errors.DivisionByZero:
                        total += 1000
                print(total)
                """;
        io.pgstitch.it.support.ProcessResult direct = python.run(script, cluster.shard(1).port(), "txpool");
        io.pgstitch.it.support.ProcessResult pooled = python.run(script, proxy.port(), "one");
        assertThat(direct.exitCode()).as(direct.stderr()).isZero();
        assertThat(pooled.exitCode()).as(pooled.stderr()).isZero();
        assertThat(pooled.stdout()).isEqualTo(direct.stdout()).isEqualTo("10720\n");
    }

    /** RPC calls are stitched in transaction mode too: the request holds its backend until its last answer. */
    @Test
    void rpcCallsAreStitchedInTransactionMode() throws Exception {
        try (Connection a = connect("rpc_pool"); Connection b = connect("rpc_pool")) {
            for (Connection c : List.of(a, b, a)) {
                try (Statement s = c.createStatement()) {
                    assertThat(s.execute("insert into side_effect values ('before'); select iasql_noop(); "
                            + "select count(*) from side_effect")).isFalse();
                    assertThat(s.getMoreResults()).isTrue();
                    assertThat(s.getMoreResults()).isTrue();
                }
            }
            assertThat(single(b, "select count(*) from side_effect")).isEqualTo("3");
            try (PreparedStatement echo = a.prepareStatement("select iasql_echo(?)")) {
                echo.setInt(1, 5);
                try (ResultSet rs = echo.executeQuery()) {
                    rs.next();
                    assertThat(rs.getInt(1)).isEqualTo(5);
                }
            }
        }
    }
}
