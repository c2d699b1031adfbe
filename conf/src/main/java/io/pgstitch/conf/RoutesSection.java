package io.pgstitch.conf;

import com.fasterxml.jackson.databind.JsonNode;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

/**
 * Reads {@code routes}, the routes of {@code admin.routes_file} and {@code default_route} for {@link ConfigReader},
 * with the same path-qualified problems: each route names a shard of {@code shards}, read before.
 */
final class RoutesSection {

    private final ConfigValues values;
    private final List<String> problems;

    RoutesSection(ConfigValues values) {
        this.values = values;
        this.problems = values.problems();
    }

    List<RouteConfig> read(JsonNode node, Map<String, ShardConfig> shards, String section) {
        List<RouteConfig> routes = new ArrayList<>();
        if (node == null || node.isNull() || !values.mapping(node, section)) {
            return routes;
        }
        for (Iterator<Map.Entry<String, JsonNode>> it = node.properties().iterator(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> entry = it.next();
            String pattern = entry.getKey();
            String path = section + "." + pattern;
            values.checkName(path, "route", pattern);
            if (pattern.equals("pgstitch") || pattern.equals("pgbouncer")) { // the console answers to these names
                problems.add(path + ": \"" + pattern + "\" is the admin console's database; a route for it would "
                        + "never be used");
            }
            JsonNode value = entry.getValue();
            String shard;
            String database = null;
            BackendIdentity.Forced forcedUser = null;
            String shardPath = path;
            if (value != null && value.isObject()) {
                values.keys(value, path, "shard", "database", "user", "password", "pool");
                shard = values.string(value, path, "shard", null);
                shardPath = path + ".shard";
                if (shard == null) {
                    problems.add(shardPath + ": required");
                    continue;
                }
                database = values.string(value, path, "database", null);
                if (database != null) {
                    values.checkName(path + ".database", "database name", database);
                }
                String user = values.role(value, path, "user", "password");
                if (user != null) {
                    forcedUser = new BackendIdentity.Forced(user, values.string(value, path, "password", null), path);
                }
            } else if (value != null && value.isValueNode() && !value.isNull()) {
                shard = values.expand(path, value.asText());
            } else {
                problems.add(path + ": must be a shard name or { shard: ..., database: ..., user: ... }");
                continue;
            }
            if (!shards.containsKey(shard)) {
                problems.add(shardPath + ": unknown shard \"" + shard + "\"" + known(shards));
                continue;
            }
            routes.add(new RouteConfig(pattern, shard, database, forcedUser, routePool(value, path)));
        }
        return routes;
    }

    /** {@code routes.NAME.pool}: the route's own mode and size; null when it has none. */
    private RouteConfig.PoolOverride routePool(JsonNode route, String path) {
        JsonNode pool = route != null && route.isObject() && route.has("pool") ? values.child(route, path, "pool")
                : null;
        if (pool == null) {
            return null;
        }
        values.keys(pool, path + ".pool", "mode", "size");
        PoolMode mode = pool.has("mode") ? values.enumValue(pool, path + ".pool", "mode", PoolMode.class, null) : null;
        Integer size = pool.has("size") ? values.integer(pool, path + ".pool", "size", 1, 1, 10_000) : null;
        return new RouteConfig.PoolOverride(mode, size);
    }

    DefaultRoute defaultRoute(JsonNode node, Map<String, ShardConfig> shards) {
        if (node == null || node.isNull()) {
            return new DefaultRoute.Reject();
        }
        if (node.isValueNode()) {
            String value = values.expand("default_route", node.asText());
            if (value.equals("reject")) {
                return new DefaultRoute.Reject();
            }
            if (!shards.containsKey(value)) {
                problems.add("default_route: unknown shard \"" + value + "\" (expected reject, a shard name or "
                        + "{ hash: [...] })" + known(shards));
            }
            return new DefaultRoute.ToShard(value);
        }
        if (!values.mapping(node, "default_route")) {
            return new DefaultRoute.Reject();
        }
        values.keys(node, "default_route", "hash");
        JsonNode list = node.get("hash");
        if (list == null || !list.isArray() || list.isEmpty()) {
            problems.add("default_route.hash: must be a non-empty list of shard names");
            return new DefaultRoute.Reject();
        }
        List<String> names = new ArrayList<>();
        for (int i = 0; i < list.size(); i++) {
            String name = values.expand("default_route.hash[" + i + "]", list.get(i).asText());
            if (!shards.containsKey(name)) {
                problems.add("default_route.hash[" + i + "]: unknown shard \"" + name + "\"" + known(shards));
            } else if (names.contains(name)) {
                problems.add("default_route.hash[" + i + "]: shard \"" + name + "\" is listed twice");
            } else {
                names.add(name);
            }
        }
        return new DefaultRoute.Hash(names);
    }

    /**
     * The routes of {@code admin.routes_file}, the file the HTTP API writes: same format as {@code routes} under a
     * top-level {@code routes} key; a missing file has none. A database ID may be routed by one file only.
     */
    List<RouteConfig> apiRoutes(Path file, List<RouteConfig> mainRoutes, Map<String, ShardConfig> shards) {
        if (file == null) {
            return List.of();
        }
        JsonNode root;
        try {
            root = RoutesFile.readTree(file);
        } catch (java.io.IOException e) {
            problems.add("admin.routes_file: " + file + " cannot be read: " + e.getMessage());
            return List.of();
        }
        if (root == null) {
            return List.of();
        }
        String section = "admin.routes_file " + file.getFileName() + ": routes";
        if (!values.mapping(root, section)) {
            return List.of();
        }
        values.keys(root, section, "routes");
        List<RouteConfig> routes = read(root.get("routes"), shards, section);
        for (RouteConfig route : routes) {
            if (mainRoutes.stream().anyMatch(main -> main.pattern().equals(route.pattern()))) {
                problems.add(section + "." + route.pattern() + ": also routed in the configuration file (a route "
                        + "belongs to one of the two)");
            }
        }
        return routes;
    }

    private static String known(Map<String, ShardConfig> shards) {
        return shards.isEmpty() ? "" : " (shards: " + String.join(", ", shards.keySet()) + ")";
    }
}
