package io.pgstitch.conf;

import java.time.Duration;
import java.util.List;

/** {@code rpc}: which functions are RPC functions and how their calls are isolated. */
public record RpcConfig(List<String> functions, RpcSplit split, RpcInTransaction inTransaction, int poolSize,
                        Duration timeout) {

    public RpcConfig {
        functions = List.copyOf(functions);
    }
}
