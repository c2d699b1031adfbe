package io.pgstitch.it;

import io.micrometer.core.instrument.Counter;
import io.pgstitch.it.support.ProcessResult;
import io.pgstitch.it.support.Psql;
import io.pgstitch.protocol.auth.Md5Password;
import io.pgstitch.protocol.auth.ScramVerifier;
import io.pgstitch.tls.CertificateAndKey;
import io.pgstitch.tls.TestPki;
import org.bouncycastle.openssl.jcajce.JcaPKCS8Generator;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermissions;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Properties;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Client authentication with real clients: SCRAM-SHA-256 (and -PLUS with channel_binding=require) from psql and
 * PgJDBC over TLS verified against a CA the test made, md5, cleartext password only over TLS, auth.rules,
 * unknown users that look like wrong passwords, the users file reloaded, malformed SASL over a raw socket,
 * client certificates, and SCRAM-SHA-256-PLUS towards a shard (a second pgstitch).
 */
class AuthIT extends ProxiedTest {

    @TempDir
    static Path dir;
    private static TestPki pki;
    private static Path caFile;
    private static Path users;
    private static TestProxy auth;

    @BeforeAll
    static void startAuthProxy() throws Exception {
        pki = TestPki.create("pgstitch AuthIT CA");
        caFile = pki.writeCa(dir.resolve("ca.crt"));
        CertificateAndKey server = pki.issue("CN=localhost", List.of("localhost"), List.of("127.0.0.1"));
        Files.writeString(dir.resolve("server.crt"), TestPki.pem(server.leaf()));
        Files.writeString(dir.resolve("server.key"), TestPki.pem(new JcaPKCS8Generator(server.key(), null)));
        users = dir.resolve("users.txt");
        writeUsers("alice-pw");
        auth = TestProxy.start(TestProxy.standardRoutes(cluster).replace("""
                listen: { host: 127.0.0.1, port: 0 }
                auth: { method: trust }
                """, """
                listen:
                  host: 127.0.0.1
                  port: 0
                  tls: { mode: prefer, cert: '%s', key: '%s' }
                auth:
                  method: scram-sha-256
                  users_file: '%s'
                  auth_timeout: 2s
                  rules:
                    - { user: mallory, method: reject }
                    - { database: tenant_b, user: bob, method: md5 }
                    - { user: bob, method: reject }
                    - { user: carol, method: password }
                """.formatted(dir.resolve("server.crt"), dir.resolve("server.key"), users)));
    }

    @AfterAll
    static void stopAuthProxy() {
        if (auth != null) {
            auth.close();
        }
    }

    /** alice: a SCRAM secret; bob: an md5 hash; carol: plaintext. */
    private static void writeUsers(String alicePassword) throws Exception {
        Files.writeString(users, """
                ; written by AuthIT
                "alice" "%s"
                "bob" "%s"
                "carol" "carol-pw"
                """.formatted(ScramVerifier.fromPassword(alicePassword).encoded(), Md5Password.hash("bob", "bob-pw")));
    }

    private static Psql psql(String user, String password) {
        return Psql.at("127.0.0.1", auth.port()).user(user).database("tenant_a").env("PGPASSWORD", password)
                .env("PGPASSFILE", "/dev/null");
    }

    /** psql verifying the proxy's certificate against the test CA, as a careful user connects. */
    private static Psql verifiedPsql(String user, String password) {
        return psql(user, password).env("PGSSLMODE", "verify-full").env("PGSSLROOTCERT", caFile.toString());
    }

    private static double logins(String method, String outcome) {
        Counter counter = auth.server().meters().find("pgstitch.client.logins").tag("method", method)
                .tag("outcome", outcome).counter();
        return counter == null ? 0 : counter.count();
    }

    @Test
    void psqlWithVerifyFullAndChannelBindingRequired() {
        Psql.assumeAvailable();
        double before = logins("scram-sha-256-plus", "ok");
        ProcessResult result = verifiedPsql("alice", "alice-pw").env("PGCHANNELBINDING", "require")
                .run("-w", "-At", "-c", "select tenant from whoami", "-c", "\\conninfo");
        assertThat(result.exitCode()).as(result.stderr()).isZero();
        assertThat(result.stdout()).startsWith("tenant_a\n").contains("SSL connection (protocol: TLSv1.3");
        assertThat(logins("scram-sha-256-plus", "ok")).isEqualTo(before + 1);
    }

