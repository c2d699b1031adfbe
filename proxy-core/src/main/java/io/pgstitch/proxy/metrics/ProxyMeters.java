package io.pgstitch.proxy.metrics;

import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.MultiGauge;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.binder.jvm.ClassLoaderMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.netty4.NettyAllocatorMetrics;
import io.micrometer.core.instrument.binder.system.FileDescriptorMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.core.instrument.binder.system.UptimeMetrics;
import io.netty.buffer.PooledByteBufAllocator;
import io.pgstitch.conf.ShardConfig;
import io.pgstitch.proxy.frontend.ClientRegistry;
import io.pgstitch.proxy.frontend.LiveClient;
import io.pgstitch.proxy.pool.BackendPool;
import io.pgstitch.proxy.pool.BackendPools;

import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;
import java.util.function.Supplier;

/**
 * The gauges of the running proxy, read when {@code /metrics} is scraped or refreshed every few seconds:
 * {@code pgstitch.clients} (state login|waiting|active), {@code pgstitch.servers} (shard, state active|idle|login;
 * per pool database too with {@code admin.metrics.per_database}), {@code pgstitch.pool.waiting} (clients queued for
 * a server), {@code pgstitch.shard.max_connections}, {@code pgstitch.shard.up}; and the JVM, process and Netty
 * allocator binders. Cardinality: a few series per shard, unless per-database meters are asked for.
 */
public final class ProxyMeters implements AutoCloseable {

    /** Whether a shard answered its last health check; empty while unknown. */
    public interface ShardUp {
        java.util.Optional<Boolean> up(String shard);
    }

    private final MultiGauge servers;
    private final MultiGauge waiting;
    private final MultiGauge shardLimits;
    private final MultiGauge shardUp;
    private final BackendPools pools;
    private final Supplier<Collection<ShardConfig>> shards;
    private final ShardUp health;
    private final boolean perDatabase;
    private final JvmGcMetrics gc = new JvmGcMetrics();

    public ProxyMeters(MeterRegistry registry, ClientRegistry clients, BackendPools pools,
                       Supplier<Collection<ShardConfig>> shards, ShardUp health, boolean perDatabase) {
        this.pools = pools;
        this.shards = shards;
        this.health = health;
        this.perDatabase = perDatabase;
        for (LiveClient.Phase phase : LiveClient.Phase.values()) {
            Gauge.builder("pgstitch.clients", clients, registry1 -> count(registry1, client -> client.phase() == phase))
                    .tag("state", phase.name().toLowerCase(java.util.Locale.ROOT))
                    .description("client connections, by state").register(registry);
        }
        servers = MultiGauge.builder("pgstitch.servers").description("server connections, by pool and state")
                .register(registry);
        waiting = MultiGauge.builder("pgstitch.pool.waiting").description("clients queued for a server connection")
                .register(registry);
        shardLimits = MultiGauge.builder("pgstitch.shard.max_connections")
                .description("the most server connections pgstitch opens to the shard").register(registry);
        shardUp = MultiGauge.builder("pgstitch.shard.up")
                .description("1 when the shard answered its last health check, 0 when it did not").register(registry);
        new JvmMemoryMetrics().bindTo(registry);
        gc.bindTo(registry);
        new JvmThreadMetrics().bindTo(registry);
        new ClassLoaderMetrics().bindTo(registry);
        new ProcessorMetrics().bindTo(registry);
        new UptimeMetrics().bindTo(registry);
        new FileDescriptorMetrics().bindTo(registry);
        new NettyAllocatorMetrics(PooledByteBufAllocator.DEFAULT).bindTo(registry);
        refresh();
    }

    private static double count(ClientRegistry clients, Predicate<LiveClient> which) {
        return clients.all().stream().filter(which).count();
    }

    /** Re-reads pools and shards into the multi-gauges; call every few seconds (off the event loops). */
    public synchronized void refresh() {
        Map<Tags, int[]> byPool = new HashMap<>();
        Map<Tags, Integer> queued = new HashMap<>();
        for (BackendPool pool : pools.pools()) {
            Tags tags = Tags.of("shard", pool.key().shard().name());
            if (perDatabase) {
                tags = tags.and("database", pool.key().database());
            }
            int open = pool.openConnections();
            int idle = pool.idleConnections();
            int inUse = pool.inUse();
            int[] sums = byPool.computeIfAbsent(tags, t -> new int[3]);
            sums[0] += inUse;
            sums[1] += idle;
            sums[2] += Math.max(0, open - idle - inUse);
            queued.merge(tags, pool.waiting(), Integer::sum);
        }
        if (!perDatabase) { // a shard without pools shows zeros, not nothing (labels must stay the same set)
            for (ShardConfig shard : shards.get()) {
                byPool.computeIfAbsent(Tags.of("shard", shard.name()), t -> new int[3]);
                queued.putIfAbsent(Tags.of("shard", shard.name()), 0);
            }
        }
        List<MultiGauge.Row<?>> serverRows = new ArrayList<>();
        byPool.forEach((tags, sums) -> {
            serverRows.add(MultiGauge.Row.of(tags.and("state", "active"), sums[0]));
            serverRows.add(MultiGauge.Row.of(tags.and("state", "idle"), sums[1]));
            serverRows.add(MultiGauge.Row.of(tags.and("state", "login"), sums[2]));
        });
        servers.register(serverRows, true);
        waiting.register(queued.entrySet().stream().map(entry -> MultiGauge.Row.of(entry.getKey(),
                entry.getValue())).map(row -> (MultiGauge.Row<?>) row).toList(), true);
        shardLimits.register(shards.get().stream().map(shard -> (MultiGauge.Row<?>) MultiGauge.Row.of(
                Tags.of("shard", shard.name()), shard.maxConnections())).toList(), true);
        List<MultiGauge.Row<?>> up = new ArrayList<>();
        for (ShardConfig shard : shards.get()) {
            health.up(shard.name()).ifPresent(isUp -> up.add(MultiGauge.Row.of(Tags.of("shard", shard.name()),
                    isUp ? 1 : 0)));
        }
        shardUp.register(up, true);
    }

    @Override
    public void close() {
        gc.close();
    }
}
