package io.pgstitch.conf;

/**
 * One entry of {@code routes}: a database ID or glob pattern, the shard, and the backend database (null: the
 * database ID itself).
 *
 * @param forcedUser the route's own {@code user}/{@code password}; null: the shard's identity applies
 * @param pool       the route's own {@code pool: {mode, size}}; null: the shard's pool settings apply
 */
public record RouteConfig(String pattern, String shard, String database, BackendIdentity.Forced forcedUser,
                          PoolOverride pool) {

    /** {@code routes.NAME.pool}: a null field keeps the shard's value. */
    public record PoolOverride(PoolMode mode, Integer size) {
    }

    /** A route without a forced user or pool settings of its own. */
    public RouteConfig(String pattern, String shard, String database) {
        this(pattern, shard, database, null, null);
    }

    /** A route without pool settings of its own. */
    public RouteConfig(String pattern, String shard, String database, BackendIdentity.Forced forcedUser) {
        this(pattern, shard, database, forcedUser, null);
    }

    public boolean isGlob() {
        return Glob.isGlob(pattern);
    }
}
