package io.pgstitch.it;

import io.pgstitch.it.RpcFixture.Via;
import io.pgstitch.it.support.ProcessResult;
import io.pgstitch.it.support.Psql;
import io.pgstitch.it.support.ScriptClient;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static io.pgstitch.it.RpcFixture.scalar;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * What an RPC call leaves in the session (issue 14, cases 2 to 5): cursors over RPC calls read in steps (psql's
 * FETCH_COUNT, psycopg2's named cursors, node-postgres' pg-cursor, PgJDBC's fetch size), SQL-level prepared RPC
 * calls, temporary tables. Each is shown directly against PostgreSQL, then through pgstitch: what the client gets
 * is the same, the call runs on an RPC connection (its rows carry another backend pid than the session's), and
 * what would be lost there is refused by name instead.
 */
class RpcSessionStateIT {

    private static final String DB = "rpc_state";

    @RegisterExtension
    static final RpcFixture rpc = new RpcFixture(DB);

    @Test
    void psqlWithFetchCountReadsAnRpcCursorInSteps() {
        Psql.assumeAvailable();
        String script = """
                \\set FETCH_COUNT 2
                select i from iasql_setof(5);
                \\unset FETCH_COUNT
                select 'after' as still;
                begin;
                declare c cursor for select i from iasql_setof(3);
                fetch 1 from c;
                move 1 in c;
                fetch all from c;
                commit;
                fetch 1 from c;
                """;
        ProcessResult direct = rpc.direct().psql().runWithInput(script, "-f", "-");
        ProcessResult stitched = rpc.pgstitch().psql().runWithInput(script, "-f", "-");
        assertThat(direct.stderr()).contains("cursor \"c\" does not exist");
        assertThat(stitched.stderr()).as("the cursor ends with its block, as directly").isEqualTo(direct.stderr());
        assertThat(stitched.stdout()).isEqualTo(direct.stdout())
                .contains(" i \n---\n 1\n 2\n 3\n 4\n 5\n(5 rows)").contains(" 1\n(1 row)").contains(" 3\n(1 row)");
        for (Via via : rpc.both()) {
            ProcessResult pids = via.psql().runWithInput("\\set FETCH_COUNT 2\nselect pid from iasql_setof(1);\n"
                    + "\\unset FETCH_COUNT\nselect pg_backend_pid();\n", "-A", "-t", "-f", "-");
            List<String> lines = pids.stdout().lines().toList();
            assertThat(lines).as(pids.stderr()).hasSize(2);
            assertThat(lines.get(0).equals(lines.get(1))).as(via + ": the cursor's rows come from the session")
                    .isEqualTo(via.direct());
        }
    }

    @Test
    void psycopg2NamedCursorsReadAnRpcCallInSteps() {
        ScriptClient python = ScriptClient.python("psycopg2");
        String script = """
                import sys, psycopg2
                host, port, db = sys.argv[1:4]
                conn = psycopg2.connect(host=host, port=port, dbname=db, user='postgres', sslmode='disable')
                cur = conn.cursor('named one')
                cur.itersize = 2
                cur.execute("select i, pid from iasql_setof(5)")
                rows = list(cur)
                conn.commit()
                plain = conn.cursor()
                plain.execute("select pg_backend_pid()")
                session = plain.fetchone()[0]
                conn.commit()
                print(",".join(str(i) for i, _ in rows), all(pid == session for _, pid in rows))
                """;
        ProcessResult direct = python.run(script, rpc.direct().port(), DB);
        ProcessResult stitched = python.run(script, rpc.pgstitch().port(), DB);
        assertThat(direct.exitCode()).as(direct.stderr()).isZero();
        assertThat(stitched.exitCode()).as(stitched.stderr()).isZero();
        assertThat(direct.stdout().strip()).isEqualTo("1,2,3,4,5 True");
        assertThat(stitched.stdout().strip()).as("read on an RPC connection").isEqualTo("1,2,3,4,5 False");
    }

    @Test
    void pgCursorReadsAnRpcPortalInStepsInAutocommitAndInABlock() {
        ScriptClient node = ScriptClient.node("pg-cursor");
        String script = """
                const { Client } = require('pg');
                const Cursor = require('pg-cursor');
                (async () => {
                  const [host, port, database] = process.argv.slice(1);
                  const client = new Client({ host, port: +port, database, user: 'postgres' });
                  await client.connect();
                  for (const block of [false, true]) {
                    if (block) await client.query('BEGIN');
                    const cursor = client.query(new Cursor('select i from iasql_setof($1)', [5]));
                    const seen = [];
                    let rows;
                    do {
                      rows = await cursor.read(2);
                      seen.push(rows.map(r => r.i).join(','));
                    } while (rows.length > 0);
                    await cursor.close();
                    if (block) await client.query('COMMIT');
                    console.log(seen.join('|'));
                  }
                  const early = client.query(new Cursor('select i from iasql_setof(9)'));
                  console.log((await early.read(3)).map(r => r.i).join(','));
                  await early.close();
                  console.log((await client.query('select 1 as one')).rows[0].one);
                  await client.end();
                })().catch(e => { console.error(e.code + ' ' + e.message); process.exit(1); });
                """;
        for (Via via : rpc.both()) {
            ProcessResult result = node.run(script, via.port(), DB);
            assertThat(result.exitCode()).as(result.stderr()).isZero();
            assertThat(result.stdout().lines()).as(via.name())
                    .containsExactly("1,2|3,4|5|", "1,2|3,4|5|", "1,2,3", "1");
        }
    }

    @Test
    void pgjdbcWithAFetchSizeReadsAnRpcPortalAcrossSyncs() throws Exception {
        for (Via via : rpc.both()) {
            try (Connection connection = via.connect()) {
                connection.setAutoCommit(false);
                List<String> rows = new ArrayList<>();
                List<Integer> pids = new ArrayList<>();
                try (Statement statement = connection.createStatement()) {
                    statement.setFetchSize(2);
                    try (ResultSet rs = statement.executeQuery("select i, pid from iasql_setof(5)")) {
                        while (rs.next()) {
                            rows.add(rs.getString(1));
                            pids.add(rs.getInt(2));
                        }
                    }
                }
                connection.commit();
                int sessionPid = Integer.parseInt(scalar(connection, "select pg_backend_pid()"));
                connection.commit();
                assertThat(rows).containsExactly("1", "2", "3", "4", "5");
                assertThat(pids).as(via.name()).allMatch(pid -> (pid == sessionPid) == (via.direct()));
            }
        }
    }

    @Test
    void aPreparedRpcCallRunsOnAnRpcConnectionAtEachExecute() throws Exception {
        Psql.assumeAvailable();
        String script = """
                prepare q(int) as select iasql_echo($1);
                execute q(6);
                execute q(7);
                deallocate q;
                execute q(8);
                """;
        ProcessResult direct = rpc.direct().psql().runWithInput(script, "-f", "-");
        ProcessResult stitched = rpc.pgstitch().psql().runWithInput(script, "-f", "-");
        assertThat(stitched.stdout()).isEqualTo(direct.stdout()).contains(" iasql_echo \n------------\n          6");
        assertThat(stitched.stderr()).isEqualTo(direct.stderr()).contains("prepared statement \"q\" does not exist");
        for (Via via : rpc.both()) {
            try (Connection connection = via.connect()) {
                connection.createStatement().execute("prepare w as select pid from iasql_whoami()");
                int sessionPid = Integer.parseInt(scalar(connection, "select pg_backend_pid()"));
                assertThat(Integer.parseInt(scalar(connection, "execute w")) == sessionPid).as(via.name())
                        .isEqualTo(via.direct());
                assertThat(scalar(connection, "select count(*) from pg_prepared_statements where name = 'w'"))
                        .as("prepared in the session, as directly").isEqualTo("1");
            }
        }
    }

    @Test
    void explainAnalyzeAndCreateTableAsExecuteOfAPreparedRpcCallRunLikeItsExecute() throws Exception {
        List<List<String>> plans = new ArrayList<>();
        for (Via via : rpc.both()) {
            String note = via.module("explain");
            String table = "made_by_" + via.name().toLowerCase();
            try (Connection connection = via.connect(); Statement statement = connection.createStatement()) {
                int sessionPid = Integer.parseInt(scalar(connection, "select pg_backend_pid()"));
                statement.execute("prepare m(text) as select iasql_mark($1) as pid");
                List<String> plan = new ArrayList<>();
                try (ResultSet rs = statement.executeQuery("explain (analyze, costs off, timing off, summary off,"
                        + " buffers off) execute m('" + note + "')")) {
                    while (rs.next()) {
                        plan.add(rs.getString(1));
                    }
                }
                plans.add(plan);
                assertThat(rpc.engine().count("SELECT pid FROM marks WHERE note = '" + note + "'") == sessionPid)
                        .as(via + ": EXPLAIN ANALYZE ran the call in the session").isEqualTo(via.direct());
                statement.execute("drop table if exists " + table);
                statement.execute("create table " + table + " as execute m('" + table + "')");
                assertThat(Integer.parseInt(scalar(connection, "select pid from " + table)) == sessionPid)
                        .as(via + ": the table's row was made in the session").isEqualTo(via.direct());
                assertThat(rpc.engine().count("SELECT count(*) FROM marks WHERE note = '" + table + "'"))
                        .isEqualTo(1);
                if (via.direct()) {
                    statement.execute("create temp table tt as execute m('temp')");
                } else {
                    assertThatThrownBy(() -> statement.execute("create temp table tt as execute m('temp')"))
                            .isInstanceOfSatisfying(SQLException.class, e -> {
                                assertThat(e.getSQLState()).isEqualTo("0A000");
                                assertThat(e.getMessage()).contains("RPC function iasql_mark cannot run in a"
                                        + " statement that creates a temporary table");
                            });
                }
            }
        }
        assertThat(plans.get(1)).as("the same plan").isEqualTo(plans.get(0)).isNotEmpty();
    }

    @Test
    void whatWouldStayOnTheRpcConnectionIsRefusedByName() throws Exception {
        try (Connection connection = rpc.direct().connect()) {
            connection.createStatement().execute("create temp table tt as select iasql_echo(9) as v");
            assertThat(scalar(connection, "select v from tt")).as("directly: a temporary table of the session")
                    .isEqualTo("9");
        }
        try (Connection connection = rpc.pgstitch().connect()) {
            for (String sql : List.of("create temp table tt as select iasql_echo(9) as v",
                    "select iasql_echo(9) as v into temp tt", "select set_config('app.v', iasql_echo(9)::text, false)",
                    "begin; declare c cursor with hold for select iasql_echo(9)")) {
                assertThatThrownBy(() -> connection.createStatement().execute(sql)).as(sql)
                        .isInstanceOfSatisfying(SQLException.class, e -> {
                            assertThat(e.getSQLState()).isEqualTo("0A000");
                            assertThat(e.getMessage()).contains("RPC function iasql_echo cannot run in a statement"
                                    + " that");
                        });
                if (!connection.getAutoCommit() || sql.startsWith("begin")) {
                    connection.createStatement().execute("rollback");
                }
            }
            assertThat(scalar(connection, "select count(*) from pg_class where relname = 'tt'")).isEqualTo("0");
            for (Via via : rpc.both()) {
                try (Connection each = via.connect()) {
                    assertThatThrownBy(() -> each.createStatement().execute("set application_name = iasql_noop()"))
                            .as("SET takes no calls: PostgreSQL's own syntax error").isInstanceOfSatisfying(
                                    SQLException.class, e -> assertThat(e.getSQLState()).isEqualTo("42601"));
                }
            }
            assertThat(scalar(connection, "select iasql_echo(3)")).isEqualTo("3");
        }
    }

    /** Parse of {@code sql}, Bind of it to {@code portal}, Describe of the portal: how pg-cursor opens a cursor. */
    private static void openPortal(RawClient client, String sql, String portal) throws Exception {
        byte[] text = sql.getBytes(StandardCharsets.UTF_8);
        client.send('P', ByteBuffer.allocate(text.length + 4).put((byte) 0).put(text).put((byte) 0).putShort((short) 0)
                .array());
        byte[] name = portal.getBytes(StandardCharsets.UTF_8);
        client.send('B', ByteBuffer.allocate(name.length + 8).put(name).put((byte) 0).put((byte) 0)
                .putShort((short) 0).putShort((short) 0).putShort((short) 0).array());
        client.send('D', ByteBuffer.allocate(name.length + 2).put((byte) 'P').put(name).put((byte) 0).array());
    }

    private static void execute(RawClient client, String portal, int rows) throws Exception {
        byte[] name = portal.getBytes(StandardCharsets.UTF_8);
        client.send('E', ByteBuffer.allocate(name.length + 5).put(name).put((byte) 0).putInt(rows).array());
    }

    /** The types of the messages read up to and with the next ReadyForQuery, which is shown with its status. */
    private static String untilReady(RawClient client) throws Exception {
        StringBuilder types = new StringBuilder();
        RawClient.Message message;
        do {
            message = client.read();
            types.append(message.type());
        } while (message.type() != 'Z');
        return types.append((char) message.body()[0]).toString();
    }

    @Test
    void anRpcPortalThatFailsWhileReadAtAFlushSkipsToTheSyncAsDirectly() throws Exception {
        for (boolean block : List.of(false, true)) {
            List<String> seen = new ArrayList<>();
            for (Via via : rpc.both()) {
                try (RawClient client = RawClient.connect(via.port())) {
                    client.sendStartup(Map.of("user", "postgres", "database", DB));
                    client.readUntil('Z');
                    StringBuilder out = new StringBuilder();
                    if (block) {
                        client.send('Q', "BEGIN\0".getBytes(StandardCharsets.UTF_8));
                        out.append(untilReady(client)).append(' ');
                    }
                    openPortal(client, "select * from iasql_setof(3)", "C_1");
                    client.send('H', new byte[0]);
                    out.append(client.read().type()).append(client.read().type()).append(client.read().type());
                    execute(client, "C_1", 2);
                    client.send('H', new byte[0]);
                    out.append(' ').append(client.read().type()).append(client.read().type())
                            .append(client.read().type());
                    openPortal(client, "select iasql_fail()", "C_2");
                    execute(client, "C_2", 2);
                    client.send('H', new byte[0]);
                    RawClient.Message error;
                    out.append(' ');
                    do {
                        error = client.read();
                        out.append(error.type());
                    } while (error.type() != 'E');
                    assertThat(error.sqlState()).isEqualTo("P0001");
                    execute(client, "C_1", 2); // skipped, as everything until the Sync
                    client.send('H', new byte[0]);
                    client.send('S', new byte[0]);
                    out.append(' ').append(untilReady(client));
                    client.send('Q', ((block ? "ROLLBACK; " : "") + "select iasql_noop()\0")
                            .getBytes(StandardCharsets.UTF_8));
                    out.append(' ').append(untilReady(client));
                    seen.add(out.toString());
                }
            }
            assertThat(seen.get(1)).as("through pgstitch, block: " + block).isEqualTo(seen.get(0));
            assertThat(seen.get(0)).isEqualTo(block ? "CZT 12T DDs 12TE ZE CTDCZI" : "12T DDs 12TE ZI TDCZI");
        }
    }
}