    @Test
    void scramWithoutChannelBindingOverTlsAndOverPlaintext() {
        Psql.assumeAvailable();
        double before = logins("scram-sha-256", "ok");
        ProcessResult tls = verifiedPsql("alice", "alice-pw").env("PGCHANNELBINDING", "disable")
                .run("-w", "-At", "-c", "select 1");
        assertThat(tls.exitCode()).as(tls.stderr()).isZero();
        ProcessResult plaintext = psql("alice", "alice-pw").run("-w", "-At", "-c", "select 2");
        assertThat(plaintext.exitCode()).as(plaintext.stderr()).isZero();
        assertThat(plaintext.stdout().trim()).isEqualTo("2");
        assertThat(logins("scram-sha-256", "ok")).isEqualTo(before + 2);
    }

    @Test
    void aWrongPasswordAndAnUnknownUserGetTheSameAnswer() {
        Psql.assumeAvailable();
        ProcessResult wrong = verifiedPsql("alice", "not-it").run("-w", "-c", "select 1");
        ProcessResult unknown = verifiedPsql("nobody", "not-it").run("-w", "-c", "select 1");
        ProcessResult noPassword = verifiedPsql("alice", "").run("-w", "-c", "select 1");
        assertThat(wrong.exitCode()).isNotZero();
        assertThat(wrong.stderr()).contains("FATAL:  password authentication failed for user \"alice\"");
        assertThat(unknown.exitCode()).isNotZero();
        assertThat(unknown.stderr().replace("nobody", "alice")).isEqualTo(wrong.stderr());
        assertThat(noPassword.exitCode()).isNotZero();
        assertThat(noPassword.stderr()).contains("no password supplied");
    }

    @Test
    void pgjdbcWithVerifyFullAndChannelBinding() throws Exception {
        Properties props = new Properties();
        props.setProperty("user", "alice");
        props.setProperty("password", "alice-pw");
        props.setProperty("ssl", "true");
        props.setProperty("sslmode", "verify-full");
        props.setProperty("sslrootcert", caFile.toString());
        props.setProperty("channelBinding", "require");
        try (Connection connection = auth.connect("tenant_b", props);
             ResultSet rs = connection.createStatement().executeQuery("select tenant from whoami")) {
            rs.next();
            assertThat(rs.getString(1)).isEqualTo("tenant_b");
        }
        props.setProperty("password", "wrong");
        assertThatThrownBy(() -> auth.connect("tenant_b", props).close())
                .isInstanceOfSatisfying(SQLException.class, e -> {
                    assertThat(e.getSQLState()).isEqualTo("28P01");
                    assertThat(e.getMessage()).contains("password authentication failed for user \"alice\"");
                });
    }

    @Test
    void md5ByRuleAndCleartextOnlyOverTls() throws Exception {
        Psql.assumeAvailable();
        ProcessResult md5 = psql("bob", "bob-pw").database("tenant_b").run("-w", "-At", "-c",
                "select tenant from whoami");
        assertThat(md5.exitCode()).as(md5.stderr()).isZero();
        assertThat(md5.stdout().trim()).isEqualTo("tenant_b");
        ProcessResult md5Wrong = psql("bob", "nope").database("tenant_b").run("-w", "-c", "select 1");
        assertThat(md5Wrong.stderr()).contains("password authentication failed for user \"bob\"");
        // bob is confined to tenant_b: the next rule rejects him everywhere else
        ProcessResult elsewhere = psql("bob", "bob-pw").run("-w", "-c", "select 1");
        assertThat(elsewhere.stderr()).contains("auth.rules rejects connection for host \"127.0.0.1\", user \"bob\", "
                + "database \"tenant_a\", no encryption");

        ProcessResult cleartext = verifiedPsql("carol", "carol-pw").run("-w", "-At", "-c", "select 3");
        assertThat(cleartext.exitCode()).as(cleartext.stderr()).isZero();
        assertThat(cleartext.stdout().trim()).isEqualTo("3");
        ProcessResult plaintext = psql("carol", "carol-pw").run("-w", "-c", "select 1");
        assertThat(plaintext.exitCode()).isNotZero();
        assertThat(plaintext.stderr()).contains("password authentication without TLS is refused");
        Properties props = new Properties();
        props.setProperty("user", "carol");
        props.setProperty("password", "carol-pw");
        props.setProperty("sslmode", "disable");
        assertThatThrownBy(() -> auth.connect("tenant_a", props).close())
                .isInstanceOfSatisfying(SQLException.class, e -> assertThat(e.getSQLState()).isEqualTo("28000"));
    }

