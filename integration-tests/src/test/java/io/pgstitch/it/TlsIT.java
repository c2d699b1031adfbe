package io.pgstitch.it;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.pgstitch.conf.ConfigLoader;
import io.pgstitch.conf.ProxyConfig;
import io.pgstitch.it.support.ProcessResult;
import io.pgstitch.it.support.Psql;
import io.pgstitch.proxy.server.ProxyServer;
import io.pgstitch.tls.CertificateAndKey;
import io.pgstitch.tls.SelfSignedCertificates;
import io.pgstitch.tls.TestPki;
import org.bouncycastle.jce.provider.BouncyCastleProvider;
import org.bouncycastle.openssl.PKCS8Generator;
import org.bouncycastle.openssl.jcajce.JcaPKCS8Generator;
import org.bouncycastle.openssl.jcajce.JceOpenSSLPKCS8EncryptorBuilder;
import org.bouncycastle.operator.OutputEncryptor;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManager;
import javax.net.ssl.X509TrustManager;

import java.io.IOException;
import java.math.BigInteger;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.time.Instant;
import java.util.Map;
import java.util.Properties;

import static org.assertj.core.api.Assertions.assertThat;

/** TLS towards clients: SSLRequest, verify-full against our certificate, require, CVE-2021-23214, reload. */
class TlsIT extends ProxiedTest {

    @TempDir
    Path dir;
    private TestProxy tlsProxy;
    private Path cert;
    private CertificateAndKey identity;

    @BeforeEach
    void startTlsProxy() throws Exception {
        cert = dir.resolve("server.crt");
        identity = writeIdentity();
        tlsProxy = TestProxy.start(TestProxy.standardRoutes(cluster).replace("listen: { host: 127.0.0.1, port: 0 }",
                "listen: { host: 127.0.0.1, port: 0, tls: { mode: require, cert: '" + cert + "', key: '"
                        + dir.resolve("server.key") + "' } }"));
    }

    @AfterEach
    void stopTlsProxy() {
        tlsProxy.close();
    }

    private CertificateAndKey writeIdentity() throws IOException {
        CertificateAndKey generated = SelfSignedCertificates.forLocalhost(new SecureRandom());
        Files.writeString(cert, TestPki.pem(generated.leaf()));
        Files.writeString(dir.resolve("server.key"), TestPki.pem(new JcaPKCS8Generator(generated.key(), null)));
        return generated;
    }

    @Test
    void psqlWithVerifyFullAgainstTheConfiguredCertificate() {
        Psql.assumeAvailable();
        ProcessResult result = Psql.at("127.0.0.1", tlsProxy.port()).user("postgres").database("tenant_a")
                .env("PGSSLMODE", "verify-full").env("PGSSLROOTCERT", cert.toString())
                .run("-At", "-c", "select tenant from whoami", "-c", "\\conninfo");
        assertThat(result.exitCode()).as(result.stderr()).isZero();
        assertThat(result.stdout()).contains("tenant_a").contains("SSL connection (protocol: TLSv1.3");
    }

    @Test
    void pgjdbcWithVerifyFull() throws Exception {
        Properties props = new Properties();
        props.setProperty("ssl", "true");
        props.setProperty("sslmode", "verify-full");
        props.setProperty("sslrootcert", cert.toString());
        try (Connection connection = tlsProxy.connect("tenant_b", props);
             ResultSet rs = connection.createStatement().executeQuery("select tenant from whoami")) {
            rs.next();
            assertThat(rs.getString(1)).isEqualTo("tenant_b");
        }
    }

    @Test
    void requireRefusesPlaintextClients() {
        Psql.assumeAvailable();
        ProcessResult result = Psql.at("127.0.0.1", tlsProxy.port()).user("postgres").database("tenant_a")
                .run("-c", "select 1"); // PGSSLMODE=disable
        assertThat(result.exitCode()).isNotZero();
        assertThat(result.stderr()).contains("pgstitch accepts only encrypted connections");
    }

    @Test
    void plaintextQueuedBehindAnSslRequestIsRefusedUnread() throws Exception {
        try (RawClient client = RawClient.connect(tlsProxy.port())) {
            ByteBuffer request = ByteBuffer.allocate(8).putInt(8).putInt(80877103);
            byte[] startup = RawClient.startupPacket(196608,
                    RawClient.parameters(Map.of("user", "postgres", "database", "tenant_a")));
            byte[] both = new byte[8 + startup.length];
            System.arraycopy(request.array(), 0, both, 0, 8);
            System.arraycopy(startup, 0, both, 8, startup.length);
            client.send(both); // CVE-2021-23214: plaintext smuggled behind the SSLRequest
            RawClient.Message error = client.read();
            assertThat(error.sqlState()).isEqualTo("08P01");
            assertThat(error.message()).contains("unencrypted data after SSL request");
            assertThat(client.closedByServer()).isTrue();
        }
    }

    @Test
    void plaintextQueuedBehindAGssEncRequestIsRefusedUnread() throws Exception {
        try (RawClient client = RawClient.connect(tlsProxy.port())) {
            byte[] request = ByteBuffer.allocate(8).putInt(8).putInt(80877104).array();
            byte[] startup = RawClient.startupPacket(196608,
                    RawClient.parameters(Map.of("user", "postgres", "database", "tenant_a")));
            byte[] both = new byte[8 + startup.length];
            System.arraycopy(request, 0, both, 0, 8);
            System.arraycopy(startup, 0, both, 8, startup.length);
            client.send(both);
            RawClient.Message error = client.read();
            assertThat(error.sqlState()).isEqualTo("08P01");
            assertThat(error.message()).contains("unencrypted data after GSSAPI encryption request");
            assertThat(client.closedByServer()).isTrue();
        }
    }

