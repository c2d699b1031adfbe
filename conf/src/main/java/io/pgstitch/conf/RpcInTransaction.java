package io.pgstitch.conf;

/** What an RPC call inside a client's transaction block does. YAML spelling: lower case with '-', e.g. {@code isolate}. */
public enum RpcInTransaction {
    REJECT,
    ISOLATE;

    /** How the configuration file spells this value. */
    public String spelling() {
        return name().toLowerCase(java.util.Locale.ROOT).replace('_', '-');
    }
}
