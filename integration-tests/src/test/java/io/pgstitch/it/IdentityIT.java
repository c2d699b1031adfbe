package io.pgstitch.it;

import io.pgstitch.it.support.ProcessResult;
import io.pgstitch.it.support.Psql;
import io.pgstitch.proxy.postgres.LocalPostgres;
import io.pgstitch.proxy.postgres.PostgresBinaries;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Tenants reach their shard as themselves. One shard demanding passwords (SCRAM for SCRAM verifiers, md5 for an
 * md5 one), two tenant databases whose CONNECT is revoked from PUBLIC, a row-level-security policy on
 * current_user, and every credential path: SCRAM pass-through from a verifier copied out of pg_authid, a
 * plaintext secret, an md5 secret, auth_query through a SECURITY DEFINER function, and a password that SASLprep
 * changes. Each client's rights are exactly those it has directly, and no route reaches another tenant's data.
 */
class IdentityIT {

    private static final String SASLPREP_PASSWORD = "pass\u00A0word-\u0061\u0308"; // NBSP and a decomposed ä

    @TempDir
    static Path dir;
    private static LocalPostgres shard;
    private static TestProxy proxy;

    @BeforeAll
    static void start() throws Exception {
        shard = passwordShard("identity", "alice");
        shard.execute("postgres", """
                SET password_encryption = 'scram-sha-256';
                CREATE ROLE bob LOGIN PASSWORD 'bob-pw';
                CREATE ROLE dave LOGIN PASSWORD 'dave-pw';
                CREATE ROLE erin LOGIN PASSWORD '%s';
                SET password_encryption = 'md5';
                CREATE ROLE carol LOGIN PASSWORD 'carol-pw';
                SET password_encryption = 'scram-sha-256';
                CREATE ROLE lookup LOGIN PASSWORD 'lookup-pw';
                """.formatted(SASLPREP_PASSWORD));
        shard.createDatabase("tenant_a");
        shard.createDatabase("tenant_b");
        shard.execute("postgres", """
                REVOKE CONNECT ON DATABASE tenant_a FROM PUBLIC;
                REVOKE CONNECT ON DATABASE tenant_b FROM PUBLIC;
                GRANT CONNECT ON DATABASE tenant_a TO alice, carol, dave, erin, lookup;
                GRANT CONNECT ON DATABASE tenant_b TO bob, lookup;
                """);
        for (String database : List.of("tenant_a", "tenant_b")) {
            shard.execute(database, """
                    CREATE EXTENSION dblink;
                    CREATE TABLE notes (owner name NOT NULL, body text NOT NULL);
                    INSERT INTO notes VALUES ('alice', 'a1'), ('alice', 'a2'), ('bob', 'b1'), ('carol', 'c1');
                    ALTER TABLE notes ENABLE ROW LEVEL SECURITY;
                    CREATE POLICY mine ON notes USING (owner = current_user);
                    GRANT SELECT ON notes TO PUBLIC;
                    CREATE SCHEMA pgstitch;
                    CREATE FUNCTION pgstitch.lookup(i_username text, OUT usename name, OUT passwd text)
                        RETURNS record LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog
                        AS $$ SELECT usename, passwd FROM pg_catalog.pg_shadow WHERE usename = i_username $$;
                    REVOKE ALL ON FUNCTION pgstitch.lookup(text) FROM PUBLIC;
                    GRANT USAGE ON SCHEMA pgstitch TO lookup;
                    GRANT EXECUTE ON FUNCTION pgstitch.lookup(text) TO lookup;
                    CREATE FUNCTION iasql_whoami() RETURNS text LANGUAGE sql
                        AS $$ SELECT current_user || '/' || (SELECT usename FROM pg_stat_activity
                                                             WHERE pid = pg_backend_pid()) $$;
                    """);
        }
        Path users = dir.resolve("users.txt");
        Files.writeString(users, String.join("\n",
                "\"alice\" \"" + rolpassword(shard, "alice") + "\"", // SCRAM pass-through: the shard's own verifier
                "\"bob\" \"bob-pw\"",
                "\"carol\" \"" + rolpassword(shard, "carol") + "\"",   // md5...
                "\"erin\" \"" + SASLPREP_PASSWORD + "\"") + "\n");
        proxy = TestProxy.start("""
                listen: { host: 127.0.0.1, port: 0 }
                auth:
                  method: scram-sha-256
                  users_file: '%s'
                  auth_query: { query: "SELECT usename, passwd FROM pgstitch.lookup($1)" }
                  rules:
                    - { user: carol, method: md5 }
                    - { user: alice, database: [tenant_a, other_a], method: scram-sha-256 }
                    - { user: alice, method: reject }
                shards:
                  s1: { host: 127.0.0.1, port: %d, admin_user: lookup, admin_password: lookup-pw }
                routes:
                  tenant_a: s1
                  other_a: { shard: s1, database: tenant_b }
                  tenant_b: s1
                  as_bob: { shard: s1, database: tenant_b, user: bob, password: bob-pw }
                rpc: { functions: ["iasql_*"] }
                """.formatted(users, shard.port()));
    }

