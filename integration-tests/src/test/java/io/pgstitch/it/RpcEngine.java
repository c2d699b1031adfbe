package io.pgstitch.it;

import io.pgstitch.proxy.postgres.PostgresServer;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;

/**
 * What an "RPC function" is, rebuilt with real PostgreSQL: SQL functions {@code iasql_*} whose work is done by
 * an engine on other connections. A function queues a job through {@code dblink} (a second connection, so the
 * job is committed at once, as an engine's API call would be) and waits until the engine, a thread here that
 * polls the job table like a job runner, has done it. The engine sees only committed data, which is the whole
 * point: a caller's uncommitted INSERT is invisible to it.
 *
 * <ul>
 *   <li>{@code iasql_apply()}: the engine counts the committed rows of {@code instance}: {@code instances=N}</li>
 *   <li>{@code iasql_install(m)}: the engine inserts 3 rows for module m into {@code installed}</li>
 *   <li>{@code iasql_fail()}: raises an error; {@code iasql_sleep(s)}: sleeps; {@code iasql_noop()}: 'ok'</li>
 *   <li>{@code iasql_whoami()}: the backend pid, search_path and application_name it runs with</li>
 *   <li>{@code iasql_setof(n)}: rows 1..n with the backend pid that made them; {@code iasql_echo(v)}: v</li>
 *   <li>{@code iasql_mark(note)}: notes in {@code marks} the backend pid it runs on, and returns it</li>
 *   <li>{@code iasql_clash()}: 'clash', leaving its transaction a deferred unique violation: its COMMIT fails
 *       with 23505</li>
 * </ul>
 */
final class RpcEngine implements AutoCloseable {

    static final String DATABASE = "rpc_app";

    private final Connection connection;
    private final Thread thread;
    private volatile boolean running = true;

    private RpcEngine(Connection connection) {
        this.connection = connection;
        this.thread = new Thread(this::run, "rpc-engine");
        this.thread.setDaemon(true);
        this.thread.start();
    }

    /** Creates the database, its tables and functions on {@code shard} and starts the engine thread. */
    static RpcEngine start(PostgresServer shard) throws SQLException {
        return start(shard, DATABASE);
    }

