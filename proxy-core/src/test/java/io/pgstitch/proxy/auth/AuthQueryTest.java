package io.pgstitch.proxy.auth;

import io.pgstitch.conf.ConfigLoader;
import io.pgstitch.conf.ProxyConfig;
import io.pgstitch.conf.ShardConfig;
import io.pgstitch.conf.UserSecret;
import io.pgstitch.protocol.PgException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.postgresql.ds.PGSimpleDataSource;

import java.net.InetAddress;
import java.net.ServerSocket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

class AuthQueryTest {

    private static final String SCRAM = "SCRAM-SHA-256$4096:c2FsdA==$" + "A".repeat(43) + "=:" + "B".repeat(43) + "=";
    private static final String CONFIG = """
            auth: { method: scram-sha-256, auth_query: { cache_ttl: 60s, cache_size: 100 } }
            shards:
              s1: { admin_user: lookup, admin_password: lookup-secret }
              s2: { admin_user: lookup, port: 5433 }
            default_route: { hash: [s1, s2] }
            """;

    /** Answers alice with a SCRAM secret, bob with an md5 hash, anyone else with nothing; records every call. */
    private static final class FakeRunner implements AuthQuery.Runner {
        final List<String> calls = Collections.synchronizedList(new ArrayList<>());
        final List<Map<String, ShardConfig>> retained = new ArrayList<>();
        volatile CountDownLatch gate = new CountDownLatch(0);
        volatile RuntimeException failure;
        volatile Thread lastThread;
        volatile ShardConfig lastShard;
        boolean closed;

