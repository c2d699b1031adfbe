package io.pgstitch.conf;

import com.fasterxml.jackson.databind.JsonNode;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;
import java.util.regex.Pattern;

/**
 * Walks the YAML tree and collects every problem as {@code path: message} instead of stopping at the first:
 * an admin fixing a file wants the whole list. Unknown keys are problems too, so a typo never silently does
 * nothing.
 */
final class ConfigReader {

    private static final Pattern SHARD_NAME = Pattern.compile("[A-Za-z0-9_-]+");

    private final ConfigValues values;
    /** The same list as {@code values.problems()}: the sections add their own cross-field problems to it. */
    private final List<String> problems;

    ConfigReader(Path baseDir, Function<String, String> env) {
        this.values = new ConfigValues(baseDir, env);
        this.problems = values.problems();
    }

    List<String> problems() {
        return problems;
    }

    ProxyConfig read(JsonNode root) {
        if (root == null || root.isMissingNode() || root.isNull()) {
            problems.add("the file is empty");
            return null;
        }
        if (!values.mapping(root, "(top level)")) {
            return null;
        }
        values.keys(root, "", "listen", "auth", "admin", "shards", "routes", "default_route", "rpc", "http",
                "logging");
        ListenConfig listen = listen(values.child(root, "", "listen"));
        AuthConfig auth = auth(values.child(root, "", "auth"));
        AdminConfig admin = admin(values.child(root, "", "admin"));
        if (admin.http() != null && admin.http().tls() && listen.tls().mode() == ListenTlsMode.DISABLE) {
            problems.add("admin.http.tls: needs TLS on the PostgreSQL port (listen.tls.mode other than disable): the "
                    + "API serves the same certificate");
        }
        Map<String, ShardConfig> shards = shards(root.get("shards"));
        List<RouteConfig> routes = routes(root.get("routes"), shards, "routes");
        routes.addAll(apiRoutes(admin.routesFile(), routes, shards));
        DefaultRoute defaultRoute = defaultRoute(root.get("default_route"), shards);
        if (auth.authQuery() != null) {
            checkLookupRoles(shards, routes, defaultRoute);
        }
        RpcConfig rpc = rpc(values.child(root, "", "rpc"));
        HttpConfig http = new HttpSection(values).read(root.get("http"), listen.tls());
        JsonNode logging = values.child(root, "", "logging");
        values.keys(logging, "logging", "format");
        LogFormat logFormat = values.enumValue(logging, "logging", "format", LogFormat.class, LogFormat.TEXT);
        return new ProxyConfig(listen, auth, admin, shards, routes, defaultRoute, rpc, http, logFormat);
    }

    private ListenConfig listen(JsonNode node) {
        values.keys(node, "listen", "host", "port", "tls", "max_client_connections",
                "max_client_connections_per_database", "shutdown_timeout", "max_message_size");
        JsonNode tls = values.child(node, "listen", "tls");
        values.keys(tls, "listen.tls", "mode", "cert", "key", "key_passphrase", "ca", "client_cert");
        ListenTlsConfig tlsConfig = new ListenTlsConfig(
                values.enumValue(tls, "listen.tls", "mode", ListenTlsMode.class, ListenTlsMode.PREFER),
                values.path(tls, "listen.tls", "cert"), values.path(tls, "listen.tls", "key"),
                values.string(tls, "listen.tls", "key_passphrase", null), values.path(tls, "listen.tls", "ca"),
                values.enumValue(tls, "listen.tls", "client_cert", ClientCertMode.class, ClientCertMode.OFF));
        if ((tlsConfig.cert() == null) != (tlsConfig.key() == null)) {
            problems.add("listen.tls: cert and key must be given together");
        }
        if (tlsConfig.keyPassphrase() != null && tlsConfig.key() == null) {
            problems.add("listen.tls.key_passphrase: given without a key (the self-signed certificate needs none)");
        }
        if (tlsConfig.clientCert() != ClientCertMode.OFF) {
            String clientCert = "listen.tls.client_cert: " + tlsConfig.clientCert().spelling();
            if (tlsConfig.ca() == null) {
                problems.add(clientCert + " needs listen.tls.ca, the CA bundle client certificates are checked "
                        + "against");
            }
            if (tlsConfig.mode() != ListenTlsMode.REQUIRE) {
                problems.add(clientCert + " needs listen.tls.mode require (a client without TLS would skip the "
                        + "certificate check), got " + tlsConfig.mode().spelling());
            }
        } else if (tlsConfig.ca() != null) {
            problems.add("listen.tls.ca: only used with client_cert verify-ca or verify-full");
        }
        return new ListenConfig(values.nonEmpty(node, "listen", "host", "127.0.0.1"),
                values.integer(node, "listen", "port", 6432, 0, 65535), tlsConfig,
                values.integer(node, "listen", "max_client_connections", 1000, 1, 1_000_000),
                values.integer(node, "listen", "max_client_connections_per_database", 0, 0, 1_000_000),
                values.duration(node, "listen", "shutdown_timeout", Duration.ofSeconds(30)),
                values.size(node, "listen", "max_message_size", ListenConfig.DEFAULT_MAX_MESSAGE_SIZE, 64 << 10,
                        ListenConfig.MAX_MESSAGE_SIZE));
    }

