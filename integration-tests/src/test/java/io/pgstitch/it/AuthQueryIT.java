package io.pgstitch.it;

import io.netty.channel.DefaultEventLoop;
import io.netty.channel.EventLoop;
import io.pgstitch.conf.AuthQueryConfig;
import io.pgstitch.conf.ConfigLoader;
import io.pgstitch.conf.ProxyConfig;
import io.pgstitch.conf.ShardConfig;
import io.pgstitch.conf.UserSecret;
import io.pgstitch.protocol.PgException;
import io.pgstitch.proxy.auth.AuthQuery;
import io.pgstitch.proxy.postgres.LocalPostgres;
import io.pgstitch.proxy.postgres.PostgresBinaries;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * auth_query against a real PostgreSQL that asks for SCRAM passwords: a lookup role that is not a superuser reads
 * secrets through a SECURITY DEFINER function (the setup the README recommends), the default pg_shadow query with
 * a superuser, caching counted on the server, a wrong admin_password, and lookups called from an event loop.
 */
class AuthQueryIT {

    private static final String SUPERUSER_PASSWORD = "superuser-pw-3141";
    private static final String LOOKUP_PASSWORD = "lookup-pw-2718";
    private static final String FUNCTION_QUERY = "SELECT usename, passwd FROM pgstitch.lookup($1)";
    private static LocalPostgres server;

    @BeforeAll
    static void start() throws Exception {
        server = LocalPostgres.builder(PostgresBinaries.resolve()).name("auth-query").password(SUPERUSER_PASSWORD)
                .hostAuth("scram-sha-256").start();
        // Owned by the superuser, so it may read pg_shadow; counts its calls in a sequence, which is not
        // transactional and so shows every call at once.
        server.execute("postgres", """
                CREATE ROLE alice LOGIN PASSWORD 'alice-pw';
                CREATE ROLE lookup LOGIN NOSUPERUSER PASSWORD '%s';
                CREATE SCHEMA pgstitch;
                CREATE SEQUENCE pgstitch.calls;
                CREATE FUNCTION pgstitch.lookup(i_username text, OUT usename name, OUT passwd text) RETURNS record
                    LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog AS $$
                    BEGIN
                        PERFORM nextval('pgstitch.calls');
                        SELECT s.usename, s.passwd INTO usename, passwd FROM pg_shadow s WHERE s.usename = i_username;
                    END $$;
                REVOKE ALL ON FUNCTION pgstitch.lookup(text) FROM PUBLIC;
                GRANT USAGE ON SCHEMA pgstitch TO lookup;
                GRANT EXECUTE ON FUNCTION pgstitch.lookup(text) TO lookup;
                """.formatted(LOOKUP_PASSWORD));
        server.createDatabase("tenant_a");
    }

    @AfterAll
    static void stop() {
        if (server != null) {
            server.close();
        }
    }

    /** @param query null: the default */
    private static ProxyConfig config(String adminUser, String adminPassword, String query) throws Exception {
        return ConfigLoader.parse("""
                auth:
                  method: scram-sha-256
                  auth_query: { %s cache_ttl: 60s }
                shards:
                  shard1:
                    port: %d
                    admin_user: %s
                    admin_password: '%s'
                    pool: { connect_timeout: 2s }
                default_route: shard1
                """.formatted(query == null ? "" : "query: \"" + query + "\",", server.port(), adminUser,
                adminPassword), null, name -> null);
    }

    private static ShardConfig shard1(ProxyConfig config) {
        return config.shards().get("shard1");
    }

    private static Optional<UserSecret> get(CompletableFuture<Optional<UserSecret>> lookup) throws Exception {
        return lookup.get(30, TimeUnit.SECONDS);
    }

    private static String query(String sql) throws SQLException {
        try (Connection connection = DriverManager.getConnection(server.jdbcUrl("postgres"), "postgres",
                SUPERUSER_PASSWORD);
             ResultSet rs = connection.createStatement().executeQuery(sql)) {
            assertThat(rs.next()).isTrue();
            return rs.getString(1);
        }
    }

    private static long functionCalls() throws SQLException {
        return Long.parseLong(query("SELECT CASE WHEN is_called THEN last_value ELSE 0 END FROM pgstitch.calls"));
    }

    @Test
    void aRoleThatIsNoSuperuserReadsSecretsThroughTheFunction() throws Exception {
        assertThat(query("SELECT rolsuper FROM pg_roles WHERE rolname = 'lookup'")).isEqualTo("f");
        ProxyConfig config = config("lookup", LOOKUP_PASSWORD, FUNCTION_QUERY);
        try (AuthQuery authQuery = new AuthQuery(config)) {
            Optional<UserSecret> secret = get(authQuery.lookup(shard1(config), "postgres", "alice"));
            assertThat(secret).containsInstanceOf(UserSecret.Scram.class);
            assertThat(secret.orElseThrow().text())
                    .isEqualTo(query("SELECT rolpassword FROM pg_authid WHERE rolname = 'alice'"));
            assertThat(get(authQuery.lookup(shard1(config), "postgres", "nobody"))).isEmpty();
        }
    }

