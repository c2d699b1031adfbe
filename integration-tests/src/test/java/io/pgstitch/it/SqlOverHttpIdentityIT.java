package io.pgstitch.it;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.pgstitch.it.support.Curl;
import io.pgstitch.proxy.postgres.LocalPostgres;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

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
        shard = IdentityIT.passwordShard("http-identity", "alice", "dave", "erin");
        shard.createDatabase("tenant_a");
        Path users = dir.resolve("users.txt");
        Files.writeString(users, "\"alice\" \"" + IdentityIT.rolpassword(shard, "alice") + "\"\n" // the shard's own verifier
                + "\"dave\" \"dave-pw\"\n"
                + "\"erin\" \"" + IdentityIT.rolpassword(shard, "erin") + "\"\n");
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

    private static final String WHO = "SELECT current_user, session_user";

    /** Runs {@link #WHO} with the curl arguments that authenticate it. */
    private static Curl.Response who(String... authentication) {
        String[] args = Arrays.copyOf(authentication, authentication.length + 2);
        args[authentication.length] = "--data-binary";
        args[authentication.length + 1] = "@-";
        return Curl.run(WHO, base, args);
    }

    @Test
    void aBasicLoginReachesTheShardAsItsUserByScramPassThrough() throws Exception {
        Curl.Response response = who("-u", "alice:alice-pw");
        assertThat(response.status()).as(response.body()).isEqualTo(200);
        assertThat(JSON.readTree(response.body()).get(0).get("rows").toString()).isEqualTo("[[\"alice\",\"alice\"]]");
    }

    @Test
    void aBearerTokenReachesTheShardWithItsUsersPlaintextPassword() throws Exception {
        Curl.Response response = who("-H", "Authorization: Bearer " + DAVE_TOKEN);
        assertThat(response.status()).as(response.body()).isEqualTo(200);
        assertThat(JSON.readTree(response.body()).get(0).get("rows").toString()).isEqualTo("[[\"dave\",\"dave\"]]");
    }

    /**
     * Erin logs in nowhere else first: a server connection that a Basic login of hers left idle in the pool would
     * serve her token's session (the pool is per user), and the shard would not be asked.
     */
    @Test
    void aBearerTokenWhoseUserHasOnlyAScramVerifierIsToldWhyItCannotReachTheShard() throws Exception {
        Curl.Response response = who("-H", "Authorization: Bearer " + ERIN_TOKEN);
        assertThat(response.status()).as(response.body()).isEqualTo(502);
        JsonNode error = JSON.readTree(response.body()).get("error");
        assertThat(error.get("code").asText()).isEqualTo("SHARD_LOGIN_FAILED");
        assertThat(error.get("sqlstate").asText()).isEqualTo("08001");
        assertThat(error.get("message").asText()).contains("user \"erin\"").contains("bearer token")
                .contains("no password").contains("only a SCRAM verifier");
        assertThat(error.get("hint").asText()).contains("bearer token's login carries no password")
                .contains("plaintext password or md5 secret").contains("forces");
        // the same user with a Basic login gets through: the verifier answers its SCRAM proof
        assertThat(who("-u", "erin:erin-pw").status()).isEqualTo(200);
    }
}