        @Override
        public Optional<UserSecret> find(ShardConfig shard, String database, String user, String query,
                                         Duration timeout) {
            calls.add(shard.name() + "/" + database + "/" + user);
            lastThread = Thread.currentThread();
            lastShard = shard;
            try {
                gate.await(10, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            RuntimeException fail = failure;
            if (fail != null) {
                throw fail;
            }
            return switch (user) {
                case "alice" -> Optional.of(new UserSecret.Scram(SCRAM));
                case "bob" -> Optional.of(new UserSecret.Md5("md5" + "0".repeat(32)));
                default -> Optional.empty();
            };
        }

        @Override
        public void retain(Map<String, ShardConfig> shards) {
            retained.add(shards);
        }

        @Override
        public void close() {
            closed = true;
        }
    }

    private final FakeRunner runner = new FakeRunner();
    private final AtomicLong nanos = new AtomicLong();
    private AuthQuery authQuery;

    private static ProxyConfig config(String yaml) throws Exception {
        return ConfigLoader.parse(yaml, null, name -> null);
    }

    private AuthQuery start(String yaml, int threads, int queue) throws Exception {
        authQuery = new AuthQuery(config(yaml), runner, threads, queue, nanos::get);
        return authQuery;
    }

    private static ShardConfig shard(String yaml, String name) throws Exception {
        return config(yaml).shards().get(name);
    }

    private static Optional<UserSecret> get(CompletableFuture<Optional<UserSecret>> future) throws Exception {
        return future.get(10, TimeUnit.SECONDS);
    }

    private static PgException failure(CompletableFuture<?> future) {
        assertThat(future).failsWithin(Duration.ofSeconds(10));
        return (PgException) future.handle((value, e) -> e instanceof java.util.concurrent.CompletionException
                ? e.getCause() : e).join();
    }

    @AfterEach
    void close() {
        if (authQuery != null) {
            authQuery.close();
        }
    }

    @Test
    void answersAreCachedAndSoIsNoSuchUser() throws Exception {
        AuthQuery lookups = start(CONFIG, 2, 10);
        ShardConfig s1 = shard(CONFIG, "s1");
        assertThat(get(lookups.lookup(s1, "tenant_a", "alice"))).contains(new UserSecret.Scram(SCRAM));
        assertThat(get(lookups.lookup(s1, "tenant_a", "bob"))).containsInstanceOf(UserSecret.Md5.class);
        assertThat(get(lookups.lookup(s1, "tenant_a", "nobody"))).isEmpty();
        assertThat(get(lookups.lookup(s1, "tenant_a", "alice"))).contains(new UserSecret.Scram(SCRAM));
        assertThat(get(lookups.lookup(s1, "tenant_a", "nobody"))).isEmpty();
        assertThat(runner.calls).containsExactly("s1/tenant_a/alice", "s1/tenant_a/bob", "s1/tenant_a/nobody");
        assertThat(lookups.queries()).isEqualTo(3);

        // another database or shard is another query: a custom query may answer per database
        get(lookups.lookup(s1, "tenant_b", "alice"));
        get(lookups.lookup(shard(CONFIG, "s2"), "tenant_a", "alice"));
        assertThat(runner.calls).hasSize(5);
    }

    @Test
    void answersExpireAfterTheTtl() throws Exception {
        AuthQuery lookups = start(CONFIG, 2, 10);
        ShardConfig s1 = shard(CONFIG, "s1");
        get(lookups.lookup(s1, "db", "nobody"));
        while (lookups.finishedTasks() < 1) {
            Thread.onSpinWait();
        }
        nanos.addAndGet(Duration.ofSeconds(59).toNanos());
        get(lookups.lookup(s1, "db", "nobody"));
        assertThat(runner.calls).hasSize(1);
        nanos.addAndGet(Duration.ofSeconds(2).toNanos());
        assertThat(get(lookups.lookup(s1, "db", "nobody"))).isEmpty();
        assertThat(runner.calls).hasSize(2);
    }

    @Test
    void failuresAreNotCached() throws Exception {
        AuthQuery lookups = start(CONFIG, 2, 10);
        ShardConfig s1 = shard(CONFIG, "s1");
        runner.failure = PgException.fatal("08001", "shard \"s1\": auth_query cannot connect");
        assertThat(failure(lookups.lookup(s1, "db", "alice")).sqlState()).isEqualTo("08001");
        runner.failure = null;
        assertThat(get(lookups.lookup(s1, "db", "alice"))).isPresent();
        assertThat(runner.calls).hasSize(2);
    }

    @Test
    void aBugInTheRunnerStillEndsTheLookup() throws Exception {
        AuthQuery lookups = start(CONFIG, 2, 10);
        runner.failure = new IllegalStateException("bug");
        PgException e = failure(lookups.lookup(shard(CONFIG, "s1"), "db", "alice"));
        assertThat(e.sqlState()).isEqualTo("XX000");
        assertThat(e.getMessage()).isEqualTo("shard \"s1\": auth_query failed: IllegalStateException");
    }

    @Test
    void lookupsRunOffTheCallersThreadAndConcurrentOnesShareAQuery() throws Exception {
        AuthQuery lookups = start(CONFIG, 2, 10);
        ShardConfig s1 = shard(CONFIG, "s1");
        runner.gate = new CountDownLatch(1);
        CompletableFuture<Optional<UserSecret>> first = lookups.lookup(s1, "db", "alice");
        CompletableFuture<Optional<UserSecret>> second = lookups.lookup(s1, "db", "alice");
        assertThat(first).isNotDone(); // lookup returned while the query is still held
        runner.gate.countDown();
        assertThat(get(first)).isEqualTo(get(second));
        assertThat(runner.calls).hasSize(1);
        assertThat(runner.lastThread).isNotEqualTo(Thread.currentThread());
        assertThat(runner.lastThread.getName()).startsWith("pgstitch-auth_query-");
        assertThat(runner.lastThread.isDaemon()).isTrue();
    }

    @Test
    void aFullQueueRefusesAtOnceWith53300() throws Exception {
        AuthQuery lookups = start(CONFIG, 1, 1);
        ShardConfig s1 = shard(CONFIG, "s1");
        runner.gate = new CountDownLatch(1);
        CompletableFuture<Optional<UserSecret>> running = lookups.lookup(s1, "db", "u1");
        while (runner.calls.isEmpty()) {
            Thread.onSpinWait(); // u1 has left the queue for the only thread
        }
        CompletableFuture<Optional<UserSecret>> waiting = lookups.lookup(s1, "db", "u2");
        CompletableFuture<Optional<UserSecret>> refused = lookups.lookup(s1, "db", "u3");
        assertThat(refused).isCompletedExceptionally();
        PgException e = failure(refused);
        assertThat(e.sqlState()).isEqualTo("53300");
        assertThat(e.isFatal()).isTrue();
        assertThat(e.getMessage()).isEqualTo("shard \"s1\": auth_query: 1 lookups are already waiting");
        runner.gate.countDown();
        assertThat(get(running)).isEmpty();
        assertThat(get(waiting)).isEmpty();
        assertThat(get(lookups.lookup(s1, "db", "u3"))).as("a refusal is not cached").isEmpty();
    }

    @Test
    void aReloadDropsTheAnswersOfChangedShardsOnly() throws Exception {
        AuthQuery lookups = start(CONFIG, 2, 10);
        ShardConfig s1 = shard(CONFIG, "s1");
        ShardConfig s2 = shard(CONFIG, "s2");
        get(lookups.lookup(s1, "db", "alice"));
        get(lookups.lookup(s2, "db", "alice"));
        String changed = CONFIG.replace("port: 5433", "port: 5434");
        lookups.reconfigure(config(changed));
        assertThat(runner.retained).singleElement().satisfies(shards -> assertThat(shards).containsKeys("s1", "s2"));
        get(lookups.lookup(s1, "db", "alice"));
        get(lookups.lookup(shard(changed, "s2"), "db", "alice"));
        assertThat(runner.calls).containsExactly("s1/db/alice", "s2/db/alice", "s2/db/alice");

        // another query answers differently: every answer goes
        lookups.reconfigure(config(changed.replace("cache_size: 100", "cache_size: 100, query: \"SELECT $1, ''\"")));
        get(lookups.lookup(s1, "db", "alice"));
        assertThat(runner.calls).hasSize(4);
    }

    @Test
    void aLookupFollowsTheConfigurationInForce() throws Exception {
        AuthQuery lookups = start(CONFIG, 2, 10);
        ShardConfig stale = shard(CONFIG, "s2");
        lookups.reconfigure(config(CONFIG.replace("admin_user: lookup, port", "admin_user: other, port")));
        get(lookups.lookup(stale, "db", "alice"));
        assertThat(runner.calls).containsExactly("s2/db/alice");
        assertThat(runner.lastShard.adminUser()).as("the reloaded lookup role").isEqualTo("other");

        lookups.reconfigure(config("""
                auth: { method: scram-sha-256, auth_query: {} }
                shards: { s1: { admin_user: lookup } }
                default_route: s1
                """));
        PgException gone = failure(lookups.lookup(stale, "db", "bob"));
        assertThat(gone.sqlState()).isEqualTo("08006");
        assertThat(gone.getMessage()).isEqualTo("shard \"s2\": auth_query: the shard is no longer in the "
                + "configuration");

        lookups.reconfigure(config("shards: { s1: {} }"));
        assertThat(runner.retained.get(runner.retained.size() - 1)).as("every pool closes").isEmpty();
        PgException off = failure(lookups.lookup(stale, "db", "bob"));
        assertThat(off.sqlState()).isEqualTo("28000");
        assertThat(off.getMessage()).isEqualTo("auth_query is not configured (auth.auth_query)");
    }

    @Test
    void aShardWithoutALookupRoleIsNamed() throws Exception {
        String yaml = "auth: { auth_query: {} }\nshards: { s1: { admin_user: x }, s9: {} }\ndefault_route: s1";
        AuthQuery lookups = start(yaml, 1, 1);
        PgException e = failure(lookups.lookup(shard(yaml, "s9"), "db", "alice"));
        assertThat(e.sqlState()).isEqualTo("08001");
        assertThat(e.getMessage()).isEqualTo("shard \"s9\": auth_query needs shards.s9.admin_user");
        assertThat(runner.calls).isEmpty();
    }

    @Test
    void closingFailsLaterLookupsAndClosesTheConnections() throws Exception {
        AuthQuery lookups = start(CONFIG, 1, 1);
        lookups.close();
        assertThat(runner.closed).isTrue();
        PgException e = failure(lookups.lookup(shard(CONFIG, "s1"), "db", "alice"));
        assertThat(e.sqlState()).isEqualTo("57P01");
    }

    /** A pool per database looked up lately: one unused for its idle timeout is closed, the next lookup reopens. */
    @Test
    void poolsUnusedForTheirIdleTimeoutAreClosed() throws Exception {
        int closedPort;
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            closedPort = socket.getLocalPort();
        }
        ShardConfig shard = config("shards: { s1: { host: 127.0.0.1, port: %d, admin_user: lookup, "
                .formatted(closedPort) + "pool: { connect_timeout: 1s } } }").shards().get("s1");
        AtomicLong clock = new AtomicLong();
        try (AuthQueryPools pools = new AuthQueryPools(1, clock::get)) {
            lookUp(pools, shard, "tenant_a");
            lookUp(pools, shard, "tenant_b");
            assertThat(pools.poolCount()).isEqualTo(2);
            clock.addAndGet(TimeUnit.SECONDS.toNanos(45));
            lookUp(pools, shard, "tenant_a");
            clock.addAndGet(TimeUnit.SECONDS.toNanos(45)); // tenant_b unused for 90 s, tenant_a for 45
            pools.closeIdle();
            assertThat(pools.poolCount()).isEqualTo(1);
            clock.addAndGet(TimeUnit.SECONDS.toNanos(45));
            pools.closeIdle();
            assertThat(pools.poolCount()).isZero();
            lookUp(pools, shard, "tenant_b");
            assertThat(pools.poolCount()).isEqualTo(1);
        }
    }

