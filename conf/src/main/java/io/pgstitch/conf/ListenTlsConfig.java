package io.pgstitch.conf;

import java.nio.file.Path;

/**
 * {@code listen.tls}: cert and key are PEM files, null when a self-signed certificate is to be generated.
 *
 * @param keyPassphrase decrypts an encrypted PKCS#8 key (usually {@code ${ENV_VAR}}); null when the key is plain
 * @param ca            PEM bundle of the CAs client certificates must chain to; null when none
 * @param clientCert    whether clients must present a certificate
 */
public record ListenTlsConfig(ListenTlsMode mode, Path cert, Path key, String keyPassphrase, Path ca,
                              ClientCertMode clientCert) {

    public ListenTlsConfig(ListenTlsMode mode, Path cert, Path key) {
        this(mode, cert, key, null, null, ClientCertMode.OFF);
    }

    /** Never prints the passphrase (configurations end up in logs). */
    @Override
    public String toString() {
        return "ListenTlsConfig[mode=" + mode + ", cert=" + cert + ", key=" + key
                + (keyPassphrase == null ? "" : ", keyPassphrase=***") + ", ca=" + ca + ", clientCert=" + clientCert
                + "]";
    }
}
