package io.pgstitch.it;

import io.pgstitch.it.support.LogWatch;
import io.pgstitch.it.support.PostgresCluster;
import io.pgstitch.it.support.PostgresExtension;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Session pooling against real PostgreSQL, one connection per pool so that reuse is visible: the backend
 * process ID a client sees tells whether it got the previous client's backend.
 */
@ExtendWith({PostgresExtension.class, LogWatch.class})
class PoolingIT {

    private static PostgresCluster cluster;
    private static TestProxy proxy;

    @BeforeAll
    static void start(PostgresCluster postgres) throws Exception {
        cluster = postgres;
        Tenants.create(cluster.shard(1), "pooled", "pooled", "shard1");
        proxy = TestProxy.start("""
                listen: { host: 127.0.0.1, port: 0, max_client_connections: 50, max_client_connections_per_database: 3 }
                shards:
                  shard1:
                    host: 127.0.0.1
                    port: %d
                    user: postgres
                    pool: { size: 1, wait_timeout: 1s }
                routes:
                  pooled: shard1
                """.formatted(cluster.shard(1).port()));
    }

    @AfterAll
    static void stop() {
        proxy.close();
    }

    private static Connection connect() throws SQLException {
        return proxy.connect("pooled");
    }

    private static String single(Connection connection, String sql) throws SQLException {
        try (Statement statement = connection.createStatement(); ResultSet rs = statement.executeQuery(sql)) {
            rs.next();
            return rs.getString(1);
        }
    }

    private static int pid(Connection connection) throws SQLException {
        return Integer.parseInt(single(connection, "select pg_backend_pid()"));
    }

    /** Waits until no JDBC-pool backend is in use or being reset (release and reset are asynchronous). */
    private static void awaitIdle() throws InterruptedException {
        for (int i = 0; i < 200 && !allIdle(); i++) {
            Thread.sleep(25);
        }
    }

    private static boolean allIdle() {
        return proxy.server().pools().pools().stream()
                .allMatch(pool -> pool.idleConnections() == pool.openConnections());
    }

    @Test
    void aReleasedBackendIsResetAndReused() throws Exception {
        int first;
        try (Connection connection = connect()) {
            first = pid(connection);
            connection.createStatement().execute("set work_mem = '7MB'; create temp table scratch (a int); "
                    + "prepare leftover as select 1; listen leftover_channel");
        }
        awaitIdle();
        try (Connection connection = connect()) {
            assertThat(pid(connection)).as("the same backend").isEqualTo(first);
            assertThat(single(connection, "show work_mem")).as("DISCARD ALL reset the setting").isEqualTo("4MB");
            assertThat(single(connection, "select count(*) from pg_prepared_statements")).isEqualTo("0");
            assertThat(single(connection, "select count(*) from pg_listening_channels()")).isEqualTo("0");
            assertThat(single(connection, "select to_regclass('pg_temp.scratch') is null")).isEqualTo("t");
        }
    }

    /**
     * A client that terminates inside a transaction block (psycopg2 does by default): its transaction is rolled
     * back and the backend reused, not dropped without a word (which leaves "unexpected EOF on client
     * connection with an open transaction" in the shard's log for every such client).
     */
    @Test
    void aBackendLeftInsideATransactionIsRolledBackAndReused() throws Exception {
        int first;
        try (Connection connection = connect()) {
            connection.createStatement().execute("create table if not exists left_open (note text)");
            first = pid(connection);
            connection.setAutoCommit(false);
            connection.createStatement().execute("insert into left_open values ('never committed')");
        }
        awaitIdle();
        try (Connection connection = connect()) {
            assertThat(pid(connection)).as("the same backend, rolled back").isEqualTo(first);
            assertThat(single(connection, "select count(*) from left_open")).isEqualTo("0");
            assertThat(single(connection, "select state from pg_stat_activity where pid = pg_backend_pid()"))
                    .isEqualTo("active");
            assertThat(single(connection, "select count(*) from pg_stat_activity where datname = 'pooled' "
                    + "and state like 'idle in transaction%'")).isEqualTo("0");
        }
    }

    @Test
    void anExhaustedPoolAnswers53300NamingShardAndDatabase() throws Exception {
        try (Connection holder = connect()) {
            pid(holder);
            assertThatThrownBy(PoolingIT::connect).isInstanceOfSatisfying(SQLException.class, e -> {
                assertThat(e.getSQLState()).isEqualTo("53300");
                assertThat(e.getMessage()).contains("shard \"shard1\"").contains("database \"pooled\"")
                        .contains("exhausted");
            });
        }
    }

