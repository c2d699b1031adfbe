package io.pgstitch.protocol.auth;

import org.junit.jupiter.api.Test;

import java.security.MessageDigest;
import java.security.cert.X509Certificate;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class ChannelBindingTest {

    @Test
    void md5AndSha1BecomeSha256AndStrongerHashesAreKept() {
        assertThat(ChannelBinding.hashAlgorithm("MD5withRSA")).isEqualTo("SHA-256");
        assertThat(ChannelBinding.hashAlgorithm("SHA1withRSA")).isEqualTo("SHA-256");
        assertThat(ChannelBinding.hashAlgorithm("SHA1withECDSA")).isEqualTo("SHA-256");
        assertThat(ChannelBinding.hashAlgorithm("SHA256withRSA")).isEqualTo("SHA-256");
        assertThat(ChannelBinding.hashAlgorithm("SHA224withRSA")).isEqualTo("SHA-224");
        assertThat(ChannelBinding.hashAlgorithm("SHA384withECDSA")).isEqualTo("SHA-384");
        assertThat(ChannelBinding.hashAlgorithm("SHA512withRSA")).isEqualTo("SHA-512");
        assertThat(ChannelBinding.hashAlgorithm("SHA3-256withECDSA")).isEqualTo("SHA3-256");
        assertThatThrownBy(() -> ChannelBinding.hashAlgorithm("Ed25519")).hasMessageContaining("undefined");
        assertThatThrownBy(() -> ChannelBinding.hashAlgorithm("RSASSA-PSS")).hasMessageContaining("undefined");
        assertThatThrownBy(() -> ChannelBinding.hashAlgorithm("WHIRLPOOLwithRSA")).hasMessageContaining("unknown");
    }

    @Test
    void theHashCoversTheCertificateDer() throws Exception {
        X509Certificate rsa = TestCertificates.selfSigned("RSA", "SHA256withRSA");
        assertThat(ChannelBinding.tlsServerEndPoint(rsa))
                .isEqualTo(MessageDigest.getInstance("SHA-256").digest(rsa.getEncoded()));
        X509Certificate sha1 = TestCertificates.selfSigned("RSA", "SHA1withRSA");
        assertThat(ChannelBinding.tlsServerEndPoint(sha1))
                .isEqualTo(MessageDigest.getInstance("SHA-256").digest(sha1.getEncoded()));
        X509Certificate ec384 = TestCertificates.selfSigned("EC", "SHA384withECDSA");
        assertThat(ChannelBinding.tlsServerEndPoint(ec384))
                .isEqualTo(MessageDigest.getInstance("SHA-384").digest(ec384.getEncoded())).hasSize(48);
        X509Certificate rsa512 = TestCertificates.selfSigned("RSA", "SHA512withRSA");
        assertThat(ChannelBinding.tlsServerEndPoint(rsa512)).hasSize(64);
    }

    @Test
    void certificatesWithoutASingleHashHaveNoBinding() throws Exception {
        X509Certificate ed25519 = TestCertificates.selfSigned("Ed25519", "Ed25519");
        assertThatThrownBy(() -> ChannelBinding.tlsServerEndPoint(ed25519))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("undefined");
    }
}
