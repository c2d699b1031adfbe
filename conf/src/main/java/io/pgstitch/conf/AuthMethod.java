package io.pgstitch.conf;

/** How clients prove who they are. YAML spelling: lower case with '-', e.g. {@code scram-sha-256}. */
public enum AuthMethod {
    TRUST,
    PASSWORD,
    MD5,
    SCRAM_SHA_256;

    /** How the configuration file spells this value. */
    public String spelling() {
        return name().toLowerCase(java.util.Locale.ROOT).replace('_', '-');
    }
}
