package io.pgstitch.it.support;

import io.pgstitch.proxy.postgres.PostgresServer;

import java.util.List;

/** The shards of the test run: shard1..shardN, started once per JVM by {@link PostgresExtension}. */
public final class PostgresCluster implements AutoCloseable {

    private final List<PostgresServer> shards;
    private final String description;

    PostgresCluster(List<PostgresServer> shards, String description) {
        this.shards = List.copyOf(shards);
        this.description = description;
    }

    /** Shard {@code number}, counting from 1 like the names shard1, shard2. */
    public PostgresServer shard(int number) {
        return shards.get(number - 1);
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
        shards.forEach(PostgresServer::close);
    }
}
