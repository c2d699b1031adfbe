package io.pgstitch.it;

import io.pgstitch.it.support.PostgresCluster;
import io.pgstitch.it.support.Psql;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;

/**
 * The premise of the tests of RPC calls from drivers, ORMs and psql (issue 14): a database of the test class's
 * own on shard 1 with the {@link RpcEngine} in it, pgstitch in front of it with {@code rpc.functions: iasql_*},
 * and the two ways a client reaches it, so that each case is shown first directly against PostgreSQL, then
 * through pgstitch.
 */
final class RpcFixture implements AutoCloseable {

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

    private final RpcEngine engine;
    private final TestProxy proxy;
    private final Via direct;
    private final Via pgstitch;

    private RpcFixture(RpcEngine engine, TestProxy proxy, Via direct, Via pgstitch) {
        this.engine = engine;
        this.proxy = proxy;
        this.direct = direct;
        this.pgstitch = pgstitch;
    }

    /** Creates {@code database} with the engine on shard 1 and starts pgstitch in front of it. */
    static RpcFixture start(PostgresCluster cluster, String database) throws Exception {
        RpcEngine engine = RpcEngine.start(cluster.shard(1), database);
        TestProxy proxy;
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
            throw e;
        }
        return new RpcFixture(engine, proxy, new Via("DIRECT", cluster.shard(1).port(), database),
                new Via("PGSTITCH", proxy.port(), database));
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
    public void close() throws Exception {
        try {
            proxy.close();
        } finally {
            engine.close();
        }
    }
}