    @Test
    void aWaitingClientGetsTheBackendWhenItIsReleased() throws Exception {
        Connection holder = connect();
        int held = pid(holder);
        CompletableFuture<Integer> waiter = CompletableFuture.supplyAsync(() -> {
            try (Connection connection = connect()) {
                return pid(connection);
            } catch (SQLException e) {
                throw new IllegalStateException(e);
            }
        });
        // the waiter is queued (1 s wait_timeout); releasing the holder hands it the same backend
        for (int i = 0; i < 100 && proxy.server().clientCount() < 2; i++) {
            Thread.sleep(10);
        }
        holder.close();
        assertThat(waiter.get(10, TimeUnit.SECONDS)).isEqualTo(held);
    }

    @Test
    void aClientThatVanishesMidQueryHasItsQueryCancelledAndTheBackendReused() throws Exception {
        int backendPid;
        // an aborted connection (RST), as a crashed client's with unread data; one that only shuts down its
        // writing side gets its answer instead (HostileClientIT), as from PostgreSQL
        java.net.Socket socket = new java.net.Socket("127.0.0.1", proxy.port());
        socket.setSoLinger(true, 0);
        try (RawClient client = RawClient.wrap(socket)) {
            client.sendStartup(Map.of("user", "postgres", "database", "pooled"));
            client.readUntil('Z');
            client.send('Q', "select pg_backend_pid(), pg_sleep(60)\0".getBytes(StandardCharsets.UTF_8));
            backendPid = awaitActiveSleep();
        } // the socket closes mid-query
        try (Connection direct = DriverManager.getConnection(cluster.shard(1).jdbcUrl("pooled"), "postgres", "")) {
            String state = "active";
            for (int i = 0; i < 200 && state.equals("active"); i++) {
                Thread.sleep(25);
                state = single(direct, "select coalesce((select state from pg_stat_activity where pid = "
                        + backendPid + "), 'gone')");
            }
            assertThat(state).as("the abandoned query was cancelled, not left running").isNotEqualTo("active");
        }
        int reused = 0;
        for (int i = 0; i < 100 && reused != backendPid; i++) { // the release is asynchronous
            reused = rawPid();
            Thread.sleep(20);
        }
        assertThat(reused).as("reused after its ReadyForQuery said idle").isEqualTo(backendPid);
    }

    /** pg_backend_pid() for a client with the raw client's startup parameters (so: the same pool). */
    private static int rawPid() throws Exception {
        try (RawClient client = RawClient.connect(proxy.port())) {
            client.sendStartup(Map.of("user", "postgres", "database", "pooled"));
            client.readUntil('Z');
            client.send('Q', "select pg_backend_pid()\0".getBytes(StandardCharsets.UTF_8));
            ByteBuffer row = ByteBuffer.wrap(client.readUntil('D').body());
            row.getShort();
            byte[] value = new byte[row.getInt()];
            row.get(value);
            client.readUntil('Z');
            return Integer.parseInt(new String(value, StandardCharsets.UTF_8));
        }
    }

    @Test
    void aCancelRacingTheReleaseNeverHitsTheNextClient() throws Exception {
        for (int round = 0; round < 40; round++) {
            try (RawClient first = RawClient.connect(proxy.port())) {
                first.sendStartup(Map.of("user", "postgres", "database", "pooled"));
                RawClient.Message key = first.readUntil('K');
                first.readUntil('Z');
                first.send('Q', "select pg_sleep(0.02)\0".getBytes(StandardCharsets.UTF_8));
                try (RawClient cancel = RawClient.connect(proxy.port())) {
                    cancel.send(ByteBuffer.allocate(8 + key.body().length).putInt(8 + key.body().length)
                            .putInt(80877102).put(key.body()).array());
                }
            } // leaves right after its cancel: the backend goes back while the cancel may still be on its way
            try (RawClient next = RawClient.connect(proxy.port())) { // same startup parameters: same pool
                next.sendStartup(Map.of("user", "postgres", "database", "pooled"));
                next.readUntil('Z');
                next.send('Q', "select pg_sleep(0.1)\0".getBytes(StandardCharsets.UTF_8));
                RawClient.Message reply;
                do {
                    reply = next.read();
                    if (reply.type() == 'E') {
                        throw new AssertionError("round " + round + ": the next client got " + reply.fields());
                    }
                } while (reply.type() != 'Z');
            }
        }
    }

