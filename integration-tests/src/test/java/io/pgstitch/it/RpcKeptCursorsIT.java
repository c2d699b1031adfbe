package io.pgstitch.it;

import io.pgstitch.it.RpcFixture.Via;
import io.pgstitch.it.support.ProcessResult;
import io.pgstitch.it.support.Psql;
import io.pgstitch.it.support.ScriptClient;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Savepoint;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;

import static io.pgstitch.it.RpcFixture.scalar;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

/**
 * A block that holds a cursor over an RPC call, which pgstitch keeps on an RPC connection of the session's: what
 * the session does to its cursors and its block must reach that connection as PostgreSQL would do it to the
 * session's own. Each case directly against PostgreSQL, then through pgstitch, with the same outcome: CLOSE ALL,
 * savepoints, a COMMIT that fails, a FETCH sent with the extended protocol, and PgJDBC's savepoints and COMMIT,
 * which it sends with the extended protocol.
 */
class RpcKeptCursorsIT {

    private static final String DB = "rpc_kept";

    @RegisterExtension
    static final RpcFixture rpc = new RpcFixture(DB);

    /** Runs {@code script} with psql directly and through pgstitch: both print the same, errors included. */
    private static ProcessResult sameThroughPgstitch(String script) {
        Psql.assumeAvailable();
        ProcessResult direct = rpc.direct().psql().runWithInput(script, "-f", "-");
        ProcessResult stitched = rpc.pgstitch().psql().runWithInput(script, "-f", "-");
        assertThat(stitched.stdout()).isEqualTo(direct.stdout());
        assertThat(stitched.stderr()).isEqualTo(direct.stderr());
        return direct;
    }

    @Test
    void closeAllClosesTheCursorsOnTheRpcConnectionToo() {
        ProcessResult result = sameThroughPgstitch("""
                begin;
                declare a cursor for select i from iasql_setof(3);
                declare b cursor for select 10 as i;
                fetch 1 from a;
                close all;
                fetch 1 from b;
                rollback;
                begin;
                declare a cursor for select i from iasql_setof(3);
                close all;
                fetch 1 from a;
                rollback;
                select 'after' as still;
                """);
        assertThat(result.stderr()).contains("cursor \"b\" does not exist").contains("cursor \"a\" does not exist");
        assertThat(result.stdout()).contains(" i \n---\n 1\n(1 row)").contains("after");
    }

    @Test
    void savepointsAreFollowedByTheRpcConnection() {
        ProcessResult result = sameThroughPgstitch("""
                begin;
                declare a cursor for select i from iasql_setof(3);
                savepoint s;
                declare b cursor for select i from iasql_setof(3);
                fetch 1 from a;
                fetch 1 from b;
                rollback to savepoint s;
                fetch 1 from a;
                fetch 1 from b;
                rollback to s;
                savepoint t;
                release t;
                fetch 1 from a;
                release s;
                fetch 1 from a;
                commit;
                begin;
                savepoint before_cursor;
                declare c cursor for select i from iasql_setof(2);
                savepoint inner_one;
                fetch 1 from c;
                release before_cursor;
                fetch 1 from c;
                rollback to before_cursor;
                rollback;
                begin;
                savepoint before_cursor;
                declare c cursor for select i from iasql_setof(2);
                fetch 1 from c;
                rollback to before_cursor;
                fetch 1 from c;
                rollback;
                select 'after' as still;
                """);
        assertThat(result.stderr()).contains("cursor \"b\" does not exist").contains("cursor \"c\" does not exist")
                .contains("savepoint \"before_cursor\" does not exist");
        assertThat(result.stdout()).contains(" i \n---\n 2\n(1 row)").contains(" i \n---\n 3\n(1 row)")
                .contains(" i \n---\n(0 rows)").contains("after");
    }

    @Test
    void aCommitThatFailsOnTheRpcConnectionFailsForTheClient() {
        ScriptClient python = ScriptClient.python("psycopg2");
        String script = """
                import sys, psycopg2
                host, port, db = sys.argv[1:4]
                note = '%s'
                conn = psycopg2.connect(host=host, port=port, dbname=db, user='postgres', sslmode='disable')
                named = conn.cursor('clashing')
                named.execute("select iasql_clash()")
                print(named.fetchone()[0])
                plain = conn.cursor()
                plain.execute("insert into side_effect values (%%s)", (note,))
                try:
                    conn.commit()
                    print("committed")
                except psycopg2.Error as e:
                    print(e.pgcode, conn.info.transaction_status)
                plain = conn.cursor()
                plain.execute("select count(*) from side_effect where note = %%s", (note,))
                print(plain.fetchone()[0])
                plain.execute("select count(*) from clash")
                print(plain.fetchone()[0])
                conn.rollback()
                """;
        for (Via via : rpc.both()) {
            ProcessResult result = python.run(script.formatted(via.module("clash")), via.port(), DB);
            assertThat(result.exitCode()).as(result.stderr()).isZero();
            // 0: idle, as after any failed COMMIT; the session's INSERT was rolled back with it
            assertThat(result.stdout().lines()).as(via.name()).containsExactly("clash", "23505 0", "0", "0");
        }
    }

