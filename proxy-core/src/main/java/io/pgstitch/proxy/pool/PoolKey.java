package io.pgstitch.proxy.pool;

import io.pgstitch.conf.ShardConfig;

import java.util.Map;
import java.util.TreeMap;

/**
 * What makes backend connections interchangeable: the same shard (host, credentials, settings), the same
 * backend database and the same startup parameters, which become the session defaults that
 * {@code DISCARD ALL} resets to. Clients that differ in any of these never share a connection.
 */
public record PoolKey(ShardConfig shard, String database, Map<String, String> parameters) {

    public PoolKey {
        parameters = java.util.Collections.unmodifiableMap(new TreeMap<>(parameters));
    }

    public String describe() {
        return "shard \"" + shard.name() + "\", database \"" + database + "\", user \"" + shard.user() + "\"";
    }
}