    @Test
    void aRejectRuleRefusesByName() {
        Psql.assumeAvailable();
        ProcessResult result = verifiedPsql("mallory", "x").run("-w", "-c", "select 1");
        assertThat(result.exitCode()).isNotZero();
        assertThat(result.stderr()).contains("auth.rules rejects connection for host \"127.0.0.1\", user "
                + "\"mallory\", database \"tenant_a\", SSL encryption");
    }

    @Test
    void theUsersFileIsReloadedWhenItChanges() throws Exception {
        Psql.assumeAvailable();
        try {
            writeUsers("new-alice-pw");
            // the reload is noticed by the file's size or modification time: make sure the time moves
            Files.setLastModifiedTime(users, FileTime.from(Instant.now().plusSeconds(5)));
            auth.server().refreshFiles(); // what the file-watch thread does within a second
            ProcessResult fresh = psql("alice", "new-alice-pw").run("-w", "-At", "-c", "select 1");
            assertThat(fresh.exitCode()).as(fresh.stderr()).isZero();
            ProcessResult stale = psql("alice", "alice-pw").run("-w", "-c", "select 1");
            assertThat(stale.stderr()).contains("password authentication failed for user \"alice\"");
            Files.writeString(users, "\"alice\" broken line\n");
            Files.setLastModifiedTime(users, FileTime.from(Instant.now().plusSeconds(10)));
            auth.server().refreshFiles();
            ProcessResult kept = psql("alice", "new-alice-pw").run("-w", "-At", "-c", "select 1");
            assertThat(kept.exitCode()).as("a broken file leaves the previous one in force: " + kept.stderr())
                    .isZero();
        } finally {
            writeUsers("alice-pw");
            Files.setLastModifiedTime(users, FileTime.from(Instant.now().plusSeconds(15)));
            auth.server().refreshFiles();
        }
    }

    // ---- raw SASL: what no real client sends ----

    private static RawClient startScram(String user) throws Exception {
        RawClient client = RawClient.connect(auth.port());
        client.sendStartup(Map.of("user", user, "database", "tenant_a"));
        RawClient.Message sasl = client.read();
        assertThat(sasl.type()).isEqualTo('R');
        assertThat(new String(sasl.body(), 4, sasl.body().length - 4, StandardCharsets.US_ASCII))
                .isEqualTo("SCRAM-SHA-256\0\0"); // plaintext: no -PLUS
        return client;
    }

    private static byte[] saslInitialResponse(String mechanism, byte[] data, int declaredLength) {
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        body.writeBytes(mechanism.getBytes(StandardCharsets.US_ASCII));
        body.write(0);
        body.write(declaredLength >>> 24);
        body.write(declaredLength >>> 16);
        body.write(declaredLength >>> 8);
        body.write(declaredLength);
        body.writeBytes(data);
        return body.toByteArray();
    }

    /** Sends client-first and returns server-first ("r=...,s=...,i=..."). */
    private static String serverFirst(RawClient client, String clientNonce) throws Exception {
        byte[] first = ("n,,n=,r=" + clientNonce).getBytes(StandardCharsets.US_ASCII);
        client.send('p', saslInitialResponse("SCRAM-SHA-256", first, first.length));
        RawClient.Message answer = client.read();
        assertThat(answer.type()).isEqualTo('R');
        assertThat(answer.body()[3]).isEqualTo((byte) 11); // AuthenticationSASLContinue
        return new String(answer.body(), 4, answer.body().length - 4, StandardCharsets.US_ASCII);
    }

    @Test
    void anUnknownUserGetsAFullExchangeWithAStableSalt() throws Exception {
        String[] salts = new String[2];
        for (int i = 0; i < 2; i++) {
            try (RawClient client = startScram("nobody")) {
                String serverFirst = serverFirst(client, "abcdef");
                assertThat(serverFirst).startsWith("r=abcdef").contains(",i=4096");
                salts[i] = serverFirst.substring(serverFirst.indexOf(",s=") + 3, serverFirst.indexOf(",i="));
                String nonce = serverFirst.substring(2, serverFirst.indexOf(','));
                String proof = java.util.Base64.getEncoder().encodeToString(new byte[32]);
                client.send('p', ("c=biws,r=" + nonce + ",p=" + proof).getBytes(StandardCharsets.US_ASCII));
                RawClient.Message error = client.read();
                assertThat(error.type()).isEqualTo('E');
                assertThat(error.sqlState()).isEqualTo("28P01");
                assertThat(error.message()).isEqualTo("password authentication failed for user \"nobody\"");
                assertThat(client.closedByServer()).isTrue();
            }
        }
        assertThat(salts[0]).isEqualTo(salts[1]).isNotEmpty();
    }