    private AuthConfig auth(JsonNode node) {
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
    private void checkLookupRoles(Map<String, ShardConfig> shards, List<RouteConfig> routes,
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

    private AdminConfig admin(JsonNode node) {
        values.keys(node, "admin", "users", "http", "routes_file", "metrics");
        HttpEndpoint http = null;
        JsonNode httpNode = node.get("http");
        if (httpNode != null && !httpNode.isNull() && values.mapping(httpNode, "admin.http")) {
            values.keys(httpNode, "admin.http", "host", "port", "tokens", "tls");
            String host = values.nonEmpty(httpNode, "admin.http", "host", "127.0.0.1");
            int known = problems.size();
            List<String> tokens = values.stringList(httpNode, "admin.http", "tokens");
            for (int i = 0; i < tokens.size() && problems.size() == known; i++) { // an unset variable is named once
                if (tokens.get(i).isBlank()) {
                    problems.add("admin.http.tokens[" + i + "]: empty token (an unset variable expands to nothing?)");
                }
            }
            if (tokens.isEmpty() && !isLoopback(host)) {
                problems.add("admin.http.host: " + host + " is not a loopback address, so admin.http.tokens are "
                        + "required (anyone who reaches the port could change routes and end sessions)");
            }
            http = new HttpEndpoint(host, values.integer(httpNode, "admin.http", "port", 9930, 0, 65535), tokens,
                    values.bool(httpNode, "admin.http", "tls", false));
        }
        JsonNode metrics = values.child(node, "admin", "metrics");
        values.keys(metrics, "admin.metrics", "per_database");
        return new AdminConfig(values.stringList(node, "admin", "users"), http,
                values.path(node, "admin", "routes_file"), values.bool(metrics, "admin.metrics", "per_database", false));
    }

    /** Loopback by its spelling only: a name is never resolved while a configuration is read. */
    static boolean isLoopback(String host) {
        String h = host.trim().toLowerCase(java.util.Locale.ROOT);
        return h.equals("localhost") || h.startsWith("127.") || h.equals("::1") || h.equals("[::1]");
    }

    /**
     * The routes of {@code admin.routes_file}, the file the HTTP API writes: same format as {@code routes} under a
     * top-level {@code routes} key; a missing file has none. A database ID may be routed by one file only.
     */
    private List<RouteConfig> apiRoutes(Path file, List<RouteConfig> mainRoutes, Map<String, ShardConfig> shards) {
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
        List<RouteConfig> routes = routes(root.get("routes"), shards, section);
        for (RouteConfig route : routes) {
            if (mainRoutes.stream().anyMatch(main -> main.pattern().equals(route.pattern()))) {
                problems.add(section + "." + route.pattern() + ": also routed in the configuration file (a route "
                        + "belongs to one of the two)");
            }
        }
        return routes;
    }

    private Map<String, ShardConfig> shards(JsonNode node) {
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
            String user = role(shard, path, "user", "password");
            String adminUser = role(shard, path, "admin_user", "admin_password");
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

    /**
     * An optional role name and its optional password: a password without the name is a problem (it would be
     * silently unused), and so is a name PostgreSQL could never have.
     */
    private String role(JsonNode node, String path, String userKey, String passwordKey) {
        String user = values.string(node, path, userKey, null);
        if (user == null) {
            if (node.hasNonNull(passwordKey)) {
                problems.add(path + "." + passwordKey + ": given without " + userKey
                        + " (whose password it would be)");
            }
            return null;
        }
        values.checkName(path + "." + userKey, "user name", user);
        return user.isEmpty() ? null : user;
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

    private List<RouteConfig> routes(JsonNode node, Map<String, ShardConfig> shards, String section) {
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
                String user = role(value, path, "user", "password");
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

    private DefaultRoute defaultRoute(JsonNode node, Map<String, ShardConfig> shards) {
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

    private RpcConfig rpc(JsonNode node) {
        values.keys(node, "rpc", "functions", "split", "in_transaction", "pool_size", "timeout");
        List<String> functions = values.stringList(node, "rpc", "functions");
        for (int i = 0; i < functions.size(); i++) {
            if (functions.get(i).isBlank()) {
                problems.add("rpc.functions[" + i + "]: empty pattern");
            }
        }
        return new RpcConfig(functions, values.enumValue(node, "rpc", "split", RpcSplit.class, RpcSplit.RPC_ONLY),
                values.enumValue(node, "rpc", "in_transaction", RpcInTransaction.class, RpcInTransaction.REJECT),
                values.integer(node, "rpc", "pool_size", 4, 1, 10_000), values.duration(node, "rpc", "timeout",
                Duration.ofMinutes(15)));
    }

    private static String known(Map<String, ShardConfig> shards) {
        return shards.isEmpty() ? "" : " (shards: " + String.join(", ", shards.keySet()) + ")";
    }
}
