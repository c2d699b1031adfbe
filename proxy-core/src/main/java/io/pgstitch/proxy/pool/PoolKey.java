package io.pgstitch.proxy.pool;

import io.pgstitch.conf.PoolConfig;
import io.pgstitch.conf.Route;
import io.pgstitch.conf.ShardConfig;

import java.time.Duration;

/**
 * What makes backend connections interchangeable: the same shard (host, settings), the same backend database
 * and the same backend user. Startup parameters are not part of it: each client's are applied to whichever
 * connection serves it. Sessions and RPC calls never share a connection: RPC connections have a pool of their
 * own, sized by {@code rpc.pool_size}.
 *
 * @param config the limits of this pool: the shard's {@code pool} for sessions, derived from {@code rpc} for
 *               RPC calls; part of the key, so a reload that changes them starts a new pool
 */
public record PoolKey(ShardConfig shard, String database, String user, Purpose purpose, PoolConfig config) {

    /** What a pool's connections serve. */
    public enum Purpose {
        SESSION,
        RPC
    }

    public static PoolKey session(ShardConfig shard, String database, String user) {
        return new PoolKey(shard, database, user, Purpose.SESSION, shard.pool());
    }

    /** The pool of a route's clients: the shard's pool settings with the route's own mode and size. */
    public static PoolKey session(Route route, String user) {
        return new PoolKey(route.shard(), route.backendDatabase(), user, Purpose.SESSION, route.pool());
    }

    /** The RPC pool: the shard's pool settings except its size and how long a call waits for a connection. */
    public static PoolKey rpc(ShardConfig shard, String database, String user, int size, Duration waitTimeout) {
        PoolConfig base = shard.pool();
        PoolConfig config = new PoolConfig(base.mode(), size, 0, base.idleTimeout(), base.maxLifetime(),
                base.connectTimeout(), waitTimeout, base.resetQuery());
        return new PoolKey(shard, database, user, Purpose.RPC, config);
    }

    public String describe() {
        return (purpose == Purpose.RPC ? "RPC pool" : "pool") + " of shard \"" + shard.name() + "\", database \""
                + database + "\", user \"" + user + "\"";
    }

    /** The settings an admin raises when this pool is exhausted. */
    String sizeSettings() {
        return purpose == Purpose.RPC ? "rpc.pool_size or rpc.timeout"
                : "shards." + shard.name() + ".pool.size or pool.wait_timeout";
    }
}
