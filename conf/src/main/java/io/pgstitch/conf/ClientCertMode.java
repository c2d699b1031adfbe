package io.pgstitch.conf;

/**
 * {@code listen.tls.client_cert}: whether clients must present a certificate, as pg_hba's clientcert option.
 * YAML spelling: lower case with '-', e.g. {@code verify-full}.
 */
public enum ClientCertMode {
    /** No client certificate is asked for. */
    OFF,
    /** A certificate signed by {@code listen.tls.ca} is required. */
    VERIFY_CA,
    /** As VERIFY_CA, and its common name must equal the user name of the startup packet. */
    VERIFY_FULL;

    /** How the configuration file spells this value. */
    public String spelling() {
        return name().toLowerCase(java.util.Locale.ROOT).replace('_', '-');
    }
}