    @Test
    void aChangedCertificateServesNewConnectionsWhileOpenOnesGoOn() throws Exception {
        Properties props = new Properties();
        props.setProperty("sslmode", "require");
        try (Connection open = tlsProxy.connect("tenant_a", props)) {
            assertThat(peerSerial()).isEqualTo(identity.leaf().getSerialNumber());
            CertificateAndKey next = writeIdentity();
            FileTime later = FileTime.from(Instant.now().plusSeconds(10));
            Files.setLastModifiedTime(cert, later);
            Files.setLastModifiedTime(dir.resolve("server.key"), later);
            tlsProxy.server().refreshFiles(); // what the file-watch thread does within a second
            assertThat(peerSerial()).as("a new connection gets the new certificate")
                    .isEqualTo(next.leaf().getSerialNumber());
            try (ResultSet rs = open.createStatement().executeQuery("select 1")) {
                assertThat(rs.next()).as("the open connection goes on").isTrue();
            }
        }
    }

    @Test
    void anEncryptedKeyIsReadWithThePassphraseFromTheEnvironment() throws Exception {
        CertificateAndKey generated = SelfSignedCertificates.forLocalhost(new SecureRandom());
        Path encryptedCert = dir.resolve("enc.crt");
        Path encryptedKey = dir.resolve("enc.key");
        Files.writeString(encryptedCert, TestPki.pem(generated.leaf()));
        OutputEncryptor encryptor = new JceOpenSSLPKCS8EncryptorBuilder(PKCS8Generator.AES_256_CBC)
                .setProvider(new BouncyCastleProvider()).setPassword("open sesame".toCharArray()).build();
        Files.writeString(encryptedKey, TestPki.pem(new JcaPKCS8Generator(generated.key(), encryptor)));
        String yaml = TestProxy.standardRoutes(cluster).replace("listen: { host: 127.0.0.1, port: 0 }",
                "listen: { host: 127.0.0.1, port: 0, tls: { mode: require, cert: '" + encryptedCert + "', key: '"
                        + encryptedKey + "', key_passphrase: '${KEY_PASSPHRASE}' } }");
        ProxyConfig config = ConfigLoader.parse(yaml, dir, Map.of("KEY_PASSPHRASE", "open sesame")::get);
        try (ProxyServer server = ProxyServer.start(config, new SimpleMeterRegistry());
             Connection connection = DriverManager.getConnection("jdbc:postgresql://127.0.0.1:" + server.port()
                     + "/tenant_a?user=postgres&sslmode=verify-full&sslrootcert=" + encryptedCert);
             ResultSet rs = connection.createStatement().executeQuery("select tenant from whoami")) {
            rs.next();
            assertThat(rs.getString(1)).isEqualTo("tenant_a");
        }
    }

    @Test
    void pgjdbcWithDirectTls() throws Exception {
        Properties props = new Properties();
        props.setProperty("sslmode", "verify-full");
        props.setProperty("sslrootcert", cert.toString());
        props.setProperty("sslNegotiation", "direct");
        try (Connection connection = tlsProxy.connect("tenant_a", props);
             ResultSet rs = connection.createStatement().executeQuery("select tenant from whoami")) {
            rs.next();
            assertThat(rs.getString(1)).isEqualTo("tenant_a");
        }
    }

    @Test
    void directTlsWithAlpnPostgresqlLogsIn() throws Exception {
        try (RawClient client = RawClient.wrap(directTls("postgresql"))) {
            client.sendStartup(Map.of("user", "postgres", "database", "tenant_a"));
            assertThat(client.readUntil('Z').type()).isEqualTo('Z');
        }
    }

    @Test
    void directTlsWithoutAlpnIsRefused() throws Exception {
        try (RawClient client = RawClient.wrap(directTls(null))) {
            RawClient.Message error = client.read();
            assertThat(error.sqlState()).isEqualTo("08P01");
            assertThat(error.message()).contains("without ALPN");
            assertThat(client.closedByServer()).isTrue();
        }
    }

    /** A TLS connection opened directly, without SSLRequest, offering {@code alpn} (none when null). */
    private SSLSocket directTls(String alpn) throws Exception {
        SSLSocket tls = (SSLSocket) trustAll().getSocketFactory().createSocket("127.0.0.1", tlsProxy.port());
        if (alpn != null) {
            SSLParameters parameters = tls.getSSLParameters();
            parameters.setApplicationProtocols(new String[] {alpn});
            tls.setSSLParameters(parameters);
        }
        tls.startHandshake();
        return tls;
    }

    /** The serial of the certificate a new TLS connection is shown: SSLRequest, 'S', handshake. */
    private BigInteger peerSerial() throws Exception {
        try (Socket plain = new Socket("127.0.0.1", tlsProxy.port())) {
            plain.getOutputStream().write(ByteBuffer.allocate(8).putInt(8).putInt(80877103).array());
            assertThat(plain.getInputStream().read()).isEqualTo('S');
            try (SSLSocket tls = (SSLSocket) trustAll().getSocketFactory().createSocket(plain, "127.0.0.1",
                    tlsProxy.port(), false)) {
                tls.startHandshake();
                return ((X509Certificate) tls.getSession().getPeerCertificates()[0]).getSerialNumber();
            }
        }
    }

    private static SSLContext trustAll() throws Exception {
        SSLContext trustAll = SSLContext.getInstance("TLS");
        trustAll.init(null, new TrustManager[] {new X509TrustManager() {
            @Override
            public void checkClientTrusted(X509Certificate[] chain, String authType) {
            }

            @Override
            public void checkServerTrusted(X509Certificate[] chain, String authType) {
            }

            @Override
            public X509Certificate[] getAcceptedIssuers() {
                return new X509Certificate[0];
            }
        }}, new SecureRandom());
        return trustAll;
    }
}
