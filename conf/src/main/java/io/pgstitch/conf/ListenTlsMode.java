package io.pgstitch.conf;

/** TLS towards clients: whether it is offered, and whether it is required. YAML spelling: lower case with '-', e.g. {@code require}. */
public enum ListenTlsMode {
    DISABLE,
    ALLOW,
    PREFER,
    REQUIRE;

    /** How the configuration file spells this value. */
    public String spelling() {
        return name().toLowerCase(java.util.Locale.ROOT).replace('_', '-');
    }
}