    @Test
    void malformedSaslIsAProtocolViolation() throws Exception {
        try (RawClient client = startScram("alice")) { // a data length near Integer.MAX_VALUE
            client.send('p', saslInitialResponse("SCRAM-SHA-256", "n,,n=,r=x".getBytes(StandardCharsets.US_ASCII),
                    Integer.MAX_VALUE - 1));
            assertProtocolViolation(client,
                    "invalid message: SASLInitialResponse data has length 2147483646 but only 9 bytes follow");
        }
        try (RawClient client = startScram("alice")) {
            byte[] first = "n,,n=,r=x".getBytes(StandardCharsets.US_ASCII);
            client.send('p', saslInitialResponse("SCRAM-SHA-1", first, first.length));
            assertProtocolViolation(client, "client selected an invalid SASL authentication mechanism");
        }
        try (RawClient client = startScram("alice")) { // the nonce of client-final is not the one agreed on
            String serverFirst = serverFirst(client, "abc");
            assertThat(serverFirst).startsWith("r=abc");
            client.send('p', ("c=biws,r=abcOTHER,p=" + java.util.Base64.getEncoder().encodeToString(new byte[32]))
                    .getBytes(StandardCharsets.US_ASCII));
            assertProtocolViolation(client, "invalid SCRAM response");
        }
        try (RawClient client = startScram("alice")) { // a query before the exchange is done
            client.send('Q', "select 1\0".getBytes(StandardCharsets.US_ASCII));
            assertProtocolViolation(client, "expected SASL response, got message type Q");
        }
        try (RawClient client = startScram("alice")) { // more than an exchange message may be, before login
            client.send('p', new byte[70_000]);
            RawClient.Message error = client.readUntil('E');
            assertThat(error.sqlState()).isEqualTo("08P01");
            assertThat(client.closedByServer()).isTrue();
        }
    }

    private static void assertProtocolViolation(RawClient client, String message) throws Exception {
        RawClient.Message error = client.read();
        assertThat(error.type()).isEqualTo('E');
        assertThat(error.fields().get('S')).isEqualTo("FATAL");
        assertThat(error.sqlState()).isEqualTo("08P01");
        assertThat(error.message()).startsWith(message);
        assertThat(client.closedByServer()).isTrue();
    }

    @Test
    void aClientThatNeverAnswersTheChallengeIsTimedOut() throws Exception {
        try (RawClient client = startScram("alice")) { // auth_timeout: 2s; nothing is sent after the startup
            RawClient.Message error = client.read();
            assertThat(error.type()).isEqualTo('E');
            assertThat(error.sqlState()).isEqualTo("57014");
            assertThat(error.message()).isEqualTo("canceling authentication due to timeout");
            assertThat(client.closedByServer()).isTrue();
        }
    }

    @Test
    void strangersWhoNeverAnswerDoNotTakeADatabasesSlots() throws Exception {
        Psql.assumeAvailable();
        String yaml = TestProxy.standardRoutes(cluster).replace("""
                listen: { host: 127.0.0.1, port: 0 }
                auth: { method: trust }
                """, """
                listen: { host: 127.0.0.1, port: 0, max_client_connections_per_database: 1 }
                auth: { method: scram-sha-256, users_file: '%s' }
                """.formatted(users));
        try (TestProxy limited = TestProxy.start(yaml); RawClient stranger = RawClient.connect(limited.port())) {
            stranger.sendStartup(Map.of("user", "nobody", "database", "tenant_a"));
            assertThat(stranger.read().type()).isEqualTo('R'); // asked for a password it will never send
            ProcessResult alice = Psql.at("127.0.0.1", limited.port()).user("alice").database("tenant_a")
                    .env("PGPASSWORD", "alice-pw").env("PGPASSFILE", "/dev/null")
                    .run("-w", "-At", "-c", "select tenant from whoami");
            assertThat(alice.exitCode()).as(alice.stderr()).isZero();
            assertThat(alice.stdout().trim()).isEqualTo("tenant_a");
        }
    }

