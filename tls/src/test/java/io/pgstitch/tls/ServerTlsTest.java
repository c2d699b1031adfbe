package io.pgstitch.tls;

import io.netty.buffer.ByteBufAllocator;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.util.InsecureTrustManagerFactory;
import org.bouncycastle.openssl.jcajce.JcaPKCS8Generator;
import org.bouncycastle.openssl.jcajce.JceOpenSSLPKCS8EncryptorBuilder;
import org.bouncycastle.openssl.jcajce.JcaMiscPEMGenerator;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.time.Instant;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class ServerTlsTest {

    private static final SecureRandom RANDOM = new SecureRandom();

    private static String pem(Object object) throws IOException {
        return TestPki.pem(object);
    }

    private static void writeIdentity(CertificateAndKey identity, Path cert, Path key, String keyPem)
            throws IOException {
        Files.writeString(cert, pem(identity.leaf()));
        Files.writeString(key, keyPem);
    }

    @Test
    void selfSignedCertificatesCoverLocalhostAndHaveAFingerprint() throws Exception {
        CertificateAndKey identity = SelfSignedCertificates.forLocalhost(RANDOM);
        assertThat(identity.leaf().getSubjectAlternativeNames()).extracting(name -> (Object) name.get(1))
                .containsExactly((Object) "localhost", "127.0.0.1");
        assertThat(identity.sha256Fingerprint()).matches("([0-9A-F]{2}:){31}[0-9A-F]{2}");
        assertThat(handshake(ServerTls.build(identity))).isIn("TLSv1.3", "TLSv1.2");
    }

    @Test
    void pkcs8Pkcs1AndEncryptedKeysLoad(@TempDir Path dir) throws Exception {
        CertificateAndKey ec = SelfSignedCertificates.forLocalhost(RANDOM);
        Path cert = dir.resolve("server.crt");
        Path key = dir.resolve("server.key");

        writeIdentity(ec, cert, key, pem(new JcaPKCS8Generator(ec.key(), null)));
        assertThat(PemFiles.load(cert, key, null).key().getAlgorithm()).isEqualTo("EC");

        // SEC1 "EC PRIVATE KEY", as `openssl ecparam -genkey -name prime256v1 -noout` writes it (a test fixture)
        Path sec1 = Path.of(ServerTlsTest.class.getResource("/ec-sec1.key").toURI());
        assertThat(PemFiles.readPrivateKey(sec1, null).getAlgorithm()).isIn("EC", "ECDSA");

        KeyPairGenerator rsa = KeyPairGenerator.getInstance("RSA");
        rsa.initialize(2048, RANDOM);
        PrivateKey rsaKey = rsa.generateKeyPair().getPrivate();
        Files.writeString(key, pem(new JcaMiscPEMGenerator(rsaKey))); // PKCS#1 "RSA PRIVATE KEY"
        assertThat(PemFiles.readPrivateKey(key, null).getAlgorithm()).isEqualTo("RSA");

        char[] passphrase = "s3cret".toCharArray();
        var encryptor = new JceOpenSSLPKCS8EncryptorBuilder(JcaPKCS8Generator.AES_256_CBC).setRandom(RANDOM)
                .setProvider(new org.bouncycastle.jce.provider.BouncyCastleProvider())
                .setPassword(passphrase).build();
        Files.writeString(key, pem(new JcaPKCS8Generator(ec.key(), encryptor)));
        assertThat(PemFiles.readPrivateKey(key, passphrase).getEncoded()).isEqualTo(ec.key().getEncoded());
        assertThatThrownBy(() -> PemFiles.readPrivateKey(key, null)).hasMessageContaining("no passphrase");
        assertThatThrownBy(() -> PemFiles.readPrivateKey(key, "wrong".toCharArray()))
                .hasMessageContaining("wrong passphrase");
    }

    @Test
    void filesWithoutPemContentAreNamed(@TempDir Path dir) throws Exception {
        Path empty = dir.resolve("empty.pem");
        Files.writeString(empty, "not pem\n");
        assertThatThrownBy(() -> PemFiles.readCertificates(empty)).hasMessageContaining(empty + ": no PEM certificate");
        assertThatThrownBy(() -> PemFiles.readPrivateKey(empty, null)).hasMessageContaining("no PEM private key");
    }

    @Test
    void changedFilesAreReloadedForNewConnectionsAndBrokenOnesIgnored(@TempDir Path dir) throws Exception {
        Path cert = dir.resolve("server.crt");
        Path key = dir.resolve("server.key");
        CertificateAndKey first = SelfSignedCertificates.forLocalhost(RANDOM);
        writeIdentity(first, cert, key, pem(new JcaPKCS8Generator(first.key(), null)));
        ServerTls tls = ServerTls.fromFiles(cert, key, null);
        SslContext before = tls.get();
        assertThat(tls.get()).as("unchanged files: same context").isSameAs(before);

        CertificateAndKey second = SelfSignedCertificates.forLocalhost(RANDOM);
        writeIdentity(second, cert, key, pem(new JcaPKCS8Generator(second.key(), null)));
        touch(cert, key, 10);
        assertThat(tls.get()).as("a new connection never touches the files").isSameAs(before);
        assertThat(tls.reloadIfChanged()).isTrue();
        SslContext after = tls.get();
        assertThat(after).isNotSameAs(before);
        assertThat(tls.identity().leaf().getSerialNumber()).isEqualTo(second.leaf().getSerialNumber());
        assertThat(handshake(after)).isNotNull();

        Files.writeString(key, "garbage");
        touch(cert, key, 20);
        assertThat(tls.reloadIfChanged()).isFalse();
        assertThat(tls.get()).as("a broken file keeps the previous context").isSameAs(after);
    }

    @Test
    void fromFilesDecryptsAnEncryptedKeyWithThePassphrase(@TempDir Path dir) throws Exception {
        CertificateAndKey identity = SelfSignedCertificates.forLocalhost(RANDOM);
        Path cert = dir.resolve("server.crt");
        Path key = dir.resolve("server.key");
        char[] passphrase = "s3cret".toCharArray();
        var encryptor = new JceOpenSSLPKCS8EncryptorBuilder(JcaPKCS8Generator.AES_256_CBC).setRandom(RANDOM)
                .setProvider(new org.bouncycastle.jce.provider.BouncyCastleProvider())
                .setPassword(passphrase).build();
        writeIdentity(identity, cert, key, pem(new JcaPKCS8Generator(identity.key(), encryptor)));
        ServerTls tls = ServerTls.fromFiles(cert, key, passphrase);
        passphrase[0] = 'x'; // the caller may wipe its copy: a reload still needs the passphrase
        assertThat(handshake(tls.get())).isNotNull();
        touch(cert, key, 10);
        assertThat(tls.reloadIfChanged()).as("the reload still has the passphrase").isTrue();
        assertThat(tls.identity().key().getEncoded()).isEqualTo(identity.key().getEncoded());
        assertThatThrownBy(() -> ServerTls.fromFiles(cert, key, null)).hasMessageContaining("no passphrase");
    }

    @Test
    void aChangedCaBundleIsReloadedToo(@TempDir Path dir) throws Exception {
        TestPki first = TestPki.create("first CA");
        Path ca = first.writeCa(dir.resolve("ca.pem"));
        ServerTls tls = ServerTls.selfSigned(RANDOM, ca);
        SslContext before = tls.get();
        assertThat(tls.get()).isSameAs(before);
        TestPki.create("second CA").writeCa(ca);
        Files.setLastModifiedTime(ca, FileTime.from(Instant.now().plusSeconds(10)));
        assertThat(tls.reloadIfChanged()).isTrue();
        assertThat(tls.get()).isNotSameAs(before);
    }

    /** Sets both files' modification time ahead: file systems with coarse timestamps would hide the edit. */
    private static void touch(Path cert, Path key, long seconds) throws IOException {
        FileTime time = FileTime.from(Instant.now().plusSeconds(seconds));
        Files.setLastModifiedTime(cert, time);
        Files.setLastModifiedTime(key, time);
    }

    /** A full in-memory TLS handshake between the server context and a trusting client; the protocol agreed. */
    private static String handshake(SslContext server) throws SSLException {
        SslContext clientContext = SslContextBuilder.forClient().trustManager(InsecureTrustManagerFactory.INSTANCE)
                .protocols("TLSv1.3", "TLSv1.2").build();
        SSLEngine client = clientContext.newEngine(ByteBufAllocator.DEFAULT);
        String protocol = Handshakes.run(client, server.newEngine(ByteBufAllocator.DEFAULT));
        X509Certificate peer = (X509Certificate) client.getSession().getPeerCertificates()[0];
        assertThat(peer).isNotNull();
        return protocol;
    }
}