    /**
     * A client that shuts down its writing side while it waits for the pool's backend is logged in when the backend
     * comes, then let go. When the backend lives on the client's own event loop, the session ended inside the
     * relay's start, which then read the backend it had just given back (a NullPointerException in a promise
     * listener); the loops are the pool's choice, so the test takes eight clients.
     */
    @Test
    void aClientThatHalfClosesWhileWaitingForABackendIsLoggedInThenLetGo() throws Exception {
        int baseline = proxy.server().clientCount();
        for (int round = 0; round < 8; round++) {
            try (Connection holder = connect(); RawClient waiting = RawClient.connect(proxy.port())) {
                pid(holder);
                waiting.sendStartup(Map.of("user", "postgres", "database", "pooled"));
                for (int i = 0; i < 200 && proxy.server().clientCount() < baseline + 2; i++) {
                    Thread.sleep(10);
                }
                waiting.socket().shutdownOutput();
                holder.close(); // the waiting client gets the backend
                assertThat(waiting.readUntil('Z').type()).as("round " + round).isEqualTo('Z');
                assertThat(waiting.closedByServer()).as("round " + round).isTrue();
            }
            for (int i = 0; i < 500 && proxy.server().clientCount() > baseline; i++) {
                Thread.sleep(10);
            }
            assertThat(proxy.server().clientCount()).as("round " + round).isEqualTo(baseline);
            LogWatch.check("round " + round);
        }
        try (Connection next = connect()) {
            assertThat(pid(next)).as("the backend serves the next client").isPositive();
        }
    }

    @Test
    void perDatabaseClientLimit() throws Exception {
        int baseline = proxy.server().clientCount();
        try (RawClient a = RawClient.connect(proxy.port()); RawClient b = RawClient.connect(proxy.port());
             RawClient c = RawClient.connect(proxy.port()); RawClient d = RawClient.connect(proxy.port())) {
            int before = proxy.server().clientsAdmitted();
            for (RawClient client : new RawClient[] {a, b, c}) {
                client.sendStartup(Map.of("user", "postgres", "database", "pooled"));
            }
            for (int i = 0; i < 200 && proxy.server().clientsAdmitted() < before + 3; i++) {
                Thread.sleep(10); // admitted at startup, before they queue for the one backend
            }
            d.sendStartup(Map.of("user", "postgres", "database", "pooled"));
            RawClient.Message refused = d.read();
            assertThat(refused.sqlState()).isEqualTo("53300");
            assertThat(refused.message()).contains("too many connections for database \"pooled\"");
        }
        // the next test's clients must not meet these in the per-database count
        for (int i = 0; i < 500 && proxy.server().clientCount() > baseline; i++) {
            Thread.sleep(10);
        }
        assertThat(proxy.server().clientCount()).as("the clients are let go").isEqualTo(baseline);
    }

    private static int awaitActiveSleep() throws Exception {
        try (Connection direct = DriverManager.getConnection(cluster.shard(1).jdbcUrl("pooled"), "postgres", "")) {
            for (int i = 0; i < 400; i++) {
                String pid = single(direct, "select coalesce(max(pid), 0) from pg_stat_activity "
                        + "where query like 'select pg_backend_pid(), pg_sleep(60)%' and state = 'active'");
                if (!pid.equals("0")) {
                    return Integer.parseInt(pid);
                }
                Thread.sleep(25);
            }
        }
        throw new AssertionError("the query never started");
    }

    @Test
    void forgedAndStaleCancelKeysDoNothing() throws Exception {
        byte[] staleKey;
        try (RawClient gone = RawClient.connect(proxy.port())) {
            gone.sendStartup(Map.of("user", "postgres", "database", "pooled"));
            staleKey = gone.readUntil('K').body();
            gone.readUntil('Z');
        }
        try (RawClient client = RawClient.connect(proxy.port())) {
            client.sendStartup(Map.of("user", "postgres", "database", "pooled"));
            byte[] key = client.readUntil('K').body();
            client.readUntil('Z');
            client.send('Q', "select pg_sleep(0.5)\0".getBytes(StandardCharsets.UTF_8));
            byte[] forged = key.clone();
            forged[forged.length - 1] ^= 0x5a;
            for (byte[] attempt : new byte[][] {forged, staleKey}) {
                try (RawClient cancel = RawClient.connect(proxy.port())) {
                    cancel.send(ByteBuffer.allocate(8 + attempt.length).putInt(8 + attempt.length)
                            .putInt(80877102).put(attempt).array());
                    assertThat(cancel.closedByServer()).isTrue();
                }
            }
            RawClient.Message reply;
            do {
                reply = client.read();
                if (reply.type() == 'E') {
                    throw new AssertionError("a forged or stale key cancelled the query: " + reply.fields());
                }
            } while (reply.type() != 'Z');
        }
    }
}
