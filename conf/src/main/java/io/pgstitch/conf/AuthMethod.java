package io.pgstitch.conf;

/** How clients prove who they are. YAML spelling: lower case with '-', e.g. {@code scram-sha-256}. */
public enum AuthMethod {
    TRUST,
    PASSWORD,
    MD5,
    SCRAM_SHA_256,
    /** Refuse the connection; only in {@code auth.rules}, as pg_hba's "reject". */
    REJECT;

    /** How the configuration file spells this value. */
    public String spelling() {
        return name().toLowerCase(java.util.Locale.ROOT).replace('_', '-');
    }

    /** Whether the client proves a password, checked against {@code auth.users_file}. */
    public boolean needsPassword() {
        return this == PASSWORD || this == MD5 || this == SCRAM_SHA_256;
    }
}