    // ---- client certificates ----

    @Test
    void clientCertificatesVerifyFull() throws Exception {
        Psql.assumeAvailable();
        CertificateAndKey alice = pki.issue("CN=alice", List.of(), List.of());
        Path aliceCert = Files.writeString(dir.resolve("alice.crt"), TestPki.pem(alice.leaf()));
        Path aliceKey = dir.resolve("alice.key");
        Files.writeString(aliceKey, TestPki.pem(new JcaPKCS8Generator(alice.key(), null)));
        Files.setPosixFilePermissions(aliceKey, PosixFilePermissions.fromString("rw-------")); // libpq insists
        CertificateAndKey stranger = TestPki.create("another CA").issue("CN=alice", List.of(), List.of());
        Path strangerCert = Files.writeString(dir.resolve("stranger.crt"), TestPki.pem(stranger.leaf()));
        Path strangerKey = dir.resolve("stranger.key");
        Files.writeString(strangerKey, TestPki.pem(new JcaPKCS8Generator(stranger.key(), null)));
        Files.setPosixFilePermissions(strangerKey, PosixFilePermissions.fromString("rw-------"));

        try (TestProxy certs = TestProxy.start(TestProxy.standardRoutes(cluster).replace("""
                listen: { host: 127.0.0.1, port: 0 }
                """, """
                listen:
                  host: 127.0.0.1
                  port: 0
                  tls: { mode: require, cert: '%s', key: '%s', ca: '%s', client_cert: verify-full }
                """.formatted(dir.resolve("server.crt"), dir.resolve("server.key"), caFile)))) {
            ProcessResult ok = certPsql(certs, "alice", aliceCert, aliceKey).run("-At", "-c", "select 1");
            assertThat(ok.exitCode()).as(ok.stderr()).isZero();
            ProcessResult otherName = certPsql(certs, "bob", aliceCert, aliceKey).run("-c", "select 1");
            assertThat(otherName.exitCode()).isNotZero();
            assertThat(otherName.stderr()).contains("certificate authentication failed for user \"bob\"");
            ProcessResult otherCa = certPsql(certs, "alice", strangerCert, strangerKey).run("-c", "select 1");
            assertThat(otherCa.exitCode()).isNotZero();
            assertThat(otherCa.stderr()).contains("SSL error: sslv3 alert certificate unknown");
            ProcessResult none = Psql.at("127.0.0.1", certs.port()).user("alice").database("tenant_a")
                    .env("PGSSLMODE", "verify-full").env("PGSSLROOTCERT", caFile.toString())
                    .env("PGSSLCERT", dir.resolve("absent.crt").toString()).run("-c", "select 1");
            assertThat(none.exitCode()).isNotZero();
            assertThat(none.stderr()).contains("SSL error: sslv3 alert bad certificate");
        }
    }

    private static Psql certPsql(TestProxy proxy, String user, Path cert, Path key) {
        return Psql.at("127.0.0.1", proxy.port()).user(user).database("tenant_a").env("PGSSLMODE", "verify-full")
                .env("PGSSLROOTCERT", caFile.toString()).env("PGSSLCERT", cert.toString())
                .env("PGSSLKEY", key.toString());
    }

    // ---- towards a shard: SCRAM-SHA-256-PLUS when the shard connection has TLS ----

    @Test
    void shardLoginUsesScramPlusOverTls() throws Exception {
        double before = logins("scram-sha-256-plus", "ok");
        // the front proxy's shard is the auth proxy: TLS verified against the CA, SCRAM as alice
        try (TestProxy front = TestProxy.start("""
                listen: { host: 127.0.0.1, port: 0 }
                shards:
                  inner: { host: 127.0.0.1, port: %d, user: alice, password: alice-pw, tls: verify-full,
                           tls_ca: '%s' }
                default_route: inner
                """.formatted(auth.port(), caFile));
             Connection connection = front.connect("tenant_a");
             ResultSet rs = connection.createStatement().executeQuery("select tenant from whoami")) {
            rs.next();
            assertThat(rs.getString(1)).isEqualTo("tenant_a");
        }
        assertThat(logins("scram-sha-256-plus", "ok")).isGreaterThan(before);
    }
}
