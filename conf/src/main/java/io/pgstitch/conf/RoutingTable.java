package io.pgstitch.conf;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Database ID → shard, backend database and backend identity. Exact routes win over glob patterns; among matching
 * patterns the longest wins (the first in the file on a tie); then {@code default_route}. A route's own forced
 * user wins over the shard's. Immutable and thread-safe: a reload builds a new table.
 */
public final class RoutingTable {

    private final Map<String, RouteConfig> exact = new HashMap<>();
    private final List<RouteConfig> patterns = new ArrayList<>();
    private final Map<String, ShardConfig> shards;
    private final DefaultRoute defaultRoute;

    private RoutingTable(ProxyConfig config) {
        this.shards = config.shards();
        this.defaultRoute = config.defaultRoute();
        for (RouteConfig route : config.routes()) {
            if (route.isGlob()) {
                patterns.add(route);
            } else {
                exact.putIfAbsent(route.pattern(), route);
            }
        }
        // stable sort: equal lengths keep file order
        patterns.sort(Comparator.comparingInt((RouteConfig route) -> route.pattern().length()).reversed());
    }

    public static RoutingTable of(ProxyConfig config) {
        return new RoutingTable(config);
    }

    public Optional<Route> route(String databaseId) {
        RouteConfig route = exact.get(databaseId);
        if (route != null) {
            return Optional.of(resolve(databaseId, route, "exact"));
        }
        for (RouteConfig pattern : patterns) {
            if (Glob.matches(pattern.pattern(), databaseId)) {
                return Optional.of(resolve(databaseId, pattern, "pattern \"" + pattern.pattern() + "\""));
            }
        }
        if (defaultRoute instanceof DefaultRoute.ToShard toShard) {
            return Optional.of(new Route(databaseId, shards.get(toShard.shard()), databaseId, "default"));
        }
        if (defaultRoute instanceof DefaultRoute.Hash hash) {
            return Optional.of(new Route(databaseId, shards.get(rendezvous(hash.shards(), databaseId)), databaseId,
                    "hash"));
        }
        return Optional.empty();
    }

    private Route resolve(String databaseId, RouteConfig route, String matchedBy) {
        String database = route.database() == null ? databaseId : route.database();
        ShardConfig shard = shards.get(route.shard());
        RouteConfig.PoolOverride pool = route.pool();
        return new Route(databaseId, shard, database, matchedBy,
                route.forcedUser() == null ? shard.identity() : route.forcedUser(),
                pool == null ? shard.pool() : shard.pool().overriddenBy(pool.mode(), pool.size()));
    }

    /**
     * Rendezvous (highest random weight) hashing: every shard scores the name, the highest score wins. Adding a
     * shard moves only the names the new shard now wins; the hash is fixed so every process agrees.
     */
    static String rendezvous(List<String> candidates, String databaseId) {
        String best = null;
        long bestScore = 0;
        for (String shard : candidates) {
            long score = hash64(shard + '\0' + databaseId);
            if (best == null || Long.compareUnsigned(score, bestScore) > 0) {
                best = shard;
                bestScore = score;
            }
        }
        return best;
    }

    /** FNV-1a over the UTF-8 bytes, then MurmurHash3's 64-bit finalizer to spread nearby inputs. */
    static long hash64(String text) {
        long hash = 0xcbf29ce484222325L;
        for (byte b : text.getBytes(StandardCharsets.UTF_8)) {
            hash ^= b & 0xff;
            hash *= 0x100000001b3L;
        }
        hash ^= hash >>> 33;
        hash *= 0xff51afd7ed558ccdL;
        hash ^= hash >>> 33;
        hash *= 0xc4ceb9fe1a85ec53L;
        hash ^= hash >>> 33;
        return hash;
    }

    /** One line per route, then the default: what {@code pgstitch check-config} prints. */
    public List<String> describe() {
        List<String> lines = new ArrayList<>();
        List<RouteConfig> all = new ArrayList<>(exact.values());
        all.sort(Comparator.comparing(RouteConfig::pattern));
        all.addAll(patterns);
        int width = all.stream().mapToInt(route -> route.pattern().length()).max().orElse(0);
        for (RouteConfig route : all) {
            ShardConfig shard = shards.get(route.shard());
            String database = route.database() == null
                    ? (route.isGlob() ? "(same as database ID)" : route.pattern()) : route.database();
            BackendIdentity identity = route.forcedUser() == null ? shard.identity() : route.forcedUser();
            RouteConfig.PoolOverride pool = route.pool();
            PoolConfig pooling = pool == null ? shard.pool() : shard.pool().overriddenBy(pool.mode(), pool.size());
            lines.add(String.format("%-" + Math.max(width, 1) + "s -> %s (%s:%d) database %s %s, %s pooling (%d)%s",
                    route.pattern(), shard.name(), shard.host(), shard.port(), database, identity.describe(),
                    pooling.mode().spelling(), pooling.size(), route.isGlob() ? "  [pattern]" : ""));
        }
        if (defaultRoute instanceof DefaultRoute.ToShard toShard) {
            lines.add("(default) -> " + toShard.shard() + ", database = database ID, "
                    + shards.get(toShard.shard()).identity().describe());
        } else if (defaultRoute instanceof DefaultRoute.Hash hash) {
            List<String> identities = hash.shards().stream().map(name -> shards.get(name).identity().describe())
                    .distinct().toList();
            String as = identities.size() == 1 ? identities.get(0) : String.join("; ", hash.shards().stream()
                    .map(name -> "on " + name + " " + shards.get(name).identity().describe()).toList());
            lines.add("(default) -> rendezvous hash over " + String.join(", ", hash.shards())
                    + ", database = database ID, " + as);
        } else {
            lines.add("(default) -> reject (FATAL 3D000)");
        }
        return lines;
    }
}
