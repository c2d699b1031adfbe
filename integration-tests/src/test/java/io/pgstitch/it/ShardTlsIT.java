package io.pgstitch.it;

import io.pgstitch.proxy.postgres.LocalPostgres;
import io.pgstitch.proxy.postgres.PostgresBinaries;
import io.pgstitch.tls.CertificateAndKey;
import io.pgstitch.tls.SelfSignedCertificates;
import io.pgstitch.tls.TestPki;
import org.bouncycastle.openssl.jcajce.JcaPKCS8Generator;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * TLS towards shards: a shard with TLS on that requires SCRAM, every {@code tls} mode, a wrong CA, a shard
 * without TLS, and fake shards that answer the SSLRequest with plaintext behind their 'S' (CVE-2021-23222) or
 * with an ErrorResponse.
 */
class ShardTlsIT {

    private static final String PASSWORD = "tls-secret";
    private static Path dir;
    private static LocalPostgres tlsShard;
    private static LocalPostgres plainShard;

    @BeforeAll
    static void start() throws Exception {
        dir = Files.createTempDirectory("pgstitch-shard-tls");
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x")); // the server reads it
        CertificateAndKey identity = SelfSignedCertificates.forLocalhost(new SecureRandom());
        Files.writeString(dir.resolve("server.crt"), TestPki.pem(identity.leaf()));
        Files.writeString(dir.resolve("server.key"), TestPki.pem(new JcaPKCS8Generator(identity.key(), null)));
        Files.setPosixFilePermissions(dir.resolve("server.key"), PosixFilePermissions.fromString("rw-------"));
        Files.writeString(dir.resolve("other-ca.crt"), TestPki.pem(SelfSignedCertificates.forLocalhost(new SecureRandom())
                .leaf()));
        if ("root".equals(System.getProperty("user.name"))) { // PostgreSQL then runs as nobody: it must own the key
            new ProcessBuilder("chown", "nobody", dir.resolve("server.key").toString(),
                    dir.resolve("server.crt").toString()).inheritIO().start().waitFor();
        }
        PostgresBinaries binaries = PostgresBinaries.resolve();
        tlsShard = LocalPostgres.builder(binaries).name("tls-shard").password(PASSWORD).hostAuth("scram-sha-256")
                .setting("ssl", "on").setting("ssl_cert_file", dir.resolve("server.crt").toString())
                .setting("ssl_key_file", dir.resolve("server.key").toString()).start();
        plainShard = LocalPostgres.builder(binaries).name("plain-shard").password(PASSWORD).start();
    }

    @AfterAll
    static void stop() throws IOException {
        if (tlsShard != null) {
            tlsShard.close();
        }
        if (plainShard != null) {
            plainShard.close();
        }
    }

    private static String config(int port, String tls) {
        return """
                listen: { host: 127.0.0.1, port: 0 }
                shards:
                  s: { host: 127.0.0.1, port: %d, user: postgres, password: %s, %s }
                default_route: s
                """.formatted(port, PASSWORD, tls);
    }

