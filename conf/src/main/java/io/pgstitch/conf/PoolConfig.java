package io.pgstitch.conf;

import java.time.Duration;

/**
 * {@code shards.NAME.pool}: how backend connections to one shard are pooled. Each (database, user, startup
 * parameters) combination has its own pool of at most {@code size} connections.
 *
 * @param mode           when a backend goes back to its pool
 * @param size           the most backend connections one pool opens
 * @param minIdle        idle connections kept open (opened ahead of demand)
 * @param idleTimeout    an idle connection older than this (since last use) is closed
 * @param maxLifetime    a connection older than this is closed when it is next released
 * @param connectTimeout how long connecting and logging in to the shard may take
 * @param waitTimeout    how long a client waits for a connection of an exhausted pool before 53300
 * @param resetQuery     run before a connection is reused by another client
 */
public record PoolConfig(PoolMode mode, int size, int minIdle, Duration idleTimeout, Duration maxLifetime,
                         Duration connectTimeout, Duration waitTimeout, String resetQuery) {

    public static PoolConfig defaults() {
        return new PoolConfig(PoolMode.SESSION, 20, 0, Duration.ofMinutes(10), Duration.ofHours(1),
                Duration.ofSeconds(10), Duration.ofSeconds(30), "DISCARD ALL");
    }
}
