package io.pgstitch.tls;

import io.netty.handler.ssl.ApplicationProtocolConfig;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import javax.net.ssl.SSLException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.util.function.Supplier;

/**
 * The server side's {@link SslContext}, TLS 1.2 and 1.3 only, offering ALPN "postgresql" (PostgreSQL 17's
 * direct TLS requires it). Built from PEM files, or from a self-signed certificate when none is configured.
 * As a {@link Supplier} it re-reads the files when either changes: new connections get the new certificate,
 * open ones keep theirs; a file that fails to load is logged and the previous context stays.
 */
public final class ServerTls implements Supplier<SslContext> {

    public static final String ALPN_POSTGRESQL = "postgresql";
    private static final Logger log = LoggerFactory.getLogger(ServerTls.class);

    private final Path certificateFile;
    private final Path keyFile;
    private final char[] passphrase;
    private volatile SslContext context;
    private volatile CertificateAndKey identity;
    private FileTime certificateTime;
    private FileTime keyTime;

    private ServerTls(Path certificateFile, Path keyFile, char[] passphrase, CertificateAndKey identity)
            throws SSLException {
        this.certificateFile = certificateFile;
        this.keyFile = keyFile;
        this.passphrase = passphrase == null ? null : passphrase.clone();
        this.identity = identity;
        this.context = build(identity);
    }

    /** From PEM files; they are watched for changes by {@link #get()}. */
    public static ServerTls fromFiles(Path certificateFile, Path keyFile, char[] passphrase) throws IOException {
        ServerTls tls = new ServerTls(certificateFile, keyFile, passphrase,
                PemFiles.load(certificateFile, keyFile, passphrase));
        tls.certificateTime = Files.getLastModifiedTime(certificateFile);
        tls.keyTime = Files.getLastModifiedTime(keyFile);
        return tls;
    }

    /** A self-signed certificate for localhost, generated now; its fingerprint is logged. */
    public static ServerTls selfSigned(SecureRandom random) throws SSLException {
        CertificateAndKey identity = SelfSignedCertificates.forLocalhost(random);
        log.info("no TLS certificate configured: generated a self-signed one, SHA-256 fingerprint {}",
                identity.sha256Fingerprint());
        return new ServerTls(null, null, null, identity);
    }

    static SslContext build(CertificateAndKey identity) throws SSLException {
        return SslContextBuilder.forServer(identity.key(), identity.chain().toArray(new X509Certificate[0]))
                .protocols("TLSv1.3", "TLSv1.2")
                .applicationProtocolConfig(new ApplicationProtocolConfig(ApplicationProtocolConfig.Protocol.ALPN,
                        ApplicationProtocolConfig.SelectorFailureBehavior.NO_ADVERTISE,
                        ApplicationProtocolConfig.SelectedListenerFailureBehavior.ACCEPT, ALPN_POSTGRESQL))
                .build();
    }

    /** The context for a new connection, reloaded first if a file changed. */
    @Override
    public SslContext get() {
        if (certificateFile != null) {
            reloadIfChanged();
        }
        return context;
    }

    public CertificateAndKey identity() {
        return identity;
    }

    private synchronized void reloadIfChanged() {
        try {
            FileTime certificate = Files.getLastModifiedTime(certificateFile);
            FileTime key = Files.getLastModifiedTime(keyFile);
            if (certificate.equals(certificateTime) && key.equals(keyTime)) {
                return;
            }
            certificateTime = certificate;
            keyTime = key;
            CertificateAndKey loaded = PemFiles.load(certificateFile, keyFile, passphrase);
            context = build(loaded);
            identity = loaded;
            log.info("TLS certificate reloaded from {}: SHA-256 {}", certificateFile, loaded.sha256Fingerprint());
        } catch (IOException e) {
            log.warn("TLS certificate not reloaded, keeping the previous one: {}", e.getMessage());
        }
    }
}
