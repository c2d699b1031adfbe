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
 * @param maxPreparedStatements transaction and statement modes: prepared statements kept on one backend for its
 *                       clients; beyond it the least recently used is closed
 * @param sessionFeatures transaction and statement modes: what a session-only feature (LISTEN, a temporary table,
 *                       ...) does to the client that uses it
 */
public record PoolConfig(PoolMode mode, int size, int minIdle, Duration idleTimeout, Duration maxLifetime,
                         Duration connectTimeout, Duration waitTimeout, String resetQuery, int maxPreparedStatements,
                         SessionFeatures sessionFeatures) {

    /** {@code pool.session_features}. */
    public enum SessionFeatures {
        /** The client keeps its backend until it disconnects (logged once per client). */
        PIN,
        /** The statement is refused with an error naming the feature and the mode. */
        ERROR;

        public String spelling() {
            return name().toLowerCase(java.util.Locale.ROOT);
        }
    }

    /** The pool settings of the pre-transaction-pooling form, with the defaults for the others. */
    public PoolConfig(PoolMode mode, int size, int minIdle, Duration idleTimeout, Duration maxLifetime,
                      Duration connectTimeout, Duration waitTimeout, String resetQuery) {
        this(mode, size, minIdle, idleTimeout, maxLifetime, connectTimeout, waitTimeout, resetQuery, 1000,
                SessionFeatures.PIN);
    }

    public static PoolConfig defaults() {
        return new PoolConfig(PoolMode.SESSION, 20, 0, Duration.ofMinutes(10), Duration.ofHours(1),
                Duration.ofSeconds(10), Duration.ofSeconds(30), "DISCARD ALL");
    }

    /** These settings with a route's own mode and size, where it has them (null: the shard's). */
    public PoolConfig overriddenBy(PoolMode routeMode, Integer routeSize) {
        return new PoolConfig(routeMode == null ? mode : routeMode, routeSize == null ? size : routeSize,
                Math.min(minIdle, routeSize == null ? size : routeSize), idleTimeout, maxLifetime, connectTimeout,
                waitTimeout, resetQuery, maxPreparedStatements, sessionFeatures);
    }
}
