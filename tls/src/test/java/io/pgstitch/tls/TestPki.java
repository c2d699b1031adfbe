package io.pgstitch.tls;

import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

import java.io.IOException;
import java.io.StringWriter;
import java.math.BigInteger;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.spec.ECGenParameterSpec;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Date;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

/** A throw-away certificate authority for tests: a CA, server certificates with names, client certificates. */
public final class TestPki {

    private static final AtomicLong SERIAL = new AtomicLong(System.currentTimeMillis());

    private final CertificateAndKey ca;

    private TestPki(CertificateAndKey ca) {
        this.ca = ca;
    }

    public static TestPki create(String name) throws Exception {
        KeyPair pair = keyPair();
        X500Name subject = new X500Name("CN=" + name);
        var builder = builder(subject, subject, pair);
        builder.addExtension(Extension.basicConstraints, true, new BasicConstraints(true));
        builder.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign));
        return new TestPki(sign(builder, pair.getPrivate(), pair));
    }

    public CertificateAndKey ca() {
        return ca;
    }

    /** A leaf signed by this CA, with {@code subject} (e.g. "CN=alice") and optional DNS / IP subjectAltNames. */
    public CertificateAndKey issue(String subject, List<String> dnsNames, List<String> ipAddresses) throws Exception {
        KeyPair pair = keyPair();
        var builder = builder(X500Name.getInstance(ca.leaf().getSubjectX500Principal().getEncoded()),
                new X500Name(subject), pair);
        List<GeneralName> names = new ArrayList<>();
        dnsNames.forEach(dns -> names.add(new GeneralName(GeneralName.dNSName, dns)));
        ipAddresses.forEach(ip -> names.add(new GeneralName(GeneralName.iPAddress, ip)));
        if (!names.isEmpty()) {
            builder.addExtension(Extension.subjectAlternativeName, false,
                    new GeneralNames(names.toArray(new GeneralName[0])));
        }
        builder.addExtension(Extension.basicConstraints, true, new BasicConstraints(false));
        return sign(builder, ca.key(), pair);
    }

    /** Writes the CA certificate as a PEM bundle. */
    public Path writeCa(Path file) throws IOException {
        Files.writeString(file, pem(ca.leaf()));
        return file;
    }

    public static String pem(Object object) throws IOException {
        StringWriter out = new StringWriter();
        try (JcaPEMWriter writer = new JcaPEMWriter(out)) {
            writer.writeObject(object);
        }
        return out.toString();
    }

    private static JcaX509v3CertificateBuilder builder(X500Name issuer, X500Name subject, KeyPair pair) {
        Instant now = Instant.now();
        return new JcaX509v3CertificateBuilder(issuer, BigInteger.valueOf(SERIAL.incrementAndGet()),
                Date.from(now.minus(1, ChronoUnit.HOURS)), Date.from(now.plus(1, ChronoUnit.DAYS)), subject,
                pair.getPublic());
    }

    private static CertificateAndKey sign(JcaX509v3CertificateBuilder builder, java.security.PrivateKey signer,
                                          KeyPair pair) throws Exception {
        var certificate = new JcaX509CertificateConverter().getCertificate(
                builder.build(new JcaContentSignerBuilder("SHA256withECDSA").build(signer)));
        return new CertificateAndKey(List.of(certificate), pair.getPrivate());
    }

    private static KeyPair keyPair() throws Exception {
        KeyPairGenerator generator = KeyPairGenerator.getInstance("EC");
        generator.initialize(new ECGenParameterSpec("secp256r1"));
        return generator.generateKeyPair();
    }
}