    /** The same in {@code database}, for a test class of its own on the shared cluster. */
    static RpcEngine start(PostgresServer shard, String database) throws SQLException {
        shard.createDatabase(database);
        String self = "host=" + shard.host() + " port=" + shard.port() + " dbname=" + database + " user=postgres";
        shard.execute(database, """
                CREATE EXTENSION dblink;
                CREATE TABLE instance (id serial PRIMARY KEY, name text NOT NULL);
                CREATE TABLE installed (module text NOT NULL, item int NOT NULL);
                CREATE TABLE jobs (id bigserial PRIMARY KEY, kind text NOT NULL, arg text,
                                   state text NOT NULL DEFAULT 'queued', result text);
                CREATE TABLE side_effect (note text NOT NULL);
                CREATE TABLE marks (note text NOT NULL, pid int NOT NULL);
                CREATE TABLE clash (k int UNIQUE DEFERRABLE INITIALLY DEFERRED);
                CREATE SCHEMA elsewhere;
                CREATE FUNCTION engine_call(job_kind text, job_arg text) RETURNS text LANGUAGE plpgsql AS $$
                DECLARE
                  job bigint;
                  job_state text;
                  outcome text;
                BEGIN
                  IF NOT 'engine' = ANY (coalesce(dblink_get_connections(), '{}')) THEN
                    PERFORM dblink_connect('engine', '%s');
                  END IF;
                  SELECT id INTO job FROM dblink('engine', format(
                    'INSERT INTO jobs (kind, arg) VALUES (%%L, %%L) RETURNING id', job_kind, job_arg)) AS t(id bigint);
                  FOR i IN 1..4000 LOOP
                    SELECT s, r INTO job_state, outcome FROM dblink('engine',
                      format('SELECT state, result FROM jobs WHERE id = %%s', job)) AS t(s text, r text);
                    IF job_state = 'done' THEN
                      RETURN outcome;
                    END IF;
                    PERFORM pg_sleep(0.005);
                  END LOOP;
                  RAISE EXCEPTION 'the engine did not finish job %%', job;
                END $$;
                CREATE FUNCTION iasql_apply() RETURNS text LANGUAGE sql AS $$ SELECT engine_call('apply', NULL) $$;
                CREATE FUNCTION iasql_install(m text) RETURNS TABLE (module text, items int) LANGUAGE plpgsql AS $$
                BEGIN
                  PERFORM engine_call('install', m);
                  RETURN QUERY SELECT m, 3;
                END $$;
                CREATE FUNCTION iasql_fail() RETURNS text LANGUAGE plpgsql AS $$
                BEGIN
                  RAISE EXCEPTION 'the engine refused' USING HINT = 'Fix the module first.';
                END $$;
                CREATE FUNCTION iasql_sleep(seconds float8) RETURNS text LANGUAGE sql AS $$
                  SELECT 'slept' FROM pg_sleep(seconds) $$;
                CREATE FUNCTION iasql_noop() RETURNS text LANGUAGE sql AS $$ SELECT 'ok' $$;
                CREATE FUNCTION iasql_setof(n int) RETURNS TABLE (i int, pid int) LANGUAGE sql AS $$
                  SELECT g, pg_backend_pid() FROM generate_series(1, n) g $$;
                CREATE FUNCTION iasql_echo(v int) RETURNS int LANGUAGE sql AS $$ SELECT v $$;
                CREATE FUNCTION iasql_mark(note text) RETURNS int LANGUAGE sql AS $$
                  INSERT INTO marks VALUES (note, pg_backend_pid()) RETURNING pid $$;
                CREATE FUNCTION iasql_clash() RETURNS text LANGUAGE sql AS $$
                  INSERT INTO clash VALUES (1), (1);
                  SELECT 'clash' $$;
                CREATE FUNCTION iasql_whoami() RETURNS TABLE (pid int, search_path text, app text) LANGUAGE sql AS $$
                  SELECT pg_backend_pid(), current_setting('search_path'), current_setting('application_name') $$;
                """.formatted(self));
        return new RpcEngine(DriverManager.getConnection(shard.jdbcUrl(database), "postgres", ""));
    }

    private void run() {
        try (PreparedStatement next = connection.prepareStatement("""
                UPDATE jobs SET state = 'running' WHERE id = (
                  SELECT id FROM jobs WHERE state = 'queued' ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED)
                RETURNING id, kind, arg""");
             PreparedStatement done = connection.prepareStatement(
                     "UPDATE jobs SET state = 'done', result = ? WHERE id = ?")) {
            while (running) {
                try (ResultSet job = next.executeQuery()) {
                    if (!job.next()) {
                        Thread.sleep(5);
                        continue;
                    }
                    done.setString(1, work(job.getString(2), job.getString(3)));
                    done.setLong(2, job.getLong(1));
                    done.executeUpdate();
                }
            }
        } catch (SQLException | InterruptedException e) {
            if (running) {
                throw new IllegalStateException("the test engine stopped", e);
            }
        }
    }

    private String work(String kind, String arg) throws SQLException {
        try (Statement statement = connection.createStatement()) {
            if (kind.equals("apply")) {
                try (ResultSet rs = statement.executeQuery("SELECT count(*) FROM instance")) {
                    rs.next();
                    return "instances=" + rs.getLong(1);
                }
            }
            try (PreparedStatement install = connection.prepareStatement(
                    "INSERT INTO installed SELECT ?, g FROM generate_series(1, 3) g")) {
                install.setString(1, arg);
                install.executeUpdate();
                return "installed " + arg;
            }
        }
    }

    /** A scalar query on the shard directly, as an observer outside any session under test. */
    long count(String sql) throws SQLException {
        synchronized (this) {
            try (Connection observer = DriverManager.getConnection(connection.getMetaData().getURL(), "postgres", "");
                 ResultSet rs = observer.createStatement().executeQuery(sql)) {
                rs.next();
                return rs.getLong(1);
            }
        }
    }

    @Override
    public void close() throws Exception {
        running = false;
        thread.join(5_000);
        connection.close();
    }
}