    /** Whether the shard sees this session's connection as TLS, and its user. */
    private static String sslAndUser(String yaml) throws Exception {
        try (TestProxy proxy = TestProxy.start(yaml);
             Connection connection = proxy.connect("postgres");
             ResultSet rs = connection.createStatement().executeQuery(
                     "select ssl, current_user from pg_stat_ssl where pid = pg_backend_pid()")) {
            rs.next();
            return rs.getBoolean(1) + " " + rs.getString(2);
        }
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"prefer", "require", "verify-ca", "verify-full"})
    void everyModeThatAsksForTlsGetsItFromAShardThatOffersIt(String mode) throws Exception {
        String ca = mode.startsWith("verify") ? ", tls_ca: '" + dir.resolve("server.crt") + "'" : "";
        assertThat(sslAndUser(config(tlsShard.port(), "tls: " + mode + ca))).isEqualTo("true postgres");
    }

    @Test
    void disableStaysInPlaintextAndPreferFallsBackToIt() throws Exception {
        assertThat(sslAndUser(config(tlsShard.port(), "tls: disable"))).isEqualTo("false postgres");
        assertThat(sslAndUser(config(plainShard.port(), "tls: prefer"))).isEqualTo("false postgres");
    }

    @Test
    void requireRefusesAShardWithoutTls() throws Exception {
        try (TestProxy proxy = TestProxy.start(config(plainShard.port(), "tls: require"))) {
            assertThatThrownBy(() -> proxy.connect("postgres").close())
                    .isInstanceOfSatisfying(SQLException.class, e -> assertThat(e.getMessage())
                            .contains("does not accept TLS, which shards.s.tls: require requires"));
        }
    }

    @Test
    void verifyCaRefusesACertificateFromAnotherCa() throws Exception {
        try (TestProxy proxy = TestProxy.start(config(tlsShard.port(),
                "tls: verify-ca, tls_ca: '" + dir.resolve("other-ca.crt") + "'"))) {
            assertThatThrownBy(() -> proxy.connect("postgres").close())
                    .isInstanceOfSatisfying(SQLException.class, e -> assertThat(e.getMessage())
                            .contains("shard \"s\"").contains("TLS handshake failed"));
        }
    }

    @Test
    void aChangedTlsCaIsReadAgain() throws Exception {
        Path ca = dir.resolve("changing-ca.crt");
        Files.copy(dir.resolve("other-ca.crt"), ca, StandardCopyOption.REPLACE_EXISTING);
        try (TestProxy proxy = TestProxy.start(config(tlsShard.port(), "tls: verify-ca, tls_ca: '" + ca + "'"))) {
            assertThatThrownBy(() -> proxy.connect("postgres").close()).isInstanceOf(SQLException.class);
            Files.copy(dir.resolve("server.crt"), ca, StandardCopyOption.REPLACE_EXISTING);
            Files.setLastModifiedTime(ca, FileTime.fromMillis(System.currentTimeMillis() + 10_000));
            proxy.server().refreshFiles(); // what the file-watch thread does once a second
            try (Connection connection = proxy.connect("postgres");
                 ResultSet rs = connection.createStatement().executeQuery(
                         "select ssl from pg_stat_ssl where pid = pg_backend_pid()")) {
                rs.next();
                assertThat(rs.getBoolean(1)).isTrue();
            }
        }
    }

    @Test
    void plaintextBehindTheShardsSAbortsTheConnection() throws Exception {
        try (FakeShard fake = new FakeShard("Sgarbage".getBytes(StandardCharsets.US_ASCII));
             TestProxy proxy = TestProxy.start(config(fake.port(), "tls: require"))) {
            assertThatThrownBy(() -> proxy.connect("postgres").close())
                    .isInstanceOfSatisfying(SQLException.class, e -> assertThat(e.getMessage())
                            .contains("sent unencrypted data after its SSL response (CVE-2021-23222)"));
        }
    }

    @Test
    void anErrorResponseToTheSslRequestIsNotRelayed() throws Exception {
        byte[] error = "E\0\0\0\"SFATAL\0C0A000\0Mfrom the fake\0\0".getBytes(StandardCharsets.US_ASCII);
        try (FakeShard fake = new FakeShard(error);
             TestProxy proxy = TestProxy.start(config(fake.port(), "tls: prefer"))) {
            assertThatThrownBy(() -> proxy.connect("postgres").close())
                    .isInstanceOfSatisfying(SQLException.class, e -> assertThat(e.getMessage())
                            .contains("answered the SSL request with an error").doesNotContain("from the fake"));
        }
    }

    /** Answers the 8-byte SSLRequest of every connection with fixed bytes, then waits for the peer to close. */
    private static final class FakeShard implements AutoCloseable {

        private final ServerSocket listener = new ServerSocket(0, 10, InetAddress.getByName("127.0.0.1"));

        FakeShard(byte[] answer) throws IOException {
            Thread thread = new Thread(() -> {
                while (!listener.isClosed()) {
                    try (Socket socket = listener.accept(); InputStream in = socket.getInputStream();
                         OutputStream out = socket.getOutputStream()) {
                        in.readNBytes(8);
                        out.write(answer);
                        out.flush();
                        in.read(); // until pgstitch gives up on us
                    } catch (IOException e) {
                        // closed
                    }
                }
            }, "fake-shard");
            thread.setDaemon(true);
            thread.start();
        }

        int port() {
            return listener.getLocalPort();
        }

        @Override
        public void close() throws IOException {
            listener.close();
        }
    }
}
