package io.pgstitch.conf;

/** TLS towards a shard, as libpq's sslmode. YAML spelling: lower case with '-', e.g. {@code verify-full}. */
public enum ShardTlsMode {
    DISABLE,
    PREFER,
    REQUIRE,
    VERIFY_CA,
    VERIFY_FULL;

    /** Whether pgstitch asks the shard for TLS (SSLRequest) at all. */
    public boolean negotiates() {
        return this != DISABLE;
    }

    /** Whether the shard's certificate is checked against {@code tls_ca}. */
    public boolean verifies() {
        return this == VERIFY_CA || this == VERIFY_FULL;
    }

    /** How the configuration file spells this value. */
    public String spelling() {
        return name().toLowerCase(java.util.Locale.ROOT).replace('_', '-');
    }
}