    /** A lookup where nothing listens: it fails, and its pool was used. */
    private static void lookUp(AuthQueryPools pools, ShardConfig shard, String database) {
        assertThat(catchThrowable(() -> pools.find(shard, database, "alice", "SELECT $1, ''", Duration.ofSeconds(1))))
                .isInstanceOf(PgException.class);
    }

    @Test
    void theJdbcConnectionFollowsTheShardsAddressAndTls() throws Exception {
        ProxyConfig config = config("""
                shards:
                  plain: { host: 10.1.2.3, port: 5439, pool: { connect_timeout: 3s } }
                  verified: { tls: verify-full, tls_ca: /etc/pgstitch/shard-ca.crt }
                  required: { tls: require }
                """);
        PGSimpleDataSource plain = AuthQueryPools.dataSource(config.shards().get("plain"), "tenant_a");
        assertThat(plain.getServerNames()).containsExactly("10.1.2.3");
        assertThat(plain.getPortNumbers()).containsExactly(5439);
        assertThat(plain.getDatabaseName()).isEqualTo("tenant_a");
        assertThat(plain.getSslMode()).isEqualTo("disable");
        assertThat(plain.getConnectTimeout()).isEqualTo(3);
        assertThat(plain.getApplicationName()).isEqualTo("pgstitch auth_query");
        PGSimpleDataSource verified = AuthQueryPools.dataSource(config.shards().get("verified"), "db");
        assertThat(verified.getSslMode()).isEqualTo("verify-full");
        assertThat(verified.getSslRootCert()).isEqualTo("/etc/pgstitch/shard-ca.crt");
        assertThat(AuthQueryPools.dataSource(config.shards().get("required"), "db").getSslMode()).isEqualTo("require");
    }

