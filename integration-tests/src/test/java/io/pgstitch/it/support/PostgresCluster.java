package io.pgstitch.it.support;

import io.pgstitch.proxy.postgres.PostgresServer;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The shards of the test run, named shard1..shardN and started once per JVM by {@link PostgresExtension}.
 * They are {@link PostgresServer}s rather than LocalPostgres because the testcontainers backend runs them in
 * Docker; a test that must kill or restart a server starts a LocalPostgres of its own.
 */
public final class PostgresCluster implements AutoCloseable {

    private final Map<String, PostgresServer> shards = new LinkedHashMap<>();
    private final String description;

    PostgresCluster(List<PostgresServer> servers, String description) {
        for (PostgresServer server : servers) {
            shards.put("shard" + (shards.size() + 1), server);
        }
        this.description = description;
    }

    /** Shard {@code number}, counting from 1 like the names shard1, shard2. */
    public PostgresServer shard(int number) {
        return shard("shard" + number);
    }

    /** The shard called {@code name}: shard1..shardN. */
    public PostgresServer shard(String name) {
        PostgresServer server = shards.get(name);
        if (server == null) {
            throw new IllegalArgumentException("no shard " + name + "; this run has " + shards.keySet());
        }
        return server;
    }

    public int size() {
        return shards.size();
    }

    /** Which PostgreSQL runs, for test output: e.g. "embedded postgres (PostgreSQL) 18.6". */
    public String description() {
        return description;
    }

    @Override
    public void close() {
        shards.values().forEach(PostgresServer::close);
    }
}
