package io.pgstitch.proxy.rpc;

import io.pgstitch.conf.RpcConfig;
import io.pgstitch.conf.RpcInTransaction;
import io.pgstitch.sqlsplit.QueryAnalyzer;
import io.pgstitch.sqlsplit.RpcFunctionMatcher;
import io.pgstitch.sqlsplit.SplitMode;

import java.time.Duration;

/**
 * The {@code rpc} section in force, ready to use. Built again on every reload (the analyzer's cache with it).
 *
 * @param poolSize    the most RPC connections per shard, database and startup parameters
 * @param waitTimeout how long an RPC call waits for a connection of an exhausted RPC pool
 */
public record RpcSettings(QueryAnalyzer analyzer, SplitMode split, RpcInTransaction inTransaction, int poolSize,
                          Duration waitTimeout, boolean hasFunctions) {

    private static final int ANALYSIS_CACHE_SIZE = 4096;

    public static RpcSettings of(RpcConfig config) {
        RpcFunctionMatcher matcher = new RpcFunctionMatcher(config.functions());
        SplitMode split = switch (config.split()) {
            case RPC_ONLY -> SplitMode.RPC_ONLY;
            case ALWAYS -> SplitMode.ALWAYS;
            case NEVER -> SplitMode.NEVER;
        };
        return new RpcSettings(new QueryAnalyzer(matcher, ANALYSIS_CACHE_SIZE), split, config.inTransaction(),
                config.poolSize(), config.timeout(), !matcher.isEmpty());
    }

    /** Whether any Query may need splitting; when not, every message passes through without a look. */
    public boolean active() {
        return hasFunctions || split == SplitMode.ALWAYS;
    }
}
