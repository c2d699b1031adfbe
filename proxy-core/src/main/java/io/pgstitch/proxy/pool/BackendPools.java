package io.pgstitch.proxy.pool;

import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.ScheduledFuture;
import io.pgstitch.conf.ShardConfig;
import io.pgstitch.proxy.backend.BackendConnector;

import java.util.Collection;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * Every pool, one per {@link PoolKey}, created on first use. A once-a-second sweep closes expired idle
 * connections and opens min_idle ones. After a reload, a changed shard gets new pools (its key changed);
 * the old ones just age out.
 */
public final class BackendPools implements AutoCloseable {

    private final Map<PoolKey, BackendPool> pools = new ConcurrentHashMap<>();
    private final BackendConnector connector;
    private final EventLoopGroup group;
    private final ScheduledFuture<?> sweeper;

    public BackendPools(BackendConnector connector, EventLoopGroup group) {
        this.connector = connector;
        this.group = group;
        this.sweeper = group.next().scheduleAtFixedRate(this::sweep, 1, 1, TimeUnit.SECONDS);
    }

    /** A backend for a client session. */
    public Future<PooledBackend> acquire(EventLoop loop, ShardConfig shard, String database,
                                         Map<String, String> parameters) {
        return acquire(loop, PoolKey.session(shard, database, parameters));
    }

    public Future<PooledBackend> acquire(EventLoop loop, PoolKey key) {
        return pools.computeIfAbsent(key, k -> new BackendPool(k, connector)).acquire(loop);
    }

    public Collection<BackendPool> pools() {
        return pools.values();
    }

    private void sweep() {
        for (BackendPool pool : pools.values()) {
            pool.evictExpired();
            pool.fillMinIdle(group.next());
        }
    }

    @Override
    public void close() {
        sweeper.cancel(false);
        pools.values().forEach(BackendPool::close);
    }
}