    @Test
    void aSecondLookupWithinTheTtlDoesNotReachTheShard() throws Exception {
        ProxyConfig config = config("lookup", LOOKUP_PASSWORD, FUNCTION_QUERY);
        try (AuthQuery authQuery = new AuthQuery(config)) {
            long before = functionCalls();
            Optional<UserSecret> first = get(authQuery.lookup(shard1(config), "postgres", "alice"));
            assertThat(get(authQuery.lookup(shard1(config), "postgres", "nobody"))).isEmpty();
            assertThat(functionCalls()).isEqualTo(before + 2);
            assertThat(get(authQuery.lookup(shard1(config), "postgres", "alice"))).isEqualTo(first);
            assertThat(get(authQuery.lookup(shard1(config), "postgres", "nobody"))).as("cached too").isEmpty();
            assertThat(functionCalls()).isEqualTo(before + 2);
            assertThat(authQuery.queries()).isEqualTo(2);
        }
    }

    @Test
    void theDefaultQueryWorksWithASuperuserInTheRoutedDatabase() throws Exception {
        ProxyConfig config = config("postgres", SUPERUSER_PASSWORD, null);
        assertThat(config.auth().authQuery().query()).isEqualTo(AuthQueryConfig.DEFAULT_QUERY);
        try (AuthQuery authQuery = new AuthQuery(config)) {
            assertThat(get(authQuery.lookup(shard1(config), "tenant_a", "alice")).orElseThrow().text())
                    .isEqualTo(query("SELECT rolpassword FROM pg_authid WHERE rolname = 'alice'"));
            assertThat(query("SELECT count(*) FROM pg_stat_activity WHERE datname = 'tenant_a' "
                    + "AND application_name = 'pgstitch auth_query'")).as("connected to the routed database")
                    .isNotEqualTo("0");
        }
    }

    @Test
    void theDefaultQueryIsRefusedToARoleThatIsNoSuperuser() throws Exception {
        ProxyConfig config = config("lookup", LOOKUP_PASSWORD, null);
        try (AuthQuery authQuery = new AuthQuery(config)) {
            PgException e = failure(authQuery.lookup(shard1(config), "postgres", "alice"));
            assertThat(e.sqlState()).isEqualTo("XX000");
            assertThat(e.getMessage()).startsWith("shard \"shard1\": auth_query failed in database \"postgres\": ")
                    .contains("permission denied");
        }
    }

    @Test
    void aWrongAdminPasswordNamesTheShardButNeverAPassword() throws Exception {
        String wrong = "not-the-lookup-pw-1618";
        ProxyConfig config = config("lookup", wrong, FUNCTION_QUERY);
        try (AuthQuery authQuery = new AuthQuery(config)) {
            PgException e = failure(authQuery.lookup(shard1(config), "postgres", "alice"));
            assertThat(e.sqlState()).isEqualTo("08001");
            assertThat(e.isFatal()).isTrue();
            assertThat(e.getMessage())
                    .startsWith("shard \"shard1\": auth_query cannot connect as \"lookup\" to database \"postgres\": ")
                    .contains("password authentication failed for user \"lookup\"")
                    .doesNotContain(wrong).doesNotContain(LOOKUP_PASSWORD);

            // a reload with the right password replaces the pool
            ProxyConfig fixed = config("lookup", LOOKUP_PASSWORD, FUNCTION_QUERY);
            authQuery.reconfigure(fixed);
            assertThat(get(authQuery.lookup(shard1(fixed), "postgres", "alice"))).isPresent();
        }
    }

    @Test
    void aLookupCalledOnAnEventLoopCompletesOnAnotherThreadWithoutBlockingTheLoop() throws Exception {
        // the query takes 300 ms, so a lookup that blocked its caller would hold the loop that long
        ProxyConfig config = config("lookup", LOOKUP_PASSWORD,
                "SELECT usename, passwd FROM pgstitch.lookup($1) CROSS JOIN pg_sleep(0.3)");
        EventLoop loop = new DefaultEventLoop();
        try (AuthQuery authQuery = new AuthQuery(config)) {
            CompletableFuture<Long> loopFree = new CompletableFuture<>();
            CompletableFuture<Long> answered = new CompletableFuture<>();
            CompletableFuture<Thread> answeredOn = new CompletableFuture<>();
            CompletableFuture<Optional<UserSecret>> lookup = loop.submit(() -> {
                CompletableFuture<Optional<UserSecret>> pending = authQuery.lookup(shard1(config), "postgres", "alice");
                pending.whenComplete((secret, e) -> {
                    answered.complete(System.nanoTime());
                    answeredOn.complete(Thread.currentThread());
                });
                loop.execute(() -> loopFree.complete(System.nanoTime()));
                return pending;
            }).get(10, TimeUnit.SECONDS);
            assertThat(get(lookup)).isPresent();
            assertThat(loopFree.get(10, TimeUnit.SECONDS)).as("the loop ran its next task before the answer came")
                    .isLessThan(answered.get(10, TimeUnit.SECONDS));
            Thread thread = answeredOn.get(10, TimeUnit.SECONDS);
            assertThat(loop.inEventLoop(thread)).isFalse();
            assertThat(thread.getName()).startsWith("pgstitch-auth_query-");
        } finally {
            loop.shutdownGracefully(0, 1, TimeUnit.SECONDS);
        }
    }

    private static PgException failure(CompletableFuture<Optional<UserSecret>> lookup) {
        assertThatThrownBy(() -> lookup.get(30, TimeUnit.SECONDS)).isInstanceOf(ExecutionException.class);
        Throwable cause = lookup.handle((secret, e) -> e instanceof CompletionException ? e.getCause() : e).join();
        assertThat(cause).isInstanceOf(PgException.class);
        return (PgException) cause;
    }
}
