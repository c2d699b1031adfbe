package io.pgstitch.tls;

import io.netty.handler.ssl.ApplicationProtocolConfig;
import io.netty.handler.ssl.ClientAuth;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import org.bouncycastle.asn1.ASN1String;
import org.bouncycastle.asn1.x500.RDN;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x500.style.BCStyle;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import javax.net.ssl.SSLException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.util.List;
import java.util.Objects;
import java.util.function.Supplier;

/**
 * The server side's {@link SslContext}, TLS 1.2 and 1.3 only, offering ALPN "postgresql" (PostgreSQL 17's
 * direct TLS requires it). Built from PEM files, or from a self-signed certificate when none is configured;
 * optionally it requires client certificates that chain to a CA bundle. As a {@link Supplier} it hands each new
 * connection the context in force, without touching a file; {@link #reloadIfChanged()}, called off the event
 * loops by whoever watches files, re-reads them when one changed: new connections get the new certificate (and
 * CAs), open ones keep theirs; a file that fails to load is logged and the previous context stays.
 */
public final class ServerTls implements Supplier<SslContext> {

    public static final String ALPN_POSTGRESQL = "postgresql";
    private static final Logger log = LoggerFactory.getLogger(ServerTls.class);

    private final Path certificateFile;
    private final Path keyFile;
    private final char[] passphrase;
    private final Path caFile;
    private volatile SslContext context;
    private volatile CertificateAndKey identity;
    private FileTime certificateTime;
    private FileTime keyTime;
    private FileTime caTime;

    private ServerTls(Path certificateFile, Path keyFile, char[] passphrase, CertificateAndKey identity, Path caFile)
            throws IOException {
        this.certificateFile = certificateFile;
        this.keyFile = keyFile;
        this.passphrase = passphrase == null ? null : passphrase.clone();
        this.caFile = caFile;
        this.identity = identity;
        this.caTime = caFile == null ? null : Files.getLastModifiedTime(caFile);
        this.context = build(identity, trusted());
    }

    /** From PEM files; {@link #reloadIfChanged()} re-reads them. */
    public static ServerTls fromFiles(Path certificateFile, Path keyFile, char[] passphrase) throws IOException {
        return fromFiles(certificateFile, keyFile, passphrase, null);
    }

    /**
     * From PEM files, requiring client certificates when a CA bundle is given.
     *
     * @param passphrase decrypts an encrypted key; null when it is not encrypted
     * @param caFile     PEM bundle client certificates must chain to; null: no client certificate is asked for
     */
    public static ServerTls fromFiles(Path certificateFile, Path keyFile, char[] passphrase, Path caFile)
            throws IOException {
        ServerTls tls = new ServerTls(certificateFile, keyFile, passphrase,
                PemFiles.load(certificateFile, keyFile, passphrase), caFile);
        tls.certificateTime = Files.getLastModifiedTime(certificateFile);
        tls.keyTime = Files.getLastModifiedTime(keyFile);
        return tls;
    }

    /** A self-signed certificate for localhost, generated now; its fingerprint is logged. */
    public static ServerTls selfSigned(SecureRandom random) throws IOException {
        return selfSigned(random, null);
    }

    /** A self-signed certificate for localhost, requiring client certificates when a CA bundle is given. */
    public static ServerTls selfSigned(SecureRandom random, Path caFile) throws IOException {
        CertificateAndKey identity = SelfSignedCertificates.forLocalhost(random);
        log.info("no TLS certificate configured: generated a self-signed one, SHA-256 fingerprint {}",
                identity.sha256Fingerprint());
        return new ServerTls(null, null, null, identity, caFile);
    }

    static SslContext build(CertificateAndKey identity) throws SSLException {
        return build(identity, null);
    }

    /** @param trusted the CAs a client certificate must chain to (one is then required); null: none asked for */
    static SslContext build(CertificateAndKey identity, List<X509Certificate> trusted) throws SSLException {
        SslContextBuilder builder = SslContextBuilder.forServer(identity.key(),
                        identity.chain().toArray(new X509Certificate[0]))
                .protocols("TLSv1.3", "TLSv1.2")
                .applicationProtocolConfig(new ApplicationProtocolConfig(ApplicationProtocolConfig.Protocol.ALPN,
                        ApplicationProtocolConfig.SelectorFailureBehavior.NO_ADVERTISE,
                        ApplicationProtocolConfig.SelectedListenerFailureBehavior.ACCEPT, ALPN_POSTGRESQL));
        if (trusted != null) {
            builder.trustManager(trusted).clientAuth(ClientAuth.REQUIRE);
        }
        return builder.build();
    }

    /**
     * pg_hba's clientcert=verify-full: the certificate's one common name equals the user name exactly (case
     * matters, as in PostgreSQL). A certificate with no CN, several CNs or a NUL in its CN never matches.
     */
    public static boolean clientCertificateMatchesUser(X509Certificate certificate, String user) {
        RDN[] names = X500Name.getInstance(certificate.getSubjectX500Principal().getEncoded())
                .getRDNs(BCStyle.CN);
        if (names.length != 1 || names[0].isMultiValued()) {
            return false;
        }
        // The raw string, not IETFUtils.valueToString: that escapes ',' '+' '=' and would change the name.
        if (!(names[0].getFirst().getValue() instanceof ASN1String commonName)) {
            return false;
        }
        return commonName.getString().indexOf('\0') < 0 && commonName.getString().equals(user);
    }

    /** The context for a new connection: a volatile read, no lock, no file system call. */
    @Override
    public SslContext get() {
        return context;
    }

    public CertificateAndKey identity() {
        return identity;
    }

    /**
     * Re-reads the files if one's modification time moved. Blocking file I/O: never call it on an event loop.
     *
     * @return whether a new context is in force
     */
    public synchronized boolean reloadIfChanged() {
        if (certificateFile == null && caFile == null) {
            return false;
        }
        try {
            FileTime certificate = certificateFile == null ? null : Files.getLastModifiedTime(certificateFile);
            FileTime key = keyFile == null ? null : Files.getLastModifiedTime(keyFile);
            FileTime ca = caFile == null ? null : Files.getLastModifiedTime(caFile);
            if (Objects.equals(certificate, certificateTime) && Objects.equals(key, keyTime)
                    && Objects.equals(ca, caTime)) {
                return false;
            }
            certificateTime = certificate;
            keyTime = key;
            caTime = ca;
            CertificateAndKey loaded = certificateFile == null ? identity
                    : PemFiles.load(certificateFile, keyFile, passphrase);
            context = build(loaded, trusted());
            identity = loaded;
            log.info("TLS certificate reloaded from {}: SHA-256 {}{}", certificateFile, loaded.sha256Fingerprint(),
                    caFile == null ? "" : ", client CAs from " + caFile);
            return true;
        } catch (IOException e) {
            log.warn("TLS certificate not reloaded, keeping the previous one: {}", e.getMessage());
            return false;
        }
    }

    private List<X509Certificate> trusted() throws IOException {
        return caFile == null ? null : PemFiles.readCertificates(caFile);
    }
}
