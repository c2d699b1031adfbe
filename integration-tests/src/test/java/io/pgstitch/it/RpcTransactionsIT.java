package io.pgstitch.it;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import io.pgstitch.it.RpcFixture.Via;
import io.pgstitch.it.support.ProcessResult;
import io.pgstitch.it.support.Psql;
import io.pgstitch.it.support.ScriptClient;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.sql.Connection;
import java.sql.SQLException;

import static io.pgstitch.it.RpcFixture.scalar;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * RPC calls in the transactions drivers and ORMs open (issue 14, cases 1, 6 and 7), each shown first directly
 * against PostgreSQL with the {@link RpcEngine} premise, then through pgstitch with the client that sends it:
 * PgJDBC with autocommit off (BEGIN in the same batch as the call) and through HikariCP, psycopg2 (BEGIN as a
 * Query of its own), asyncpg's {@code transaction()}, psql. Under repeatable read the difference shows: directly
 * the call is the block's first statement and takes its snapshot before the engine works, so the session never
 * sees the engine's rows; through pgstitch the call runs on an RPC connection and the block's snapshot is taken
 * by the statement after it.
 */
class RpcTransactionsIT {

    private static final String DB = "rpc_tx";

    @RegisterExtension
    static final RpcFixture rpc = new RpcFixture(DB);

    private static long installed(String module) throws SQLException {
        return rpc.engine().count("SELECT count(*) FROM installed WHERE module = '" + module + "'");
    }

    /** The first statement of a repeatable read block installs a module; the count after it is what it saw. */
    private static String installThenCount(Connection connection, String module) throws SQLException {
        connection.setAutoCommit(false);
        connection.setTransactionIsolation(Connection.TRANSACTION_REPEATABLE_READ);
        assertThat(scalar(connection, "select items from iasql_install('" + module + "')")).isEqualTo("3");
        String seen = scalar(connection, "select count(*) from installed where module = '" + module + "'");
        connection.commit();
        return seen;
    }

    @Test
    void pgjdbcWithAutocommitOffRunsTheFirstCallOfItsBlockOnAnRpcConnection() throws Exception {
        try (Connection connection = rpc.direct().connect()) {
            assertThat(installThenCount(connection, rpc.direct().module("jdbc")))
                    .as("directly the call took the block's snapshot, before the engine's work").isEqualTo("0");
        }
        try (Connection connection = rpc.pgstitch().connect()) {
            assertThat(installThenCount(connection, rpc.pgstitch().module("jdbc")))
                    .as("through pgstitch the snapshot is taken after the call").isEqualTo("3");
            connection.setAutoCommit(true);
            int sessionPid = Integer.parseInt(scalar(connection, "select pg_backend_pid()"));
            connection.setAutoCommit(false);
            assertThat(Integer.parseInt(scalar(connection, "select pid from iasql_whoami()")))
                    .as("the call ran on an RPC connection").isNotEqualTo(sessionPid);
            assertThat(scalar(connection, "select iasql_noop()")).as("calls in a row before any other statement")
                    .isEqualTo("ok");
            assertThat(scalar(connection, "select 1")).isEqualTo("1");
            assertThatThrownBy(() -> scalar(connection, "select iasql_noop()")).as("after another statement")
                    .isInstanceOfSatisfying(SQLException.class, e -> assertThat(e.getSQLState()).isEqualTo("25001"));
            connection.rollback();
        }
        assertThat(installed(rpc.pgstitch().module("jdbc"))).isEqualTo(3);
    }

    @Test
    void hikariWithAutocommitOffRunsTheFirstCallOfEachTransaction() throws Exception {
        HikariConfig config = new HikariConfig();
        config.setJdbcUrl(rpc.proxy().jdbcUrl(DB));
        config.setUsername("postgres");
        config.setAutoCommit(false);
        config.setMaximumPoolSize(2);
        config.setTransactionIsolation("TRANSACTION_REPEATABLE_READ");
        try (HikariDataSource pool = new HikariDataSource(config)) {
            for (int i = 0; i < 3; i++) {
                String module = "hikari-" + i;
                try (Connection connection = pool.getConnection()) {
                    assertThat(scalar(connection, "select items from iasql_install('" + module + "')"))
                            .isEqualTo("3");
                    assertThat(scalar(connection, "select count(*) from installed where module = '" + module + "'"))
                            .isEqualTo("3");
                    connection.commit();
                }
            }
        }
    }

    @Test
    void psycopg2RunsTheFirstCallOfItsBlockOnAnRpcConnection() throws Exception {
        ScriptClient python = ScriptClient.python("psycopg2");
        for (Via via : rpc.both()) {
            // psycopg2 sends BEGIN as a Query of its own before the first statement
            ProcessResult result = python.run("""
                    import sys, psycopg2
                    host, port, db = sys.argv[1:4]
                    conn = psycopg2.connect(host=host, port=port, dbname=db, user='postgres', sslmode='disable')
                    conn.set_session(isolation_level='REPEATABLE READ')
                    cur = conn.cursor()
                    cur.execute("select items from iasql_install(%%s)", ('%1$s',))
                    print(cur.fetchone()[0])
                    cur.execute("select count(*) from installed where module = %%s", ('%1$s',))
                    print(cur.fetchone()[0])
                    conn.commit()
                    print(conn.info.transaction_status)
                    """.formatted(via.module("psycopg2")), via.port(), DB);
            assertThat(result.exitCode()).as(result.stderr()).isZero();
            assertThat(result.stdout().lines()).as(via.name())
                    .containsExactly("3", via.direct() ? "0" : "3", "0");
        }
    }

