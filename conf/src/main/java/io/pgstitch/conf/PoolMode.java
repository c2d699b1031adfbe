package io.pgstitch.conf;

/** When a backend connection goes back to its pool. YAML spelling: lower case with '-', e.g. {@code statement}. */
public enum PoolMode {
    SESSION,
    TRANSACTION,
    STATEMENT;

    /** How the configuration file spells this value. */
    public String spelling() {
        return name().toLowerCase(java.util.Locale.ROOT).replace('_', '-');
    }
}
