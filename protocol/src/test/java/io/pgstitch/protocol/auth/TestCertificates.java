package io.pgstitch.protocol.auth;

import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

import java.math.BigInteger;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Date;

/** Self-signed certificates with a chosen key and signature algorithm, for channel-binding tests. */
final class TestCertificates {

    private TestCertificates() {
    }

    /**
     * @param keyAlgorithm       "RSA", "EC" or "Ed25519"
     * @param signatureAlgorithm e.g. "SHA256withRSA", "SHA384withECDSA", "Ed25519"
     */
    static X509Certificate selfSigned(String keyAlgorithm, String signatureAlgorithm) throws Exception {
        KeyPairGenerator generator = KeyPairGenerator.getInstance(keyAlgorithm);
        if (keyAlgorithm.equals("RSA")) {
            generator.initialize(2048);
        }
        KeyPair pair = generator.generateKeyPair();
        X500Name name = new X500Name("CN=pgstitch test");
        Instant now = Instant.now();
        var builder = new JcaX509v3CertificateBuilder(name, BigInteger.valueOf(now.toEpochMilli()),
                Date.from(now.minus(1, ChronoUnit.HOURS)), Date.from(now.plus(1, ChronoUnit.DAYS)), name,
                pair.getPublic());
        var signer = new JcaContentSignerBuilder(signatureAlgorithm).build(pair.getPrivate());
        return new JcaX509CertificateConverter().getCertificate(builder.build(signer));
    }
}
