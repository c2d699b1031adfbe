package io.pgstitch.protocol.auth;

import javax.net.ssl.SSLPeerUnverifiedException;
import javax.net.ssl.SSLSession;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.cert.CertificateEncodingException;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.util.Locale;

/**
 * Channel-binding data of type {@code tls-server-end-point} (RFC 5929 section 4.1), the only type PostgreSQL
 * supports: a hash of the server's certificate, so that a SCRAM proof made through a man in the middle (who
 * must present his own certificate) does not verify. Both ends compute it from the same certificate: the server
 * from its own, the client from the one the server presented.
 */
public final class ChannelBinding {

    /** The name in the gs2 header {@code p=tls-server-end-point,,}. */
    public static final String TLS_SERVER_END_POINT = "tls-server-end-point";

    private ChannelBinding() {
    }

    /**
     * The hash of the certificate's DER encoding with the hash function of its signature algorithm, except that
     * MD5 and SHA-1 are replaced by SHA-256 (RFC 5929: "if ... MD5 or SHA-1, then use SHA-256"). As in
     * PostgreSQL's be_tls_get_certificate_hash, a signature without one identifiable hash (Ed25519, RSASSA-PSS)
     * leaves the binding undefined: refused.
     *
     * @throws IllegalArgumentException when the signature algorithm names no usable hash
     */
    public static byte[] tlsServerEndPoint(X509Certificate certificate) {
        String algorithm = hashAlgorithm(certificate.getSigAlgName());
        try {
            return MessageDigest.getInstance(algorithm).digest(certificate.getEncoded());
        } catch (NoSuchAlgorithmException | CertificateEncodingException e) {
            throw new IllegalArgumentException("cannot compute tls-server-end-point with " + algorithm + ": "
                    + e.getMessage(), e);
        }
    }

    /**
     * The binding data of a TLS session's server certificate: our own when {@code asServer}, the peer's otherwise;
     * null when the session has no such certificate or its signature names no usable hash (then -PLUS is neither
     * offered nor chosen, as PostgreSQL and libpq do).
     */
    public static byte[] tlsServerEndPoint(SSLSession session, boolean asServer) {
        try {
            Certificate[] chain = asServer ? session.getLocalCertificates() : session.getPeerCertificates();
            if (chain == null || chain.length == 0 || !(chain[0] instanceof X509Certificate certificate)) {
                return null;
            }
            return tlsServerEndPoint(certificate);
        } catch (SSLPeerUnverifiedException | IllegalArgumentException e) {
            return null;
        }
    }

    /** {@code SHA384withECDSA} -> {@code SHA-384}; {@code MD5withRSA}, {@code SHA1withRSA} -> {@code SHA-256}. */
    static String hashAlgorithm(String signatureAlgorithm) {
        String name = signatureAlgorithm.toUpperCase(Locale.ROOT);
        int with = name.indexOf("WITH");
        if (with <= 0) {
            throw new IllegalArgumentException("the certificate's signature algorithm " + signatureAlgorithm
                    + " has no single hash function: tls-server-end-point channel binding is undefined for it");
        }
        String hash = name.substring(0, with).replace("-", "");
        return switch (hash) {
            case "MD5", "SHA1", "SHA256" -> "SHA-256";
            case "SHA224" -> "SHA-224";
            case "SHA384" -> "SHA-384";
            case "SHA512" -> "SHA-512";
            case "SHA3224", "SHA3256", "SHA3384", "SHA3512" -> "SHA3-" + hash.substring(4);
            default -> throw new IllegalArgumentException("the certificate's signature algorithm "
                    + signatureAlgorithm + " uses an unknown hash function: tls-server-end-point is undefined");
        };
    }
}
