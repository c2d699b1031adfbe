package io.pgstitch.tls;

/** Whether clients must present a certificate, and what it must prove (pg_hba's clientcert). */
public enum ClientVerification {
    /** No client certificate is asked for. */
    NONE,
    /** The handshake fails unless the client presents a certificate that chains to the configured CA bundle. */
    VERIFY_CA,
    /**
     * As VERIFY_CA; the proxy also checks, once it has read the startup packet, that the certificate's common
     * name is the user name ({@link ServerTls#clientCertificateMatchesUser}).
     */
    VERIFY_FULL
}