    @Test
    void theQueryIsWrittenWithDollarOneAndSentWithPgJdbcPlaceholders() throws Exception {
        ShardConfig s1 = shard(CONFIG, "s1");
        assertThat(AuthQueryPools.JdbcQuery.of(s1, "SELECT usename, passwd FROM pg_shadow WHERE usename = $1"))
                .isEqualTo(new AuthQueryPools.JdbcQuery("SELECT usename, passwd FROM pg_shadow WHERE usename = ?", 1));
        assertThat(AuthQueryPools.JdbcQuery.of(s1, "SELECT u, p FROM t WHERE '$1?' <> $1 /* $1 ? */ AND j ? 'k' "
                + "AND \"$1\" = $$ $1 $$ OR lower($1) = u"))
                .isEqualTo(new AuthQueryPools.JdbcQuery("SELECT u, p FROM t WHERE '$1?' <> ? /* $1 ? */ AND j ?? 'k' "
                        + "AND \"$1\" = $$ $1 $$ OR lower(?) = u", 2));
        assertThat(assertThrows(s1, "SELECT usename, passwd FROM f($1, $2)"))
                .isEqualTo("shard \"s1\": auth_query must use $1 for the user name and no other parameter, found $2");
        assertThat(assertThrows(s1, "SELECT usename, passwd FROM t WHERE usename = '$1'"))
                .isEqualTo("shard \"s1\": auth_query must use $1 for the user name and no other parameter");
    }

    private static String assertThrows(ShardConfig shard, String query) {
        try {
            AuthQueryPools.JdbcQuery.of(shard, query);
        } catch (PgException e) {
            assertThat(e.sqlState()).isEqualTo("XX000");
            return e.getMessage();
        }
        throw new AssertionError("expected " + query + " to be refused");
    }

    @Test
    void aShardThatRefusesConnectionsFailsWith08001NamingIt() throws Exception {
        int port;
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            port = socket.getLocalPort(); // closed again: nothing listens there
        }
        String yaml = """
                auth: { auth_query: {} }
                shards: { down: { port: %d, admin_user: lookup, admin_password: hunter2-secret,
                                  pool: { connect_timeout: 1s } } }
                default_route: down
                """.formatted(port);
        try (AuthQuery lookups = new AuthQuery(config(yaml))) {
            PgException e = failure(lookups.lookup(config(yaml).shards().get("down"), "db", "alice"));
            assertThat(e.sqlState()).isEqualTo("08001");
            assertThat(e.getMessage()).startsWith("shard \"down\": auth_query cannot connect as \"lookup\" to "
                    + "database \"db\": ").doesNotContain("hunter2");
            assertThat(lookups.queries()).isEqualTo(1);
        }
    }
}
