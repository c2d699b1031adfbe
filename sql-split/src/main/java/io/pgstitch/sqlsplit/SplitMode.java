package io.pgstitch.sqlsplit;

/** Which statements become segments of their own; {@code rpc.split} in the configuration. */
public enum SplitMode {
    /** Each maximal run of non-RPC statements is one segment; each RPC statement is its own. */
    RPC_ONLY,
    /** Every statement is its own segment. */
    ALWAYS,
    /** The whole text is one segment. */
    NEVER
}
