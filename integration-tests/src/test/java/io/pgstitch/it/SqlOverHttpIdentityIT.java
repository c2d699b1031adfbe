package io.pgstitch.it;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.pgstitch.it.support.Curl;
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

import static org.assertj.core.api.Assertions.assertThat;

/**
 * SQL over HTTP with the default backend identity: no forced user, a shard that demands passwords (SCRAM for
 * SCRAM verifiers). An HTTP request reaches the shard as its own user, exactly as a PostgreSQL client does: by
 * SCRAM pass-through for a Basic login against the verifier copied out of pg_authid, with the users file's
 * plaintext password for a bearer token; a bearer token whose user has only a SCRAM verifier cannot (a token
 * carries no SCRAM proof), and the client is told so.
 */
class SqlOverHttpIdentityIT {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String DAVE_TOKEN = "dave-token-0123456789";
    private static final String ERIN_TOKEN = "erin-token-0123456789";

    @TempDir
    static Path dir;
    private static LocalPostgres shard;
    private static TestProxy proxy;
    private static String base;

    @BeforeAll
    static void start() throws Exception {
        Curl.assumeAvailable();
        shard = LocalPostgres.builder(PostgresBinaries.resolve()).name("http-identity").password("super-pw")
                .hostAuth("md5").start();
        shard.execute("postgres", """
                SET password_encryption = 'scram-sha-256';
                CREATE ROLE alice LOGIN PASSWORD 'alice-pw';
                CREATE ROLE dave LOGIN PASSWORD 'dave-pw';
                CREATE ROLE erin LOGIN PASSWORD 'erin-pw';
                """);
        shard.createDatabase("tenant_a");
        Path users = dir.resolve("users.txt");
        Files.writeString(users, "\"alice\" \"" + rolpassword("alice") + "\"\n" // the shard's own verifier
                + "\"dave\" \"dave-pw\"\n"
                + "\"erin\" \"" + rolpassword("erin") + "\"\n");
        proxy = TestProxy.start("""
                listen: { host: 127.0.0.1, port: 0 }
                auth: { method: scram-sha-256, users_file: '%s' }
                shards:
                  s1: { host: 127.0.0.1, port: %d }
                routes:
                  tenant_a: s1
                http:
                  host: 127.0.0.1
                  port: 0
                  tokens:
                    dave: %s
                    erin: %s
                """.formatted(users, shard.port(), DAVE_TOKEN, ERIN_TOKEN));
        base = "http://127.0.0.1:" + proxy.server().httpAddress().orElseThrow().getPort()
                + "/v1/databases/tenant_a/run";
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

    private static String rolpassword(String role) throws SQLException {
        try (Connection admin = DriverManager.getConnection(shard.jdbcUrl("postgres"), "postgres", "super-pw");
             ResultSet rs = admin.createStatement()
                     .executeQuery("SELECT rolpassword FROM pg_authid WHERE rolname = '" + role + "'")) {
            rs.next();
            return rs.getString(1);
        }
    }

    private static final String WHO = "SELECT current_user, session_user";

    @Test
    void aBasicLoginReachesTheShardAsItsUserByScramPassThrough() throws Exception {
        Curl.Response response = Curl.run(WHO, base, "-u", "alice:alice-pw", "--data-binary", "@-");
        assertThat(response.status()).as(response.body()).isEqualTo(200);
        assertThat(JSON.readTree(response.body()).get(0).get("rows").toString()).isEqualTo("[[\"alice\",\"alice\"]]");
    }

    @Test
    void aBearerTokenReachesTheShardWithItsUsersPlaintextPassword() throws Exception {
        Curl.Response response = Curl.run(WHO, base, "-H", "Authorization: Bearer " + DAVE_TOKEN,
                "--data-binary", "@-");
        assertThat(response.status()).as(response.body()).isEqualTo(200);
        assertThat(JSON.readTree(response.body()).get(0).get("rows").toString()).isEqualTo("[[\"dave\",\"dave\"]]");
    }

    /**
     * Erin logs in nowhere else first: a server connection that a Basic login of hers left idle in the pool would
     * serve her token's session (the pool is per user), and the shard would not be asked.
     */
    @Test
    void aBearerTokenWhoseUserHasOnlyAScramVerifierIsToldWhyItCannotReachTheShard() throws Exception {
        Curl.Response response = Curl.run(WHO, base, "-H", "Authorization: Bearer " + ERIN_TOKEN,
                "--data-binary", "@-");
        assertThat(response.status()).as(response.body()).isEqualTo(502);
        JsonNode error = JSON.readTree(response.body()).get("error");
        assertThat(error.get("code").asText()).isEqualTo("SHARD_LOGIN_FAILED");
        assertThat(error.get("sqlstate").asText()).isEqualTo("08001");
        assertThat(error.get("message").asText()).contains("user \"erin\"").contains("bearer token")
                .contains("no password").contains("only a SCRAM verifier");
        assertThat(error.get("hint").asText()).contains("bearer token's login carries no password")
                .contains("plaintext password or md5 secret").contains("forces");
        // the same user with a Basic login gets through: the verifier answers its SCRAM proof
        assertThat(Curl.run(WHO, base, "-u", "erin:erin-pw", "--data-binary", "@-").status()).isEqualTo(200);
    }
}
