package io.pgstitch.conf;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The whole configuration file, validated. Immutable; a reload builds a new one.
 *
 * @param http      SQL over HTTP and WebSocket; null when off
 * @param logFormat {@code logging.format}: text (default) or JSON lines
 */
public record ProxyConfig(ListenConfig listen, AuthConfig auth, AdminConfig admin, Map<String, ShardConfig> shards,
                          List<RouteConfig> routes, DefaultRoute defaultRoute, RpcConfig rpc, HttpConfig http,
                          LogFormat logFormat) {

    public ProxyConfig {
        shards = Collections.unmodifiableMap(new LinkedHashMap<>(shards));
        routes = List.copyOf(routes);
    }

    /** Without SQL over HTTP, with text logs. */
    public ProxyConfig(ListenConfig listen, AuthConfig auth, AdminConfig admin, Map<String, ShardConfig> shards,
                       List<RouteConfig> routes, DefaultRoute defaultRoute, RpcConfig rpc) {
        this(listen, auth, admin, shards, routes, defaultRoute, rpc, null, LogFormat.TEXT);
    }
}
