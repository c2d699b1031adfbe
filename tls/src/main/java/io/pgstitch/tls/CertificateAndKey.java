package io.pgstitch.tls;

import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.PrivateKey;
import java.security.cert.CertificateEncodingException;
import java.security.cert.X509Certificate;
import java.util.HexFormat;
import java.util.List;

/**
 * A server identity: the certificate chain (leaf first) and its private key.
 *
 * @param chain leaf certificate first, then intermediates
 */
public record CertificateAndKey(List<X509Certificate> chain, PrivateKey key) {

    public CertificateAndKey {
        if (chain.isEmpty()) {
            throw new IllegalArgumentException("a certificate chain needs at least one certificate");
        }
        chain = List.copyOf(chain);
    }

    public X509Certificate leaf() {
        return chain.get(0);
    }

    /** SHA-256 of the leaf's DER encoding, as colon-separated hex: what admins compare with openssl's output. */
    public String sha256Fingerprint() {
        try {
            byte[] digest = MessageDigest.getInstance("SHA-256").digest(leaf().getEncoded());
            return HexFormat.ofDelimiter(":").withUpperCase().formatHex(digest);
        } catch (NoSuchAlgorithmException | CertificateEncodingException e) {
            throw new IllegalStateException("cannot fingerprint the certificate", e);
        }
    }
}