    @Test
    void asyncpgRunsTheFirstCallOfItsTransactionOnAnRpcConnection() throws Exception {
        ScriptClient python = ScriptClient.python("asyncpg");
        for (Via via : rpc.both()) {
            ProcessResult result = python.run("""
                    import sys, asyncio, asyncpg
                    host, port, db = sys.argv[1:4]
                    async def main():
                        conn = await asyncpg.connect(host=host, port=int(port), database=db, user='postgres', ssl=False)
                        async with conn.transaction(isolation='repeatable_read'):
                            print(await conn.fetchval("select items from iasql_install($1)", '%1$s'))
                            print(await conn.fetchval("select count(*) from installed where module = $1", '%1$s'))
                        try:
                            async with conn.transaction():
                                await conn.execute("select 1")
                                print(await conn.fetchval("select iasql_noop()"))
                        except asyncpg.PostgresError as e:
                            print(e.sqlstate)
                        print(await conn.fetchval("select iasql_noop()"))
                        await conn.close()
                    asyncio.run(main())
                    """.formatted(via.module("asyncpg")), via.port(), DB);
            assertThat(result.exitCode()).as(result.stderr()).isZero();
            assertThat(result.stdout().lines()).as(via.name()).containsExactly("3", via.direct() ? "0" : "3",
                    via.direct() ? "ok" : "25001", "ok");
        }
    }

    @Test
    void aBlockBegunAndCommittedInTheSameStringAsTheCallEndsAsDirectly() throws Exception {
        ScriptClient python = ScriptClient.python("psycopg2");
        String script = """
                import sys, psycopg2
                host, port, db = sys.argv[1:4]
                conn = psycopg2.connect(host=host, port=port, dbname=db, user='postgres', sslmode='disable')
                conn.autocommit = True
                cur = conn.cursor()
                for sql in ["begin; select iasql_apply(); commit", "begin; select iasql_fail(); commit"]:
                    try:
                        cur.execute(sql)
                        print("ok", conn.info.transaction_status)
                    except psycopg2.Error as e:
                        print(e.pgcode, conn.info.transaction_status)
                    if conn.info.transaction_status != 0:
                        cur.execute("rollback")
                """;
        for (Via via : rpc.both()) {
            ProcessResult result = python.run(script, via.port(), DB);
            assertThat(result.exitCode()).as(result.stderr()).isZero();
            // 0: idle; 3: in a failed block, which a failing statement in a string that began one leaves
            assertThat(result.stdout().lines()).as(via.name()).containsExactly("ok 0", "P0001 3");
        }
        Psql.assumeAvailable();
        for (Via via : rpc.both()) {
            ProcessResult psql = Psql.at("127.0.0.1", via.port()).database(DB)
                    .run("-X", "-A", "-t", "-c", "begin; select iasql_noop(); select 2; commit");
            assertThat(psql.exitCode()).as(psql.stderr()).isZero();
            assertThat(psql.stdout().lines()).as(via.name()).containsExactly("BEGIN", "ok", "2", "COMMIT");
        }
    }

    @Test
    void anRpcCallInAnAbortedBlockGets25P02AndNeverRuns() throws Exception {
        for (Via via : rpc.both()) {
            try (Connection connection = via.connect()) {
                connection.setAutoCommit(false);
                assertThatThrownBy(() -> scalar(connection, "select 1/0")).isInstanceOf(SQLException.class);
                long jobs = rpc.engine().count("SELECT count(*) FROM jobs");
                assertThatThrownBy(() -> scalar(connection, "select iasql_apply()")).as(via.name())
                        .isInstanceOfSatisfying(SQLException.class, e -> {
                            assertThat(e.getSQLState()).isEqualTo("25P02");
                            assertThat(e.getMessage()).contains("current transaction is aborted");
                        });
                assertThat(rpc.engine().count("SELECT count(*) FROM jobs")).isEqualTo(jobs);
                connection.rollback();
                assertThat(scalar(connection, "select iasql_noop()")).isEqualTo("ok");
                connection.commit();
            }
        }
        ScriptClient python = ScriptClient.python("psycopg2");
        ProcessResult result = python.run("""
                import sys, psycopg2
                host, port, db = sys.argv[1:4]
                conn = psycopg2.connect(host=host, port=port, dbname=db, user='postgres', sslmode='disable')
                cur = conn.cursor()
                for sql in ["select 1/0", "select iasql_apply()", "prepare q as select iasql_noop()"]:
                    try:
                        cur.execute(sql)
                    except psycopg2.Error as e:
                        print(e.pgcode)
                """, rpc.proxy().port(), DB);
        assertThat(result.exitCode()).as(result.stderr()).isZero();
        assertThat(result.stdout().lines()).containsExactly("22012", "25P02", "25P02");
    }

    @Test
    void aFailingFirstCallAbortsTheBlockAsDirectly() throws Exception {
        for (Via via : rpc.both()) {
            try (Connection connection = via.connect()) {
                connection.setAutoCommit(false);
                assertThatThrownBy(() -> scalar(connection, "select iasql_fail()"))
                        .isInstanceOfSatisfying(SQLException.class, e -> assertThat(e.getSQLState()).isEqualTo("P0001"));
                assertThatThrownBy(() -> scalar(connection, "select 1")).as(via.name() + ": the block is aborted")
                        .isInstanceOfSatisfying(SQLException.class, e -> assertThat(e.getSQLState()).isEqualTo("25P02"));
                connection.rollback();
                assertThat(scalar(connection, "select 1")).isEqualTo("1");
                connection.commit();
            }
        }
    }
}
