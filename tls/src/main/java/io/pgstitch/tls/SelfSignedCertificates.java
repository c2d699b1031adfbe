package io.pgstitch.tls;

import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.cert.CertIOException;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

import java.math.BigInteger;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.SecureRandom;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.List;

/**
 * A certificate generated at start when TLS is on and none is configured (the demo uses this): EC P-256,
 * self-signed, valid for localhost and 127.0.0.1 unless other names are given. Clients must then trust it
 * explicitly or use {@code sslmode=require}, which does not verify; the fingerprint is logged for that.
 */
public final class SelfSignedCertificates {

    private SelfSignedCertificates() {
    }

    public static CertificateAndKey generate(List<String> dnsNames, List<String> ipAddresses, Duration validity,
                                             SecureRandom random) {
        try {
            KeyPairGenerator generator = KeyPairGenerator.getInstance("EC");
            generator.initialize(new ECGenParameterSpec("secp256r1"), random);
            KeyPair pair = generator.generateKeyPair();
            Instant now = Instant.now();
            X500Name name = new X500Name("CN=pgstitch self-signed");
            X509v3CertificateBuilder builder = new JcaX509v3CertificateBuilder(name,
                    new BigInteger(128, random).abs().add(BigInteger.ONE),
                    Date.from(now.minus(Duration.ofMinutes(5))), Date.from(now.plus(validity)), name,
                    pair.getPublic());
            GeneralName[] names = new GeneralName[dnsNames.size() + ipAddresses.size()];
            int i = 0;
            for (String dns : dnsNames) {
                names[i++] = new GeneralName(GeneralName.dNSName, dns);
            }
            for (String ip : ipAddresses) {
                names[i++] = new GeneralName(GeneralName.iPAddress, ip);
            }
            builder.addExtension(Extension.subjectAlternativeName, false, new GeneralNames(names));
            builder.addExtension(Extension.basicConstraints, true, new BasicConstraints(false));
            var signer = new JcaContentSignerBuilder("SHA256withECDSA").build(pair.getPrivate());
            var certificate = new JcaX509CertificateConverter().getCertificate(builder.build(signer));
            return new CertificateAndKey(List.of(certificate), pair.getPrivate());
        } catch (GeneralSecurityException | OperatorCreationException | CertIOException e) {
            throw new IllegalStateException("cannot generate a self-signed certificate: " + e.getMessage(), e);
        }
    }

    /** For localhost and 127.0.0.1, valid for a year. */
    public static CertificateAndKey forLocalhost(SecureRandom random) {
        return generate(List.of("localhost"), List.of("127.0.0.1"), Duration.ofDays(365), random);
    }
}