    @AfterAll
    static void stop() {
        if (proxy != null) {
            proxy.close();
        }
        if (shard != null) {
            shard.close();
        }
    }

    /**
     * A shard that demands passwords (md5, or SCRAM for a SCRAM verifier), superuser password {@code super-pw}, with
     * a role of password {@code <role>-pw} (stored as a SCRAM verifier) for each of {@code roles}.
     */
    static LocalPostgres passwordShard(String name, String... roles) throws Exception {
        LocalPostgres shard = LocalPostgres.builder(PostgresBinaries.resolve()).name(name).password("super-pw")
                .hostAuth("md5").start();
        StringBuilder sql = new StringBuilder("SET password_encryption = 'scram-sha-256';\n");
        for (String role : roles) {
            sql.append("CREATE ROLE ").append(role).append(" LOGIN PASSWORD '").append(role).append("-pw';\n");
        }
        shard.execute("postgres", sql.toString());
        return shard;
    }

    /** The secret {@code role} has on a {@link #passwordShard}, from pg_authid. */
    static String rolpassword(LocalPostgres shard, String role) throws SQLException {
        try (Connection admin = DriverManager.getConnection(shard.jdbcUrl("postgres"), "postgres", "super-pw");
             ResultSet rs = admin.createStatement()
                     .executeQuery("SELECT rolpassword FROM pg_authid WHERE rolname = '" + role + "'")) {
            rs.next();
            return rs.getString(1);
        }
    }

    private static Connection viaProxy(String user, String password, String database) throws SQLException {
        Properties properties = new Properties();
        properties.setProperty("password", password);
        properties.setProperty("user", user);
        return proxy.connect(database, properties);
    }

    private static Connection direct(String user, String password, String database) throws SQLException {
        return DriverManager.getConnection(shard.jdbcUrl(database), user, password);
    }

    private static List<String> column(Connection connection, String sql) throws SQLException {
        List<String> values = new ArrayList<>();
        try (Statement statement = connection.createStatement(); ResultSet rs = statement.executeQuery(sql)) {
            while (rs.next()) {
                values.add(rs.getString(1));
            }
        }
        return values;
    }

    @Test
    void scramPassThroughReachesTheShardAsTheClientWithItsOwnRights() throws Exception {
        try (Connection alice = viaProxy("alice", "alice-pw", "tenant_a");
             Connection direct = direct("alice", "alice-pw", "tenant_a")) {
            assertThat(column(alice, "select current_user || '/' || session_user")).containsExactly("alice/alice");
            assertThat(column(alice, "select usename from pg_stat_activity where pid = pg_backend_pid()"))
                    .containsExactly("alice");
            String rls = "select body from notes order by body";
            assertThat(column(alice, rls)).containsExactly("a1", "a2").isEqualTo(column(direct, rls));
        }
    }

    @Test
    void aliceReachesNoOtherTenantByAnyRoute() throws Exception {
        for (String database : List.of("tenant_b", "other_a", "postgres")) {
            assertThatThrownBy(() -> viaProxy("alice", "alice-pw", database).close()).as(database)
                    .isInstanceOfSatisfying(SQLException.class, e -> assertThat(e.getSQLState()).isIn(
                            "28000", "42501", "3D000"));
        }
        // other_a is allowed by the rules but routes to tenant_b, whose CONNECT alice lacks: the shard refuses her
        assertThatThrownBy(() -> viaProxy("alice", "alice-pw", "other_a").close())
                .isInstanceOfSatisfying(SQLException.class, e -> {
                    assertThat(e.getSQLState()).isEqualTo("42501");
                    assertThat(e.getMessage()).contains("permission denied for database \"tenant_b\"");
                });
        try (Connection alice = viaProxy("alice", "alice-pw", "tenant_a")) {
            assertThatThrownBy(() -> column(alice, "select * from dblink('dbname=tenant_b user=bob', "
                    + "'select body from notes') as t(body text)")).isInstanceOf(SQLException.class)
                    .hasMessageContaining("password");
            assertThatThrownBy(() -> column(alice, "select * from dblink('dbname=tenant_b host=127.0.0.1 port="
                    + shard.port() + "', 'select body from notes') as t(body text)"))
                    .isInstanceOf(SQLException.class).hasMessageContaining("password");
            // with her own password, dblink reaches the shard as alice: tenant_b's CONNECT is not hers
            assertThatThrownBy(() -> column(alice, "select * from dblink('dbname=tenant_b host=127.0.0.1 port="
                    + shard.port() + " user=alice password=alice-pw', 'select body from notes') as t(body text)"))
                    .isInstanceOf(SQLException.class)
                    .hasMessageContaining("permission denied for database \"tenant_b\"");
        }
    }

