package io.pgstitch.tls;

import io.netty.buffer.ByteBufAllocator;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.util.InsecureTrustManagerFactory;
import org.bouncycastle.openssl.jcajce.JcaPKCS8Generator;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** ServerTls with client certificates: verify-ca in the handshake, verify-full's name check after it. */
class ClientCertificatesTest {

    private static TestPki pki;
    private static CertificateAndKey server;
    private static CertificateAndKey alice;

    @TempDir
    static Path dir;

    @BeforeAll
    static void certificates() throws Exception {
        pki = TestPki.create("pgstitch test CA");
        server = pki.issue("CN=localhost", List.of("localhost"), List.of("127.0.0.1"));
        alice = pki.issue("CN=alice", List.of(), List.of());
    }

    /** @param verify whether client certificates are required (a CA bundle is given) */
    private static ServerTls serverTls(boolean verify) throws Exception {
        Path cert = Files.writeString(dir.resolve("server.crt"), TestPki.pem(server.leaf()));
        Path key = Files.writeString(dir.resolve("server.key"), TestPki.pem(new JcaPKCS8Generator(server.key(), null)));
        return ServerTls.fromFiles(cert, key, null, verify ? pki.writeCa(dir.resolve("ca.pem")) : null);
    }

    /** A client presenting {@code identity} (none when null) and trusting any server. */
    private static SSLEngine client(CertificateAndKey identity) throws SSLException {
        SslContextBuilder builder = SslContextBuilder.forClient().trustManager(InsecureTrustManagerFactory.INSTANCE);
        if (identity != null) {
            builder.keyManager(identity.key(), identity.leaf());
        }
        return builder.build().newEngine(ByteBufAllocator.DEFAULT);
    }

    @Test
    void aCertificateFromTheCaIsAcceptedAndVisibleToTheProxy() throws Exception {
        SSLEngine serverEngine = serverTls(true).get().newEngine(ByteBufAllocator.DEFAULT);
        assertThat(Handshakes.run(client(alice), serverEngine)).isIn("TLSv1.3", "TLSv1.2");
        X509Certificate peer = (X509Certificate) serverEngine.getSession().getPeerCertificates()[0];
        assertThat(peer).isEqualTo(alice.leaf());
        assertThat(ServerTls.clientCertificateMatchesUser(peer, "alice")).isTrue();
    }

    @Test
    void noCertificateOrAStrangersIsRefusedInTheHandshake() throws Exception {
        SslContext context = serverTls(true).get();
        assertThatThrownBy(() -> Handshakes.run(client(null), context.newEngine(ByteBufAllocator.DEFAULT)))
                .isInstanceOf(SSLException.class);
        CertificateAndKey stranger = TestPki.create("other CA").issue("CN=alice", List.of(), List.of());
        assertThatThrownBy(() -> Handshakes.run(client(stranger), context.newEngine(ByteBufAllocator.DEFAULT)))
                .isInstanceOf(SSLException.class);
    }

    @Test
    void withoutVerificationNoCertificateIsAskedFor() throws Exception {
        SSLEngine serverEngine = serverTls(false).get().newEngine(ByteBufAllocator.DEFAULT);
        Handshakes.run(client(alice), serverEngine);
        assertThatThrownBy(() -> serverEngine.getSession().getPeerCertificates())
                .isInstanceOf(javax.net.ssl.SSLPeerUnverifiedException.class);
    }

    @Test
    void theCommonNameMustBeExactlyTheUser() throws Exception {
        assertThat(ServerTls.clientCertificateMatchesUser(alice.leaf(), "Alice")).isFalse();
        assertThat(ServerTls.clientCertificateMatchesUser(alice.leaf(), "alice ")).isFalse();
        assertThat(ServerTls.clientCertificateMatchesUser(alice.leaf(), "bob")).isFalse();
        CertificateAndKey commas = pki.issue("CN=a\\,b\\+c\\=d,O=x", List.of(), List.of());
        assertThat(ServerTls.clientCertificateMatchesUser(commas.leaf(), "a,b+c=d")).isTrue();
        CertificateAndKey twoNames = pki.issue("CN=alice,CN=bob", List.of(), List.of());
        assertThat(ServerTls.clientCertificateMatchesUser(twoNames.leaf(), "alice")).isFalse();
        assertThat(ServerTls.clientCertificateMatchesUser(twoNames.leaf(), "bob")).isFalse();
        CertificateAndKey noName = pki.issue("O=pgstitch", List.of(), List.of());
        assertThat(ServerTls.clientCertificateMatchesUser(noName.leaf(), "")).isFalse();
        CertificateAndKey multiValued = pki.issue("CN=alice+UID=7", List.of(), List.of());
        assertThat(ServerTls.clientCertificateMatchesUser(multiValued.leaf(), "alice")).isFalse();
    }
}
