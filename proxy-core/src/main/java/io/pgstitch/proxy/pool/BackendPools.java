package io.pgstitch.proxy.pool;

import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.ScheduledFuture;
import io.pgstitch.conf.ShardConfig;
import io.pgstitch.proxy.backend.BackendConnector;
import io.pgstitch.proxy.backend.ShardLogin;

import java.util.Collection;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.function.ToIntFunction;

/**
 * Every pool, one per {@link PoolKey}, created on first use, and each shard's {@link ShardSlots}. A
 * once-a-second sweep closes expired idle connections, opens min_idle ones, and retires pools that stayed empty
 * for their idle timeout. After a reload, a changed shard gets new pools (its key changed); the old ones age out.
 */
public final class BackendPools implements AutoCloseable {

    private final Map<PoolKey, BackendPool> pools = new ConcurrentHashMap<>();
    /** Per shard name; a shard's slots count the connections of its old pools too, until they are gone. */
    private final Map<String, ShardSlots> slots = new ConcurrentHashMap<>();
    private final Map<String, Collection<BackendPool>> poolsOfShard = new ConcurrentHashMap<>();
    private final BackendConnector connector;
    private final EventLoopGroup group;
    private final ToIntFunction<ShardConfig> shardLimit;
    private final PoolMeters meters;
    private final ScheduledFuture<?> sweeper;

    /** @param shardLimit the most connections a shard may have open, all its pools together */
    public BackendPools(BackendConnector connector, EventLoopGroup group, ToIntFunction<ShardConfig> shardLimit,
                        PoolMeters meters) {
        this.connector = connector;
        this.group = group;
        this.shardLimit = shardLimit;
        this.meters = meters;
        this.sweeper = group.next().scheduleAtFixedRate(this::sweep, 1, 1, TimeUnit.SECONDS);
    }

    /** A backend of {@code key}'s pool for {@code login}, whose user is the key's, on {@code loop}. */
    public Future<PooledBackend> acquire(EventLoop loop, PoolKey key, ShardLogin login) {
        while (true) {
            BackendPool pool = pools.computeIfAbsent(key, this::newPool);
            Future<PooledBackend> acquired = pool.acquire(loop, login);
            if (acquired != null) {
                return acquired;
            }
            pools.remove(key, pool); // retired between the lookup and the acquire: make a new one
        }
    }

    private BackendPool newPool(PoolKey key) {
        String shard = key.shard().name();
        Collection<BackendPool> ofShard = poolsOfShard.computeIfAbsent(shard, name -> ConcurrentHashMap.newKeySet());
        int limit = shardLimit.applyAsInt(key.shard());
        ShardSlots shardSlots = slots.computeIfAbsent(shard, name -> new ShardSlots(limit, ofShard));
        shardSlots.limit(limit); // a reload's new pool brings the shard's max_connections in force
        BackendPool pool = new BackendPool(key, connector, shardSlots, meters);
        ofShard.add(pool);
        return pool;
    }

    public Collection<BackendPool> pools() {
        return pools.values();
    }

    /** Connections open to {@code shard}, all pools together. */
    public int shardConnections(String shard) {
        ShardSlots shardSlots = slots.get(shard);
        return shardSlots == null ? 0 : shardSlots.open();
    }

    public PoolMeters meters() {
        return meters;
    }

    private void sweep() {
        for (BackendPool pool : pools.values()) {
            pool.evictExpired();
            pool.fillMinIdle(group.next());
            if (pool.retireIfEmpty(pool.key().config().idleTimeout().toNanos())) {
                pools.remove(pool.key(), pool);
                poolsOfShard.getOrDefault(pool.key().shard().name(), java.util.List.of()).remove(pool);
            }
        }
    }

    @Override
    public void close() {
        sweeper.cancel(false);
        pools.values().forEach(BackendPool::close);
    }
}
