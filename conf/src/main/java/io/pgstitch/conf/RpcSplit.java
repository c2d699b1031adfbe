package io.pgstitch.conf;

/** Which statements of a multi-statement query become segments of their own. YAML spelling: lower case with '-', e.g. {@code never}. */
public enum RpcSplit {
    RPC_ONLY,
    ALWAYS,
    NEVER;

    /** How the configuration file spells this value. */
    public String spelling() {
        return name().toLowerCase(java.util.Locale.ROOT).replace('_', '-');
    }
}
