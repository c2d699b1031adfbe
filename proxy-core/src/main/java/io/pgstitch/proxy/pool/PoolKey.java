package io.pgstitch.proxy.pool;

import io.pgstitch.conf.PoolConfig;
import io.pgstitch.conf.ShardConfig;

import java.time.Duration;
import java.util.Collections;
import java.util.Map;
import java.util.TreeMap;

/**
 * What makes backend connections interchangeable: the same shard (host, credentials, settings), the same
 * backend database and the same startup parameters, which become the session defaults that
 * {@code DISCARD ALL} resets to. Clients that differ in any of these never share a connection. Sessions and
 * RPC calls never share one either: RPC connections have a pool of their own, sized by {@code rpc.pool_size}.
 *
 * @param config the limits of this pool: the shard's {@code pool} for sessions, derived from {@code rpc} for
 *               RPC calls; part of the key, so a reload that changes them starts a new pool
 */
public record PoolKey(ShardConfig shard, String database, Map<String, String> parameters, Purpose purpose,
                      PoolConfig config) {

    /** What a pool's connections serve. */
    public enum Purpose {
        SESSION,
        RPC
    }

    public PoolKey {
        parameters = Collections.unmodifiableMap(new TreeMap<>(parameters));
    }

    public static PoolKey session(ShardConfig shard, String database, Map<String, String> parameters) {
        return new PoolKey(shard, database, parameters, Purpose.SESSION, shard.pool());
    }

    /** The RPC pool: the shard's pool settings except its size and how long a call waits for a connection. */
    public static PoolKey rpc(ShardConfig shard, String database, Map<String, String> parameters, int size,
                              Duration waitTimeout) {
        PoolConfig base = shard.pool();
        PoolConfig config = new PoolConfig(base.mode(), size, 0, base.idleTimeout(), base.maxLifetime(),
                base.connectTimeout(), waitTimeout, base.resetQuery());
        return new PoolKey(shard, database, parameters, Purpose.RPC, config);
    }

    public String describe() {
        return (purpose == Purpose.RPC ? "RPC pool" : "pool") + " of shard \"" + shard.name() + "\", database \""
                + database + "\", user \"" + shard.user() + "\"";
    }

    /** The settings an admin raises when this pool is exhausted. */
    String sizeSettings() {
        return purpose == Purpose.RPC ? "rpc.pool_size or rpc.timeout"
                : "shards." + shard.name() + ".pool.size or pool.wait_timeout";
    }
}
