package io.pgstitch.it;

import io.pgstitch.it.support.PostgresCluster;
import io.pgstitch.it.support.PostgresExtension;
import io.pgstitch.it.support.Psql;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;

/**
 * The premise of the tests of RPC calls from drivers, ORMs and psql (issue 14): a database of the test class's
 * own on shard 1 of the run's cluster with the {@link RpcEngine} in it, pgstitch in front of it with
 * {@code rpc.functions: iasql_*}, and the two ways a client reaches it, so that each case is shown first directly
 * against PostgreSQL, then through pgstitch. A test class registers it:
 * {@code @RegisterExtension static final RpcFixture rpc = new RpcFixture("its_db");} and it lives as long as the
 * class's tests run.
 */
final class RpcFixture implements BeforeAllCallback, AfterAllCallback {

    /** Where a client connects: PostgreSQL itself ({@code DIRECT}), or pgstitch ({@code PGSTITCH}). */
    record Via(String name, int port, String database) {

        boolean direct() {
            return name.equals("DIRECT");
        }

        Connection connect() throws SQLException {
            return DriverManager.getConnection("jdbc:postgresql://127.0.0.1:" + port + "/" + database, "postgres",
                    "");
        }

        Psql psql() {
            return Psql.at("127.0.0.1", port).database(database);
        }

        /** A name of {@code client}'s own for this way in, so that what the engine did for each can be told. */
        String module(String client) {
            return client + "-" + name.toLowerCase();
        }

        @Override
        public String toString() {
            return name;
        }
    }

    private final String database;
    private RpcEngine engine;
    private TestProxy proxy;
    private Via direct;
    private Via pgstitch;

    RpcFixture(String database) {
        this.database = database;
    }

    /** Creates the database with the engine on shard 1 and starts pgstitch in front of it. */
    @Override
    public void beforeAll(ExtensionContext context) throws Exception {
        PostgresCluster cluster = PostgresExtension.cluster(context);
        engine = RpcEngine.start(cluster.shard(1), database);
        try {
            proxy = TestProxy.start("""
                    listen: { host: 127.0.0.1, port: 0 }
                    shards:
                      shard1: { host: 127.0.0.1, port: %d, user: postgres }
                    routes:
                      %s: shard1
                    rpc: { functions: ["iasql_*"] }
                    """.formatted(cluster.shard(1).port(), database));
        } catch (Exception | Error e) {
            engine.close();
            engine = null;
            throw e;
        }
        direct = new Via("DIRECT", cluster.shard(1).port(), database);
        pgstitch = new Via("PGSTITCH", proxy.port(), database);
    }

    RpcEngine engine() {
        return engine;
    }

    TestProxy proxy() {
        return proxy;
    }

    Via direct() {
        return direct;
    }

    Via pgstitch() {
        return pgstitch;
    }

    /** Directly first, then through pgstitch. */
    List<Via> both() {
        return List.of(direct, pgstitch);
    }

    /** The first column of the first row of {@code sql}. */
    static String scalar(Connection connection, String sql) throws SQLException {
        try (Statement statement = connection.createStatement(); ResultSet rs = statement.executeQuery(sql)) {
            rs.next();
            return rs.getString(1);
        }
    }

    @Override
    public void afterAll(ExtensionContext context) throws Exception {
        try {
            if (proxy != null) {
                proxy.close();
            }
        } finally {
            if (engine != null) {
                engine.close();
            }
        }
    }
}