    @Test
    void rpcCallsRunAsTheClientToo() throws Exception {
        try (Connection alice = viaProxy("alice", "alice-pw", "tenant_a");
             Statement statement = alice.createStatement()) {
            // a stitched query: the session's part and the RPC call's, each on its own backend connection
            assertThat(statement.execute("select current_user; select iasql_whoami(); select body from notes"))
                    .isTrue();
            List<String> answers = new ArrayList<>();
            do {
                try (ResultSet rs = statement.getResultSet()) {
                    while (rs.next()) {
                        answers.add(rs.getString(1));
                    }
                }
            } while (statement.getMoreResults());
            assertThat(answers).containsExactly("alice", "alice/alice", "a1", "a2");
        }
    }

    @Test
    void aRouteWithAForcedUserReachesTheShardAsThatUserWhoeverLogsIn() throws Exception {
        try (Connection dave = viaProxy("dave", "dave-pw", "as_bob")) {
            assertThat(column(dave, "select current_user || '/' || current_database()"))
                    .containsExactly("bob/tenant_b");
            assertThat(column(dave, "select body from notes")).containsExactly("b1");
        }
    }

    @Test
    void psqlBackslashConnectToAnotherTenantIsRefused() {
        Psql.assumeAvailable();
        ProcessResult result = Psql.at("127.0.0.1", proxy.port()).user("alice").database("tenant_a")
                .env("PGPASSWORD", "alice-pw").env("PGPASSFILE", "/dev/null")
                .script("select current_user;\n\\c tenant_b\nselect current_user;\n", "-At");
        assertThat(result.stdout()).contains("alice").doesNotContain("bob");
        assertThat(result.stderr()).contains("rejects connection").contains("\"tenant_b\"");
        assertThat(result.exitCode()).isNotZero();
    }

    @Test
    void aPlaintextSecretAndAnMd5SecretAnswerTheShardForTheirUser() throws Exception {
        try (Connection bob = viaProxy("bob", "bob-pw", "tenant_b")) {
            assertThat(column(bob, "select current_user")).containsExactly("bob");
            assertThat(column(bob, "select body from notes")).containsExactly("b1");
        }
        assertThatThrownBy(() -> viaProxy("bob", "bob-pw", "tenant_a").close())
                .isInstanceOfSatisfying(SQLException.class, e -> assertThat(e.getSQLState()).isEqualTo("42501"));
        try (Connection carol = viaProxy("carol", "carol-pw", "tenant_a")) {
            assertThat(column(carol, "select current_user")).containsExactly("carol");
            assertThat(column(carol, "select body from notes")).containsExactly("c1");
        }
    }

    @Test
    void authQueryLooksUpAUserMissingFromTheUsersFile() throws Exception {
        try (Connection dave = viaProxy("dave", "dave-pw", "tenant_a")) {
            assertThat(column(dave, "select current_user")).containsExactly("dave");
            assertThat(column(dave, "select count(*) from notes")).containsExactly("0");
        }
        for (String[] wrong : new String[][] {{"dave", "not-it"}, {"zed", "whatever"}}) {
            assertThatThrownBy(() -> viaProxy(wrong[0], wrong[1], "tenant_a").close())
                    .isInstanceOfSatisfying(SQLException.class, e -> {
                        assertThat(e.getSQLState()).isEqualTo("28P01");
                        assertThat(e.getMessage()).contains("password authentication failed for user \""
                                + wrong[0] + "\"");
                    });
        }
    }

    @Test
    void aPasswordThatSaslPrepChangesWorksBothWays() throws Exception {
        Psql.assumeAvailable();
        ProcessResult result = Psql.at("127.0.0.1", proxy.port()).user("erin").database("tenant_a")
                .env("PGPASSWORD", SASLPREP_PASSWORD).env("PGPASSFILE", "/dev/null")
                .run("-w", "-At", "-c", "select current_user");
        assertThat(result.exitCode()).as(result.stderr()).isZero();
        assertThat(result.stdout().trim()).isEqualTo("erin");
    }
}