    @Test
    void pgjdbcFetchesAnRpcCursorWithTheExtendedProtocol() throws Exception {
        for (Via via : rpc.both()) {
            try (Connection connection = via.connect()) {
                connection.setAutoCommit(false);
                List<String> rows = new ArrayList<>();
                try (Statement statement = connection.createStatement()) {
                    statement.execute("declare c cursor for select i, pid from iasql_setof(5)");
                    for (String fetch : List.of("fetch 2 from c", "move 1 in c", "fetch all from c")) {
                        if (statement.execute(fetch)) {
                            try (ResultSet rs = statement.getResultSet()) {
                                while (rs.next()) {
                                    rows.add(rs.getString(1));
                                }
                            }
                        }
                        rows.add("|");
                    }
                    statement.execute("close c");
                }
                connection.commit();
                assertThat(rows).as(via.name()).containsExactly("1", "2", "|", "|", "4", "5", "|");
                assertThat(scalar(connection, "select count(*) from pg_cursors where name = 'c'")).isEqualTo("0");
                connection.commit();
            }
        }
    }

    /** The first column of the first row {@code sql} gives, run with {@code statement}. */
    private static String first(Statement statement, String sql) throws SQLException {
        try (ResultSet rs = statement.executeQuery(sql)) {
            rs.next();
            return rs.getString(1);
        }
    }

    /**
     * PgJDBC sends {@code setSavepoint()}, {@code rollback(savepoint)} and {@code releaseSavepoint} as
     * Parse/Bind/Execute: while its fetch-size portal over an RPC call is read in steps, a savepoint set, a cursor
     * over an RPC call declared after it and a rollback to it behave as directly: the portal read on, from where
     * it was, and the cursor gone.
     */
    @Test
    void pgjdbcSavepointsAreFollowedByTheRpcConnection() throws Exception {
        List<List<String>> outcomes = new ArrayList<>();
        for (Via via : rpc.both()) {
            List<String> seen = new ArrayList<>();
            try (Connection connection = via.connect()) {
                connection.setAutoCommit(false);
                try (Statement reader = connection.createStatement(); Statement other = connection.createStatement()) {
                    reader.setFetchSize(2);
                    try (ResultSet rs = reader.executeQuery("select i from iasql_setof(7)")) {
                        for (int i = 0; i < 3; i++) { // two fetches: 1 and 2, then 3 and 4
                            assertThat(rs.next()).isTrue();
                            seen.add(rs.getString(1));
                        }
                        Savepoint savepoint = connection.setSavepoint();
                        other.execute("declare b cursor for select i from iasql_setof(3)");
                        seen.add("b" + first(other, "fetch 1 from b"));
                        Savepoint inner = connection.setSavepoint("inner");
                        seen.add("b" + first(other, "fetch 1 from b"));
                        connection.releaseSavepoint(inner);
                        for (int i = 0; i < 2; i++) { // 4, then a fetch after the savepoint: 5 and 6
                            assertThat(rs.next()).isTrue();
                            seen.add(rs.getString(1));
                        }
                        connection.rollback(savepoint);
                        while (rs.next()) { // 6, then a fetch after the rollback: 7
                            seen.add(rs.getString(1));
                        }
                    }
                    Savepoint again = connection.setSavepoint();
                    try {
                        seen.add("b" + first(other, "fetch 1 from b"));
                    } catch (SQLException e) {
                        seen.add(e.getSQLState());
                    }
                    connection.rollback(again);
                    seen.add(first(other, "select 'alive'"));
                }
                connection.commit();
            }
            outcomes.add(seen);
        }
        assertThat(outcomes.get(0)).containsExactly("1", "2", "3", "b1", "b2", "4", "5", "6", "7", "34000", "alive");
        assertThat(outcomes.get(1)).as("through pgstitch").isEqualTo(outcomes.get(0));
    }

    /**
     * PgJDBC's {@code commit()} sends COMMIT as Parse/Bind/Execute: when the RPC connection kept for its fetch-size
     * portal fails to commit (a deferred unique violation), commit() throws that SQLSTATE, as directly, and the
     * session's own work is rolled back with it.
     */
    @Test
    void aPgjdbcCommitThatFailsOnTheRpcConnectionThrowsItsSqlState() throws Exception {
        for (Via via : rpc.both()) {
            String note = via.module("jdbc-clash");
            try (Connection connection = via.connect()) {
                connection.setAutoCommit(false);
                try (Statement statement = connection.createStatement()) {
                    statement.setFetchSize(1);
                    try (ResultSet rs = statement.executeQuery("select iasql_clash()")) {
                        assertThat(rs.next()).isTrue();
                        assertThat(rs.getString(1)).isEqualTo("clash");
                    }
                }
                try (PreparedStatement insert = connection.prepareStatement("insert into side_effect values (?)")) {
                    insert.setString(1, note);
                    assertThat(insert.executeUpdate()).isEqualTo(1);
                }
                assertThat(catchThrowable(connection::commit)).as(via.name()).isInstanceOfSatisfying(
                        SQLException.class, e -> assertThat(e.getSQLState()).isEqualTo("23505"));
                assertThat(scalar(connection, "select count(*) from side_effect where note = '" + note + "'"))
                        .as(via.name()).isEqualTo("0");
                assertThat(scalar(connection, "select count(*) from clash")).as(via.name()).isEqualTo("0");
                connection.commit();
            }
        }
    }
}
