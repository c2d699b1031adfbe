package io.pgstitch.conf;

import com.fasterxml.jackson.databind.JsonNode;

import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Reads {@code auth} (method, users file, rules, auth_query) for {@link ConfigReader}, with the same
 * path-qualified problems; its rules alone have patterns, addresses and TLS conditions to read.
 */
final class AuthSection {

    private final ConfigValues values;
    private final List<String> problems;

    AuthSection(ConfigValues values) {
        this.values = values;
        this.problems = values.problems();
    }

    AuthConfig read(JsonNode node) {
        values.keys(node, "auth", "method", "users_file", "allow_plaintext_password", "auth_timeout", "rules",
                "auth_query");
        AuthMethod method = values.enumValue(node, "auth", "method", AuthMethod.class, AuthMethod.TRUST,
                EnumSet.complementOf(EnumSet.of(AuthMethod.REJECT)));
        AuthConfig auth = new AuthConfig(method, values.path(node, "auth", "users_file"),
                values.bool(node, "auth", "allow_plaintext_password", false),
                values.duration(node, "auth", "auth_timeout", Duration.ofSeconds(15)), authRules(node.get("rules")),
                authQuery(node.get("auth_query")));
        if (auth.usersFile() == null && auth.authQuery() == null && auth.needsUsersFile()) {
            problems.add("auth.users_file: required when a client may be asked for a password (auth.method or a "
                    + "rule is password, md5 or scram-sha-256) and auth.auth_query is not set");
        }
        return auth;
    }

    /** {@code auth.auth_query}: absent or null is off; a mapping (even {@code {}}) turns it on. */
    private AuthQueryConfig authQuery(JsonNode node) {
        if (node == null || node.isNull() || !values.mapping(node, "auth.auth_query")) {
            return null;
        }
        String path = "auth.auth_query";
        values.keys(node, path, "query", "cache_ttl", "cache_size");
        AuthQueryConfig defaults = AuthQueryConfig.defaults();
        String query = values.nonEmpty(node, path, "query", defaults.query());
        if (!query.contains("$1")) {
            problems.add(path + ".query: must use $1 where the user name goes");
        }
        return new AuthQueryConfig(query, values.duration(node, path, "cache_ttl", defaults.cacheTtl()),
                values.integer(node, path, "cache_size", defaults.cacheSize(), 1, 10_000_000));
    }

    /**
     * auth_query runs as the admin_user of the shard a client is routed to, so every shard a route or the default
     * route may pick needs one; a shard nothing routes to does not.
     */
    void checkLookupRoles(Map<String, ShardConfig> shards, List<RouteConfig> routes,
                                  DefaultRoute defaultRoute) {
        Set<String> reachable = new LinkedHashSet<>();
        routes.forEach(route -> reachable.add(route.shard()));
        if (defaultRoute instanceof DefaultRoute.ToShard toShard) {
            reachable.add(toShard.shard());
        } else if (defaultRoute instanceof DefaultRoute.Hash hash) {
            reachable.addAll(hash.shards());
        }
        for (ShardConfig shard : shards.values()) {
            if (reachable.contains(shard.name()) && shard.adminUser() == null) {
                problems.add("shards." + shard.name() + ".admin_user: required because auth.auth_query is set (the "
                        + "role that looks users up on this shard)");
            }
        }
    }

    /** {@code auth.rules}: a list of mappings, each with optional conditions and a required method. */
    private List<AuthRule> authRules(JsonNode list) {
        List<AuthRule> rules = new ArrayList<>();
        if (list == null || list.isNull()) {
            return rules;
        }
        if (!list.isArray()) {
            problems.add("auth.rules: must be a list of rules, got " + ConfigValues.describe(list));
            return rules;
        }
        for (int i = 0; i < list.size(); i++) {
            String path = "auth.rules[" + i + "]";
            JsonNode rule = list.get(i);
            if (!values.mapping(rule, path)) {
                continue;
            }
            values.keys(rule, path, "database", "user", "address", "tls", "method");
            AuthMethod method = values.enumValue(rule, path, "method", AuthMethod.class, null);
            if (method == null) {
                if (rule.get("method") == null || rule.get("method").isNull()) {
                    problems.add(path + ".method: required (trust, password, md5, scram-sha-256 or reject)");
                }
                continue;
            }
            rules.add(new AuthRule(patterns(rule, path, "database"), patterns(rule, path, "user"),
                    address(rule, path), tlsCondition(rule, path), method));
        }
        return rules;
    }

    /** A glob pattern or a list of them; absent means any. */
    private List<String> patterns(JsonNode node, String path, String key) {
        JsonNode value = node.get(key);
        if (value != null && value.isObject()) {
            problems.add(path + "." + key + ": must be a pattern or a list of patterns, got a mapping");
            return List.of();
        }
        List<String> patterns = value != null && value.isValueNode() && !value.isNull()
                ? List.of(values.string(node, path, key, "")) : values.stringList(node, path, key);
        for (int i = 0; i < patterns.size(); i++) {
            if (patterns.get(i).isEmpty()) {
                problems.add(path + "." + key + (value.isArray() ? "[" + i + "]" : "") + ": empty pattern");
            }
        }
        return patterns;
    }

    /** A client address block; absent or {@code all} means any. */
    private Cidr address(JsonNode node, String path) {
        String text = values.string(node, path, "address", null);
        if (text == null || text.trim().equals("all")) {
            return null;
        }
        try {
            return Cidr.parse(text.trim());
        } catch (IllegalArgumentException e) {
            problems.add(path + ".address: " + e.getMessage() + " (expected an address, an address/prefix such as "
                    + "10.0.0.0/8 or ::1/128, or all)");
            return null;
        }
    }

    /** {@code tls: true | false | any}; absent means any. */
    private Boolean tlsCondition(JsonNode node, String path) {
        String text = values.string(node, path, "tls", null);
        if (text == null || text.trim().equals("any")) {
            return null;
        }
        return switch (text.trim()) {
            case "true" -> Boolean.TRUE;
            case "false" -> Boolean.FALSE;
            default -> {
                problems.add(path + ".tls: unknown value \"" + text + "\" (expected one of: true, false, any)");
                yield null;
            }
        };
    }
}
