package io.pgstitch.conf;

import com.fasterxml.jackson.databind.JsonNode;

import java.nio.file.Path;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * Reads {@code shards} (each shard's address, roles, TLS, pool and connection limit) for {@link ConfigReader},
 * with the same path-qualified problems. At least one shard is required.
 */
final class ShardsSection {

    private static final Pattern SHARD_NAME = Pattern.compile("[A-Za-z0-9_-]+");

    private final ConfigValues values;
    private final List<String> problems;

    ShardsSection(ConfigValues values) {
        this.values = values;
        this.problems = values.problems();
    }

    Map<String, ShardConfig> read(JsonNode node) {
        Map<String, ShardConfig> shards = new LinkedHashMap<>();
        if (node == null || node.isNull() || (node.isObject() && node.isEmpty())) {
            problems.add("shards: at least one shard is required");
            return shards;
        }
        if (!values.mapping(node, "shards")) {
            return shards;
        }
        for (Iterator<Map.Entry<String, JsonNode>> it = node.properties().iterator(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> entry = it.next();
            String name = entry.getKey();
            String path = "shards." + name;
            if (!SHARD_NAME.matcher(name).matches()) {
                problems.add(path + ": a shard name may use only letters, digits, '_' and '-'");
            }
            JsonNode shard = entry.getValue();
            if (!values.mapping(shard, path)) {
                continue;
            }
            values.keys(shard, path, "host", "port", "user", "password", "admin_user", "admin_password", "tls",
                    "tls_ca", "pool", "max_connections", "require_auth");
            JsonNode pool = values.child(shard, path, "pool");
            values.keys(pool, path + ".pool", "mode", "size", "min_idle", "idle_timeout", "max_lifetime",
                    "max_prepared_statements", "session_features",
                    "connect_timeout", "wait_timeout", "server_reset_query");
            String user = values.role(shard, path, "user", "password");
            String adminUser = values.role(shard, path, "admin_user", "admin_password");
            ShardTlsMode tls = values.enumValue(shard, path, "tls", ShardTlsMode.class, ShardTlsMode.DISABLE);
            Path tlsCa = values.path(shard, path, "tls_ca");
            if (tls.verifies() && tlsCa == null) {
                problems.add(path + ".tls_ca: required with tls: " + tls.spelling()
                        + " (the CA file the shard's certificate must chain to)");
            }
            shards.put(name, new ShardConfig(name, values.nonEmpty(shard, path, "host", "127.0.0.1"),
                    values.integer(shard, path, "port", 5432, 1, 65535), user,
                    values.string(shard, path, "password", null), adminUser,
                    values.string(shard, path, "admin_password", null), tls, tlsCa, pool(pool, path + ".pool"),
                    values.integer(shard, path, "max_connections", ShardConfig.DEFAULT_MAX_CONNECTIONS, 1, 100_000),
                    requireAuth(shard, path)));
        }
        return shards;
    }

    private RequireAuth requireAuth(JsonNode shard, String path) {
        String text = values.string(shard, path, "require_auth", null);
        if (text == null) {
            return null;
        }
        try {
            return RequireAuth.parse(text);
        } catch (IllegalArgumentException e) {
            problems.add(path + ".require_auth: " + e.getMessage());
            return null;
        }
    }

    private PoolConfig pool(JsonNode node, String path) {
        PoolConfig defaults = PoolConfig.defaults();
        int size = values.integer(node, path, "size", defaults.size(), 1, 10_000);
        int minIdle = values.integer(node, path, "min_idle", defaults.minIdle(), 0, 10_000);
        if (minIdle > size) {
            problems.add(path + ".min_idle: must not exceed size (" + size + "), got " + minIdle);
        }
        return new PoolConfig(values.enumValue(node, path, "mode", PoolMode.class, defaults.mode()), size, minIdle,
                values.duration(node, path, "idle_timeout", defaults.idleTimeout()),
                values.duration(node, path, "max_lifetime", defaults.maxLifetime()),
                values.duration(node, path, "connect_timeout", defaults.connectTimeout()),
                values.duration(node, path, "wait_timeout", defaults.waitTimeout()),
                values.nonEmpty(node, path, "server_reset_query", defaults.resetQuery()),
                values.integer(node, path, "max_prepared_statements", defaults.maxPreparedStatements(), 1, 100_000),
                values.enumValue(node, path, "session_features", PoolConfig.SessionFeatures.class,
                        defaults.sessionFeatures()));
    }
}
